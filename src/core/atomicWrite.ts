// Small text outputs (recipes, exports, measurements) are written to a temp file beside the target
// and renamed, so a crash or a full disk never leaves half a file where a good one was.
import { promises as fsp } from "node:fs";

export async function writeFileAtomically(target: string, text: string): Promise<void> {
  const tmp = `${target}.tmp-${process.pid}-${Date.now()}`;
  try {
    await fsp.writeFile(tmp, text, "utf8");
    await fsp.rename(tmp, target);
  } catch (e) {
    await fsp.rm(tmp, { force: true });
    throw e;
  }
}
