// Writes a copy of a GGUF (or of every shard of a split set) with edited metadata. Tensor data is
// streamed unchanged; each output goes to a temp file, is fsynced, re-read and checked tensor by
// tensor (SHA-256) against the source before it is renamed into place. The source is opened
// read-only and never written.
import { createHash, Hash } from "node:crypto";
import { promises as fsp } from "node:fs";
import nodePath from "node:path";
import { refuseExistingOutputs, renameIntoPlace, sweepStaleTemps, tempPathFor, trackTemp, untrackTemp } from "../tempFiles";
import { GgufError } from "./errors";
import { FileWindow } from "./fileWindow";
import { encodeHeader, HeaderEntry } from "./headerEncoder";
import { readGgufFile } from "./reader";
import { parseSplitName, splitShardPath, splitShardPaths } from "./splitSet";
import { GgufFile, GgufTensorInfo, GgufValue, GgufValueType } from "./types";
import { displayName } from "../../shared/displayText";

export interface MetadataEdit {
  readonly key: string;
  readonly type: GgufValueType;
  readonly value: GgufValue;
}

export interface MetadataEdits {
  /** Replaces the value of existing keys in place, appends new ones in this order. */
  readonly set?: readonly MetadataEdit[];
  readonly remove?: readonly string[];
}

export interface WriteGgufOptions {
  /** Any file of the source (any shard of a split set). */
  readonly input: string;
  /** Output path; for a split set, the path of its first shard ("<prefix>-00001-of-0000N.gguf"). */
  readonly output: string;
  readonly edits: MetadataEdits;
  readonly signal?: AbortSignal;
  /** 0..1 over all bytes to copy and verify. */
  readonly onProgress?: (fraction: number) => void;
  /** Replace existing output files (default false: an existing output is refused with OutputExistsError, never replaced). */
  readonly overwrite?: boolean;
  /** Test seam: runs after the temp file is written and before it is verified. */
  readonly beforeVerify?: (tempPath: string) => Promise<void>;
}

export interface WriteGgufResult {
  readonly outputs: readonly string[];
  readonly tensorCount: number;
  readonly verifiedTensorCount: number;
  readonly bytesWritten: number;
}

const COPY_CHUNK = 8 * 1024 * 1024;
/** Keys a metadata edit may not touch: they describe the file layout, not the model. */
const PROTECTED_KEYS = new Set(["general.alignment", "split.no", "split.count", "split.tensors.count"]);

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new GgufError("cancelled", "writing was cancelled");
}

/** Applies edits to a source's metadata, keeping the file's key order. */
export function applyMetadataEdits(source: GgufFile, edits: MetadataEdits): HeaderEntry[] {
  const sets = new Map<string, MetadataEdit>();
  for (const e of edits.set ?? []) {
    if (!e.key) throw new GgufError("bad-edit", "empty metadata key");
    if (PROTECTED_KEYS.has(e.key)) throw new GgufError("bad-edit", `${displayName(e.key)} describes the file layout and cannot be edited`);
    sets.set(e.key, e);
  }
  const removes = new Set(edits.remove ?? []);
  for (const k of removes) {
    if (PROTECTED_KEYS.has(k)) throw new GgufError("bad-edit", `${displayName(k)} describes the file layout and cannot be removed`);
    if (sets.has(k)) throw new GgufError("bad-edit", `${displayName(k)} is both set and removed`);
  }
  const out: HeaderEntry[] = [];
  const entries = [...source.metadata.values()];
  entries.forEach((e, i) => {
    if (removes.has(e.key)) return;
    const s = sets.get(e.key);
    // An entry that is not edited is copied as its source bytes: keys and strings that are not
    // valid UTF-8 (which the reader decodes lossily) come out byte-identical.
    const end = i + 1 < entries.length ? entries[i + 1].offset : source.tensorInfoOffset;
    out.push(s ? { key: e.key, type: s.type, value: s.value } : { key: e.key, type: e.type, value: e.value, raw: { sourceOffset: e.offset, length: end - e.offset } });
    sets.delete(e.key);
  });
  for (const s of sets.values()) out.push({ key: s.key, type: s.type, value: s.value });
  return out;
}

