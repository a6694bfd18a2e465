// Finds *.gguf files under a folder. Unreadable folders are skipped and reported, symlinked files
// are followed (the Hugging Face cache links snapshots to blobs), symlinked folders only once.
import { promises as fsp, type Dirent } from "node:fs";
import nodePath from "node:path";
import { isProcessAlive, isTempFileName, tempFileOwner } from "../tempFiles";

export interface ScannedFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

export interface UnreadableFolder {
  readonly path: string;
  readonly message: string;
}

export interface ScanResult {
  readonly files: ScannedFile[];
  readonly unreadable: UnreadableFolder[];
  /** GGUF Studio temp files whose process is gone (interrupted runs): never models, offered for removal. */
  readonly staleTemps: ScannedFile[];
}

export interface ScanOptions {
  /** Folder depth below the root (default 10). */
  readonly maxDepth?: number;
  readonly signal?: AbortSignal;
}

/** Folders never worth descending into. */
const SKIPPED_FOLDERS = new Set(["node_modules", ".git", ".hg", ".svn", ".locks", ".no_exist"]);

function isStaleTempName(name: string): boolean {
  const pid = tempFileOwner(name);
  return pid !== undefined && !isProcessAlive(pid);
}

/** A *.gguf name (or path) that is not one of GGUF Studio's temp files (those are never models). */
export function isGgufFileName(name: string): boolean {
  return name.toLowerCase().endsWith(".gguf") && !isTempFileName(nodePath.basename(name));
}

export async function scanForGguf(root: string, options: ScanOptions = {}): Promise<ScanResult> {
  const maxDepth = options.maxDepth ?? 10;
  const files: ScannedFile[] = [];
  const unreadable: UnreadableFolder[] = [];
  const staleTemps: ScannedFile[] = [];
  const visited = new Set<string>();

  async function walk(dir: string, depth: number): Promise<void> {
    if (options.signal?.aborted) return;
    let real: string;
    let entries: Dirent[];
    try {
      real = await fsp.realpath(dir);
      if (visited.has(real)) return;
      visited.add(real);
      entries = await fsp.readdir(dir, { withFileTypes: true });
    } catch (e) {
      unreadable.push({ path: dir, message: errorMessage(e) });
      return;
    }
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const p = nodePath.join(dir, entry.name);
      let isDir = entry.isDirectory();
      let isFile = entry.isFile();
      if (entry.isSymbolicLink()) {
        try {
          const st = await fsp.stat(p);
          isDir = st.isDirectory();
          isFile = st.isFile();
        } catch {
          continue; // a dangling link (e.g. an interrupted HF download) is not a model
        }
      }
      if (isDir) {
        if (depth < maxDepth && !SKIPPED_FOLDERS.has(entry.name)) await walk(p, depth + 1);
      } else if (isFile && isStaleTempName(entry.name)) {
        const st = await fsp.stat(p).catch(() => undefined);
        if (st) staleTemps.push({ path: p, size: st.size, mtimeMs: st.mtimeMs });
      } else if (isFile && isGgufFileName(entry.name)) {
        try {
          const st = await fsp.stat(p);
          files.push({ path: p, size: st.size, mtimeMs: st.mtimeMs });
        } catch {
          // Deleted between readdir and stat: nothing to list.
        }
      }
    }
  }

  await walk(root, 0);
  return { files, unreadable, staleTemps };
}

function errorMessage(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "EACCES" || err?.code === "EPERM") return "permission denied";
  if (err?.code === "ENOENT") return "folder not found";
  return e instanceof Error ? e.message : String(e);
}
