// Split sets as llama-gguf-split writes them: "<prefix>-00001-of-00003.gguf", each shard carrying
// split.no / split.count / split.tensors.count, the model metadata in the first shard.
import { promises as fsp } from "node:fs";
import nodePath from "node:path";
import { GgufError } from "./errors";
import { metadataNumber } from "./metadata";
import { readGgufFile, ReadGgufOptions } from "./reader";
import { GgufFile, GgufModel, GgufShardInfo, GgufTensorInfo } from "./types";
import { displayName } from "../../shared/displayText";

const SPLIT_NAME_RE = /^(.*)-(\d{5})-of-(\d{5})\.gguf$/;

export interface SplitName {
  readonly prefix: string;
  /** 0-based. */
  readonly index: number;
  readonly count: number;
}

/** Parses "<prefix>-0000i-of-0000n.gguf"; undefined for other names. */
export function parseSplitName(path: string): SplitName | undefined {
  const m = SPLIT_NAME_RE.exec(path);
  if (!m) return undefined;
  return { prefix: m[1], index: Number(m[2]) - 1, count: Number(m[3]) };
}

/** llama.cpp's llama_split_path: "<prefix>-%05d-of-%05d.gguf", index 0-based. */
export function splitShardPath(prefix: string, index: number, count: number): string {
  return `${prefix}-${String(index + 1).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.gguf`;
}

/** Paths of every shard of the set `path` belongs to (just [path] when it is not split). */
export function splitShardPaths(path: string, file: GgufFile): string[] {
  const count = metadataNumber(file.metadata, "split.count") ?? 1;
  if (count <= 1) return [path];
  const name = parseSplitName(path);
  if (!name) throw new GgufError("bad-split", `${nodePath.basename(path)} says it is shard of ${count} but is not named <prefix>-0000i-of-0000n.gguf`, undefined, path);
  if (name.count !== count) throw new GgufError("bad-split", `${nodePath.basename(path)}: name says ${name.count} shards, split.count says ${count}`, file.metadata.get("split.count")?.offset, path);
  return Array.from({ length: count }, (_, i) => splitShardPath(name.prefix, i, count));
}

function shardInfo(file: GgufFile, index: number): GgufShardInfo {
  let tensorBytes = 0;
  for (const t of file.tensors) tensorBytes += t.byteSize ?? 0;
  return { path: file.path, index, file, tensorCount: file.tensors.length, tensorBytes, fileSize: file.fileSize };
}

/** Reads a GGUF as one model: given any shard of a split set, reads all shards. */
export async function readGgufModel(path: string, options: ReadGgufOptions = {}): Promise<GgufModel> {
  const given = await readGgufFile(path, options);
  const count = metadataNumber(given.metadata, "split.count") ?? 1;
  if (count <= 1) {
    return { path, shards: [shardInfo(given, 0)], metadata: given.metadata, tensors: given.tensors, isSplit: false };
  }
  const paths = splitShardPaths(path, given);
  const givenIndex = paths.indexOf(path);
  for (const p of paths) {
    try {
      await fsp.access(p);
    } catch {
      throw new GgufError("missing-shard", `shard ${nodePath.basename(p)} of the split set is missing`, undefined, p);
    }
  }
  const shards: GgufShardInfo[] = [];
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < paths.length; i++) {
    const file = i === givenIndex && i === 0 ? given : await readGgufFile(paths[i], { ...options, shardIndex: i });
    const no = metadataNumber(file.metadata, "split.no");
    const cnt = metadataNumber(file.metadata, "split.count");
    if (no !== i || cnt !== count) {
      throw new GgufError("bad-split", `${nodePath.basename(paths[i])} has split.no=${String(no)} split.count=${String(cnt)}, expected ${i} of ${count}`, file.metadata.get("split.no")?.offset, paths[i]);
    }
    for (const t of file.tensors) {
      if (names.has(t.name)) throw new GgufError("duplicate-tensor", `tensor ${displayName(t.name)} appears in two shards`, undefined, paths[i]);
      names.add(t.name);
      tensors.push(t);
    }
    shards.push(shardInfo(file, i));
  }
  const expected = metadataNumber(shards[0].file.metadata, "split.tensors.count");
  if (expected !== undefined && expected !== tensors.length) {
    throw new GgufError("bad-split", `split.tensors.count is ${expected} but the shards hold ${tensors.length} tensors`, shards[0].file.metadata.get("split.tensors.count")?.offset, paths[0]);
  }
  return { path: paths[0], shards, metadata: shards[0].file.metadata, tensors, isSplit: true };
}