/** Feeds consecutive data-section bytes to the hash of whichever tensor they belong to. */
class TensorHasher {
  readonly hashes = new Map<string, string>();
  private readonly order: GgufTensorInfo[];
  private i = 0;
  private current: Hash | undefined;
  constructor(tensors: readonly GgufTensorInfo[]) {
    this.order = tensors.filter((t) => t.byteSize !== undefined).sort((a, b) => a.offset - b.offset);
  }
  /** `chunk` holds data-section bytes starting at relative offset `at`. */
  update(chunk: Buffer, at: number): void {
    const end = at + chunk.length;
    while (this.i < this.order.length) {
      const t = this.order[this.i];
      const tEnd = t.offset + (t.byteSize ?? 0);
      if (t.offset >= end) return;
      const from = Math.max(t.offset, at);
      const to = Math.min(tEnd, end);
      if (!this.current) this.current = createHash("sha256");
      if (to > from) this.current.update(chunk.subarray(from - at, to - at));
      if (tEnd > end) return;
      this.hashes.set(t.name, this.current.digest("hex"));
      this.current = undefined;
      this.i++;
    }
  }
}

/** Streams [start, end) of a file through `sink` in chunks, honouring cancellation. */
async function streamRange(w: FileWindow, start: number, end: number, signal: AbortSignal | undefined, sink: (chunk: Buffer, at: number) => Promise<void> | void): Promise<void> {
  for (let pos = start; pos < end; pos += COPY_CHUNK) {
    checkAbort(signal);
    const chunk = await w.readRaw(pos, Math.min(COPY_CHUNK, end - pos));
    await sink(chunk, pos - start);
  }
}

interface ShardJob {
  readonly source: GgufFile;
  readonly entries: HeaderEntry[];
  readonly output: string;
  readonly temp: string;
}

async function writeShard(job: ShardJob, signal: AbortSignal | undefined, progress: (bytes: number) => void): Promise<{ hashes: Map<string, string>; bytes: number }> {
  const { pieces, byteLength } = encodeHeader(job.source, job.entries);
  const src = await FileWindow.open(job.source.path);
  const out = await fsp.open(job.temp, "wx");
  const hasher = new TensorHasher(job.source.tensors);
  let written = 0;
  try {
    for (const p of pieces) {
      if (Buffer.isBuffer(p)) {
        await out.write(p);
      } else {
        await streamRange(src, p.sourceOffset, p.sourceOffset + p.length, signal, async (c) => { await out.write(c); });
      }
    }
    written = byteLength;
    if (job.source.tensorDataOffset < job.source.fileSize) {
      await streamRange(src, job.source.tensorDataOffset, job.source.fileSize, signal, async (c, at) => {
        hasher.update(c, at);
        await out.write(c);
        progress(c.length);
      });
      written += job.source.fileSize - job.source.tensorDataOffset;
    }
    await out.sync();
  } finally {
    await out.close();
    await src.close();
  }
  return { hashes: hasher.hashes, bytes: written };
}

/** Re-reads a written temp file and checks layout and every tensor's hash against the source's. */
async function verifyShard(job: ShardJob, sourceHashes: Map<string, string>, signal: AbortSignal | undefined, progress: (bytes: number) => void): Promise<number> {
  const written = await readGgufFile(job.temp);
  const src = job.source;
  if (written.tensors.length !== src.tensors.length) {
    throw new GgufError("hash-mismatch", `output has ${written.tensors.length} tensors, source has ${src.tensors.length}`, undefined, job.output);
  }
  for (let i = 0; i < src.tensors.length; i++) {
    const a = src.tensors[i];
    const b = written.tensors[i];
    if (a.name !== b.name || a.ggmlType !== b.ggmlType || a.offset !== b.offset || a.shape.join(",") !== b.shape.join(",")) {
      throw new GgufError("hash-mismatch", `tensor info ${displayName(a.name)} differs in the output`, undefined, job.output);
    }
  }
  const w = await FileWindow.open(job.temp);
  const hasher = new TensorHasher(written.tensors);
  try {
    if (written.tensorDataOffset < written.fileSize) {
      await streamRange(w, written.tensorDataOffset, written.fileSize, signal, (c, at) => {
        hasher.update(c, at);
        progress(c.length);
      });
    }
  } finally {
    await w.close();
  }
  let verified = 0;
  for (const t of src.tensors) {
    if (t.byteSize === undefined) continue;
    if (hasher.hashes.get(t.name) !== sourceHashes.get(t.name)) {
      throw new GgufError("hash-mismatch", `tensor ${displayName(t.name)} bytes differ between source and output`, t.fileOffset, job.output);
    }
    verified++;
  }
  return verified;
}

