// Every temp file GGUF Studio writes beside an output is named
//   .<output name>.gguf-studio-<pid>-<random>.partial[<suffix>]
// and every temp folder in the OS temp folder `gguf-studio-<purpose>-<pid>-XXXXXX`, so a leftover
// says what it was for and which process made it. A process that is gone cannot finish its
// temp file: the next run in that folder (and the Models view) sweeps it. Outputs are renamed
// into place without replacing an existing file unless the caller says so.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const TAG = "gguf-studio";
/** Ours: `.<target>.gguf-studio-<pid>-<hex>.partial…`. */
const TEMP_RE = /^\.(.+)\.gguf-studio-(\d+)-[0-9a-f]{6,}\.partial(?:[-.].*)?$/;
/** Names earlier versions used (and the quantize job's probe/calibration files). */
const LEGACY_PID_RE = [/^\.(.+)\.partial-(\d+)-[0-9a-f]+\.gguf$/, /^\.gguf-studio-(?:probe|calib)-(\d+)-[0-9a-z]+(?:\.txt)?$/];
const LEGACY_NO_PID_RE = [/^\..+\.[0-9a-f]{12}\.(?:tmp|new\.gguf)$/, /^.+\.tmp-\d+-\d+$/];
const TEMP_FOLDER_RE = /^gguf-studio-[a-z]+-(\d+)-[A-Za-z0-9]{6}$/;

/** A temp path beside `target`; `suffix` keeps an extension a tool insists on (".gguf"). */
export function tempPathFor(target: string, suffix = ""): string {
  const rand = crypto.randomBytes(4).toString("hex");
  return path.join(path.dirname(target), `.${path.basename(target)}.${TAG}-${process.pid}-${rand}.partial${suffix}`);
}

/** The pid a temp file name carries, undefined when it is not one of ours or carries none. */
export function tempFileOwner(name: string): number | undefined {
  const m = TEMP_RE.exec(name);
  if (m) return Number(m[2]);
  for (const re of LEGACY_PID_RE) {
    const l = re.exec(name);
    if (l) return Number(l[l.length - 1]);
  }
  return undefined;
}

/** True for any temp name GGUF Studio writes or wrote: never a model to list. */
export function isTempFileName(name: string): boolean {
  return tempFileOwner(name) !== undefined || LEGACY_NO_PID_RE.some((re) => re.test(name));
}

export function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Temp files in `dir` whose process is gone (ours and named legacy ones; never another live process's). */
export async function findStaleTemps(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(dir);
  } catch {
    return [];
  }
  return names.filter((n) => {
    const pid = tempFileOwner(n);
    return pid !== undefined && !isProcessAlive(pid);
  }).map((n) => path.join(dir, n));
}

/** Removes stale temps in `dir` (see findStaleTemps); returns what was removed. */
export async function sweepStaleTemps(dir: string): Promise<string[]> {
  const removed: string[] = [];
  for (const p of await findStaleTemps(dir)) {
    if (await fs.promises.rm(p, { force: true, recursive: true }).then(() => true, () => false)) removed.push(p);
  }
  return removed;
}

/** `gguf-studio-<purpose>-<pid>-XXXXXX` in the OS temp folder, tracked for removal on exit. */
export async function makeTempFolder(purpose: string): Promise<string> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), `${TAG}-${purpose}-${process.pid}-`));
  trackTemp(dir);
  return dir;
}

/** Removes a folder made by makeTempFolder (quietly) and stops tracking it. */
export async function removeTempFolder(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true }).catch(() => undefined);
  untrackTemp(dir);
}

/** Temp folders of processes that are gone, in the OS temp folder; returns what was removed. */
export async function sweepStaleTempFolders(root = os.tmpdir()): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.promises.readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const n of names) {
    const m = TEMP_FOLDER_RE.exec(n);
    if (!m || isProcessAlive(Number(m[1]))) continue;
    const p = path.join(root, n);
    if (await fs.promises.rm(p, { recursive: true, force: true }).then(() => true, () => false)) removed.push(p);
  }
  return removed;
}

// Temp paths this process has open; removed synchronously if the process exits before it renames
// or removes them itself (a second Ctrl-C, an uncaught error).
const live = new Set<string>();
let exitHookInstalled = false;

export function trackTemp(p: string): void {
  live.add(p);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", removeTrackedTempsSync);
  }
}

export function untrackTemp(p: string): void {
  live.delete(p);
}

export function removeTrackedTempsSync(): void {
  for (const p of live) {
    try { fs.rmSync(p, { recursive: true, force: true }); } catch { /* best effort on the way out */ }
  }
  live.clear();
}

/** An output exists and replacing it was not confirmed (CLI: --overwrite; extension: a modal). */
export class OutputExistsError extends Error {
  readonly code = "output-exists";
  constructor(readonly paths: readonly string[]) {
    super(`${paths.join(", ")} already exist${paths.length === 1 ? "s" : ""}; pass --overwrite to replace ${paths.length === 1 ? "it" : "them"}, or choose another name`);
    this.name = "OutputExistsError";
  }
}

/** Fails when an output is a folder, or exists and `overwrite` is false. */
export async function refuseExistingOutputs(paths: readonly string[], overwrite: boolean): Promise<void> {
  const existing: string[] = [];
  for (const p of paths) {
    const st = await fs.promises.lstat(p).catch(() => undefined);
    if (!st) continue;
    if (st.isDirectory()) throw new Error(`${p} is a directory; name a file to write`);
    existing.push(p);
  }
  if (existing.length > 0 && !overwrite) throw new OutputExistsError(existing);
}

/**
 * Moves a finished temp file to `target`. Without `overwrite` it never replaces a file that
 * appeared meanwhile: link() fails on an existing name, atomically, where rename() would replace it.
 */
export async function renameIntoPlace(temp: string, target: string, overwrite: boolean): Promise<void> {
  if (overwrite) {
    await fs.promises.rename(temp, target);
  } else {
    try {
      await fs.promises.link(temp, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "EEXIST") throw new OutputExistsError([target]);
      // File systems without hard links: check, then rename (a small window, but no silent loss
      // of a file that existed when the command started).
      if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV") throw e;
      await refuseExistingOutputs([target], false);
      await fs.promises.rename(temp, target);
      untrackTemp(temp);
      return;
    }
    await fs.promises.rm(temp, { force: true });
  }
  untrackTemp(temp);
}
