// Small outputs (recipes, exports, measurements, results, chart images) are written to a temp file beside the target
// and renamed, so a crash or a full disk never leaves half a file where a good one was.
import { promises as fsp } from "node:fs";

/** Strings are written as UTF-8. */
export async function writeFileAtomically(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fsp.writeFile(tmp, data);
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
