// Replacing a GGUF's chat template in place, safely (no vscode import: plain Node).
// Order: write the new file next to the original (the core writer's temp+verify+rename), check
// the template reads back, rename the original to a backup, rename the new file into place. On
// any failure the original stays (or is renamed back) and the new file is removed.
import { randomBytes } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { GgufValueType, parseSplitName, writeGgufWithMetadata } from "../../core/gguf/index";
import { readGgufTemplates } from "../../core/templates/sources";

export interface ReplaceResult {
  /** The original path, now holding the new template. */
  readonly output: string;
  /** Where the original bytes are now. */
  readonly backup: string;
}

async function exists(p: string): Promise<boolean> {
  return fsp.access(p).then(() => true, () => false);
}

/** `<file>.bak`, or `<file>.bak-N` with the first N that is free. */
export async function nextBackupPath(file: string): Promise<string> {
  if (!(await exists(`${file}.bak`))) return `${file}.bak`;
  for (let n = 1; ; n++) if (!(await exists(`${file}.bak-${n}`))) return `${file}.bak-${n}`;
}

export async function replaceTemplateKeepingBackup(options: {
  readonly source: string;
  readonly key: string;
  readonly template: string;
  readonly signal?: AbortSignal;
  readonly onProgress?: (fraction: number) => void;
}): Promise<ReplaceResult> {
  const { source, key, template } = options;
  if (parseSplitName(source)) throw new Error(`${path.basename(source)} is a shard of a split model: save the template into a new GGUF instead`);
  const staged = path.join(path.dirname(source), `.${path.basename(source)}.${randomBytes(6).toString("hex")}.new.gguf`);
  try {
    await writeGgufWithMetadata({ input: source, output: staged, edits: { set: [{ key, type: GgufValueType.STRING, value: template }] }, signal: options.signal, onProgress: options.onProgress });
    if ((await readGgufTemplates(staged)).templates.get(key) !== template) throw new Error(`the new file's ${key} does not read back identical`);
    if (options.signal?.aborted) throw new Error("cancelled");
    const backup = await nextBackupPath(source);
    await fsp.rename(source, backup);
    try {
      await fsp.rename(staged, source);
    } catch (e) {
      await fsp.rename(backup, source); // put the original back where it was
      throw e;
    }
    return { output: source, backup };
  } finally {
    await fsp.rm(staged, { force: true }).catch(() => undefined);
  }
}