async function sameFile(a: string, b: string): Promise<boolean> {
  try {
    const [ra, rb] = await Promise.all([fsp.realpath(a), fsp.realpath(b)]);
    return ra === rb;
  } catch {
    return nodePath.resolve(a) === nodePath.resolve(b);
  }
}

async function removeQuietly(p: string): Promise<void> {
  await fsp.rm(p, { force: true }).catch(() => undefined);
}

/** Writes `output` (every shard for a split set) with `edits` applied; see the module comment. */
export async function writeGgufWithMetadata(options: WriteGgufOptions): Promise<WriteGgufResult> {
  const { signal } = options;
  checkAbort(signal);
  const first = await readGgufFile(options.input);
  const inputPaths = splitShardPaths(options.input, first);
  let outputPaths = [options.output];
  if (inputPaths.length > 1) {
    const name = parseSplitName(options.output);
    if (!name || name.count !== inputPaths.length) {
      throw new GgufError("bad-edit", `the input has ${inputPaths.length} shards; name the output <prefix>-00001-of-${String(inputPaths.length).padStart(5, "0")}.gguf`);
    }
    outputPaths = inputPaths.map((_, i) => splitShardPath(name.prefix, i, inputPaths.length));
  }
  for (const o of outputPaths) for (const i of inputPaths) {
    if (await sameFile(o, i)) throw new GgufError("same-path", `output ${o} is a source file; sources are never overwritten`, undefined, o);
  }
  await refuseExistingOutputs(outputPaths, options.overwrite === true);
  // Temp files of earlier runs that were killed (their process is gone) go first.
  for (const dir of new Set(outputPaths.map((o) => nodePath.dirname(nodePath.resolve(o))))) await sweepStaleTemps(dir);
  const jobs: ShardJob[] = [];
  for (let i = 0; i < inputPaths.length; i++) {
    const source = inputPaths[i] === options.input && inputPaths.length === 1 ? first : await readGgufFile(inputPaths[i]);
    // Model metadata lives in the first shard; the others only carry split.* keys.
    const entries = i === 0 ? applyMetadataEdits(source, options.edits) : applyMetadataEdits(source, {});
    const temp = tempPathFor(outputPaths[i]);
    jobs.push({ source, entries, output: outputPaths[i], temp });
  }
  const totalBytes = jobs.reduce((s, j) => s + 2 * Math.max(0, j.source.fileSize - j.source.tensorDataOffset), 0);
  let done = 0;
  const progress = (n: number): void => {
    done += n;
    if (totalBytes > 0) options.onProgress?.(Math.min(1, done / totalBytes));
  };
  let bytesWritten = 0;
  let verifiedTensorCount = 0;
  for (const job of jobs) trackTemp(job.temp);
  try {
    for (const job of jobs) {
      const { hashes, bytes } = await writeShard(job, signal, progress);
      bytesWritten += bytes;
      await options.beforeVerify?.(job.temp);
      verifiedTensorCount += await verifyShard(job, hashes, signal, progress);
    }
    checkAbort(signal);
    for (const job of jobs) await renameIntoPlace(job.temp, job.output, options.overwrite === true);
  } catch (e) {
    await Promise.all(jobs.map((j) => removeQuietly(j.temp)));
    for (const j of jobs) untrackTemp(j.temp);
    throw e;
  }
  await syncDir(nodePath.dirname(options.output));
  options.onProgress?.(1);
  return { outputs: outputPaths, tensorCount: jobs.reduce((s, j) => s + j.source.tensors.length, 0), verifiedTensorCount, bytesWritten };
}

/** Makes the renames durable; not every platform can open a directory, so failures are ignored. */
async function syncDir(dir: string): Promise<void> {
  try {
    const h = await fsp.open(dir, "r");
    try { await h.sync(); } finally { await h.close(); }
  } catch { /* best effort */ }
}
