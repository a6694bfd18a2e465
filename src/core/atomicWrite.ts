// Small outputs (recipes, exports, measurements, results, chart images) are written to a temp file beside the target
// and renamed, so a crash or a full disk never leaves half a file where a good one was.
import { promises as fsp } from "node:fs";
import { renameIntoPlace, tempPathFor, trackTemp, untrackTemp } from "./tempFiles";

export interface AtomicWriteOptions {
  /** Replace an existing target (default true: caches and stores rewrite their own files). User-named outputs pass false unless confirmed. */
  readonly overwrite?: boolean;
}

/** Strings are written as UTF-8. */
export async function writeFileAtomically(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const tmp = tempPathFor(target);
  trackTemp(tmp);
  try {
    await fsp.writeFile(tmp, data, { flag: "wx" });
    await renameIntoPlace(tmp, target, options.overwrite ?? true);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    untrackTemp(tmp);
    throw e;
  }
}
