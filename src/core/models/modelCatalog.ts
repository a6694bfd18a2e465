// The Models view's data: GGUF files per source, grouped into models (split shards together),
// updated one file at a time so a watcher event never triggers a rescan.
import nodePath from "node:path";
import { isGgufError, llamaFileTypeName, parseSplitName, readGgufFile, splitShardPath } from "../gguf";
import type { ScannedFile } from "./folderScan";
import { formatBytes } from "../../shared/formatBytes";
export { formatBytes };

/** What the tree shows about a model, read from the header of its first (or only) file. */
export interface ModelHeaderInfo {
  readonly architecture?: string;
  readonly name?: string;
  /** "Q4_K_M", "F16", … from general.file_type; else the type holding most bytes, e.g. "mostly Q8_0". */
  readonly fileType?: string;
  /** Set when the header could not be read. */
  readonly error?: string;
}

export interface ModelGroup {
  /** Path of the first shard (or the file): stable id of the model. */
  readonly id: string;
  readonly label: string;
  readonly isSplit: boolean;
  /** Shards present on disk, in shard order. */
  readonly shards: readonly ScannedFile[];
  /** Shard count the names promise (1 for single files). */
  readonly expectedShards: number;
  /** Paths of shards the names promise but the folder lacks. */
  readonly missingShards: readonly string[];
  readonly totalSize: number;
}

/** Groups files into models: "<prefix>-0000i-of-0000n.gguf" files with one prefix and n form one model. */
export function groupModelFiles(files: readonly ScannedFile[]): ModelGroup[] {
  const singles: ModelGroup[] = [];
  const sets = new Map<string, { prefix: string; count: number; shards: Map<number, ScannedFile> }>();
  for (const f of files) {
    const split = parseSplitName(f.path);
    if (!split || split.count < 2 || split.index >= split.count) {
      singles.push({ id: f.path, label: nodePath.basename(f.path), isSplit: false, shards: [f], expectedShards: 1, missingShards: [], totalSize: f.size });
      continue;
    }
    const key = `${split.prefix}\u0000${split.count}`;
    let set = sets.get(key);
    if (!set) sets.set(key, (set = { prefix: split.prefix, count: split.count, shards: new Map() }));
    set.shards.set(split.index, f);
  }
  const groups = [...singles];
  for (const set of sets.values()) {
    const shards = [...set.shards.entries()].sort((a, b) => a[0] - b[0]).map(([, f]) => f);
    const missingShards: string[] = [];
    for (let i = 0; i < set.count; i++) if (!set.shards.has(i)) missingShards.push(splitShardPath(set.prefix, i, set.count));
    groups.push({
      id: splitShardPath(set.prefix, 0, set.count),
      label: `${nodePath.basename(set.prefix)} (${set.count} shards)`,
      isSplit: true,
      shards,
      expectedShards: set.count,
      missingShards,
      totalSize: shards.reduce((s, f) => s + f.size, 0),
    });
  }
  return groups.sort((a, b) => a.label.localeCompare(b.label) || a.id.localeCompare(b.id));
}

/** The model a file belongs to (its group id), without scanning: the first shard's path. */
export function modelIdOf(path: string): string {
  const split = parseSplitName(path);
  return split && split.count >= 2 ? splitShardPath(split.prefix, 0, split.count) : path;
}

function fileTypeLabel(name: string): string {
  return name.replace(/^MOSTLY_/, "").replace(/^ALL_/, "");
}

/** Architecture, name and file type of a GGUF, from its header (arrays left on disk). */
export async function readModelHeaderInfo(path: string): Promise<ModelHeaderInfo> {
  try {
    const file = await readGgufFile(path, { maxMaterializedArrayLength: 64 });
    const str = (k: string): string | undefined => {
      const v = file.metadata.get(k)?.value;
      return typeof v === "string" ? v : undefined;
    };
    const ft = file.metadata.get("general.file_type")?.value;
    let fileType: string | undefined;
    if (typeof ft === "number" || typeof ft === "bigint") fileType = fileTypeLabel(llamaFileTypeName(Number(ft)));
    else if (file.tensors.length > 0) {
      const bytes = new Map<string, number>();
      for (const t of file.tensors) bytes.set(t.typeName, (bytes.get(t.typeName) ?? 0) + (t.byteSize ?? 0));
      const top = [...bytes.entries()].sort((a, b) => b[1] - a[1])[0];
      if (top) fileType = `mostly ${top[0]}`;
    }
    const info: { architecture?: string; name?: string; fileType?: string } = {};
    const arch = str("general.architecture");
    const name = str("general.name");
    if (arch) info.architecture = arch;
    if (name) info.name = name;
    if (fileType) info.fileType = fileType;
    return info;
  } catch (e) {
    return { error: isGgufError(e) ? e.message : e instanceof Error ? e.message : String(e) };
  }
}

/**
 * Files of one source, kept up to date by single-file updates. Header infos are cached by
 * path + size + mtime, so an unchanged file is never read twice.
 */
export class SourceCatalog {
  private readonly files = new Map<string, ScannedFile>();
  private readonly infos = new Map<string, { stamp: string; info: ModelHeaderInfo }>();

  constructor(private readonly readInfo: (path: string) => Promise<ModelHeaderInfo> = readModelHeaderInfo) {}

  replaceAll(files: readonly ScannedFile[]): void {
    this.files.clear();
    for (const f of files) this.files.set(f.path, f);
  }

  /** Adds or updates one file; returns the id of the model it belongs to. */
  upsert(file: ScannedFile): string {
    this.files.set(file.path, file);
    return modelIdOf(file.path);
  }

  /** Removes one file; returns the id of the model it belonged to, or undefined if unknown. */
  remove(path: string): string | undefined {
    if (!this.files.delete(path)) return undefined;
    this.infos.delete(path);
    return modelIdOf(path);
  }

  /** Removes every file below a deleted folder; returns true if any was known. */
  removeUnder(folder: string): boolean {
    const prefix = folder.endsWith(nodePath.sep) ? folder : folder + nodePath.sep;
    let any = false;
    for (const p of [...this.files.keys()]) {
      if (p.startsWith(prefix)) {
        this.files.delete(p);
        this.infos.delete(p);
        any = true;
      }
    }
    return any;
  }

  has(path: string): boolean {
    return this.files.has(path);
  }

  get size(): number {
    return this.files.size;
  }

  groups(): ModelGroup[] {
    return groupModelFiles([...this.files.values()]);
  }

  /** Header info of a model (from its first present shard), cached until the file changes. */
  async info(group: ModelGroup): Promise<ModelHeaderInfo> {
    const first = group.shards[0];
    if (!first) return { error: "no shard present" };
    const stamp = `${first.size}:${first.mtimeMs}`;
    const cached = this.infos.get(first.path);
    if (cached && cached.stamp === stamp) return cached.info;
    const info = await this.readInfo(first.path);
    this.infos.set(first.path, { stamp, info });
    return info;
  }
}

