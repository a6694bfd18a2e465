// Reads a GGUF header (v2/v3, either byte order) with positioned reads: metadata, tensor infos and
// the values computed from them. Tensor data is never read.
import { GgufError } from "./errors";
import { FileWindow } from "./fileWindow";
import { ggmlTypeById } from "./ggmlTypes";
import { tensorKind, tensorLayerIndex } from "./tensorNaming";
import { GGUF_VALUE_TYPE_NAMES, GgufFile, GgufMetadataEntry, GgufTensorInfo, GgufValue, GgufValueType } from "./types";
import { fixedValueSize, ValueDecoder } from "./valueDecoder";
import { displayName } from "../../shared/displayText";

export interface ReadGgufOptions {
  /**
   * Arrays longer than this stay on disk as lazy descriptors (page them with readArrayPage).
   * Default 4096: vocabularies stay lazy, per-layer arrays are read. Use Infinity to read all.
   */
  readonly maxMaterializedArrayLength?: number;
  /** Index of this file in a split set, stamped on its tensors. Default 0. */
  readonly shardIndex?: number;
  /**
   * Give the event loop a turn after about this many milliseconds of parsing, so a caller on a
   * UI-serving thread (the extension host) stays responsive during a 60k-tensor header.
   * Default: never yield (CLI, jobs).
   */
  readonly yieldEveryMs?: number;
}

export const DEFAULT_MAX_MATERIALIZED_ARRAY_LENGTH = 4096;
const GGML_MAX_DIMS = 4;
const DEFAULT_ALIGNMENT = 32;
/** Smallest on-disk size of one KV pair (key length, type, 1-byte value) and one tensor info. */
const MIN_KV_BYTES = 8 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
const MAX_TENSOR_INFO_TAIL = 4 + GGML_MAX_DIMS * 8 + 4 + 8;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export async function readGgufFile(path: string, options: ReadGgufOptions = {}): Promise<GgufFile> {
  const w = await FileWindow.open(path);
  try {
    const { declaredTensorCount, ...file } = await parseHeader(w, options);
    void declaredTensorCount;
    return file;
  } finally {
    await w.close();
  }
}

/** The start of a header: metadata, the tensor count, and the first tensor infos only. */
export interface GgufHeaderPrefix {
  readonly path: string;
  readonly fileSize: number;
  readonly version: number;
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  /** Tensors the header declares (tensors below holds at most the requested number). */
  readonly tensorCount: number;
  /** The first tensor infos, in file order; `fileOffset` is not known yet (it equals `offset`). */
  readonly tensors: readonly GgufTensorInfo[];
}

/**
 * Reads metadata and the first `tensorLimit` tensor infos, for showing a model before its whole
 * header is parsed. Placement checks need every tensor, so they happen in readGgufFile only.
 */
export async function readGgufPrefix(path: string, tensorLimit: number, options: ReadGgufOptions = {}): Promise<GgufHeaderPrefix> {
  const w = await FileWindow.open(path);
  try {
    const r = await parseHeader(w, options, tensorLimit);
    return { path: r.path, fileSize: r.fileSize, version: r.version, metadata: r.metadata, tensorCount: r.declaredTensorCount, tensors: r.tensors };
  } finally {
    await w.close();
  }
}

function swap32(v: number): number {
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

async function parseHeader(w: FileWindow, options: ReadGgufOptions, tensorLimit = Infinity): Promise<GgufFile & { declaredTensorCount: number }> {
  await w.load(0, Math.min(24, w.size), "header");
  if (w.size < 4 || w.buf.toString("latin1", 0, 4) !== "GGUF") {
    throw new GgufError(w.size < 4 ? "truncated" : "bad-magic", `not a GGUF file: magic is ${JSON.stringify(w.buf.toString("latin1", 0, Math.min(4, w.size)))}`, 0, w.path);
  }
  if (w.size < 24) throw new GgufError("truncated", `file is ${w.size} bytes, shorter than a GGUF header`, w.size, w.path);
  const rawVersion = w.buf.readUInt32LE(4);
  let littleEndian = true;
  let version = rawVersion;
  if (rawVersion !== 2 && rawVersion !== 3 && (swap32(rawVersion) === 2 || swap32(rawVersion) === 3)) {
    littleEndian = false;
    version = swap32(rawVersion);
  }
  if (version !== 2 && version !== 3) {
    const v = swap32(rawVersion) === 1 ? 1 : version;
    throw new GgufError("unsupported-version", `GGUF version ${v} is not supported (only 2 and 3)`, 4, w.path);
  }
  const d = new ValueDecoder(w, littleEndian, {
    maxMaterializedArrayLength: options.maxMaterializedArrayLength ?? DEFAULT_MAX_MATERIALIZED_ARRAY_LENGTH,
    yieldEveryMs: options.yieldEveryMs,
  });
  d.pos = 8;
  const tensorCountAt = d.pos;
  const tensorCount = await d.u64("tensor count");
  const kvCountAt = d.pos;
  const kvCount = await d.u64("metadata count");
  if (tensorCount * MIN_TENSOR_INFO_BYTES > w.size - d.pos) {
    throw new GgufError("count-too-large", `tensor count ${tensorCount} cannot fit in the file`, tensorCountAt, w.path);
  }
  if (kvCount * MIN_KV_BYTES + tensorCount * MIN_TENSOR_INFO_BYTES > w.size - d.pos) {
    throw new GgufError("count-too-large", `metadata count ${kvCount} cannot fit in the file`, kvCountAt, w.path);
  }

  const metadata = new Map<string, GgufMetadataEntry>();
  for (let i = 0; i < kvCount; i++) {
    const offset = d.pos;
    const key = await d.stringFast(`key of metadata entry ${i}`);
    if (metadata.has(key)) throw new GgufError("duplicate-key", `metadata key ${displayName(key)} appears twice`, offset, w.path);
    if (!d.has(12)) await d.prefetch(12, "a metadata value");
    const type = d.valueTypeSync(`value of ${displayName(key)}`);
    let value: GgufValue;
    const size = fixedValueSize(type);
    if (size !== undefined && d.has(size)) value = d.scalarSync(type);
    else if (type === GgufValueType.STRING) value = await d.stringFast(key);
    else value = await d.value(type, key);
    metadata.set(key, { key, type, value, offset });
  }

  const alignment = readAlignment(metadata, w.path);
  const tensorInfoOffset = d.pos;
  const readCount = Math.min(tensorCount, tensorLimit);
  const tensors: Mutable<GgufTensorInfo>[] = new Array<Mutable<GgufTensorInfo>>(readCount);
  const infoOffsets: number[] = new Array<number>(readCount);
  const names = new Set<string>();
  const shardIndex = options.shardIndex ?? 0;
  for (let i = 0; i < readCount; i++) {
    if ((i & 1023) === 1023) await d.maybeYield();
    const infoAt = d.pos;
    infoOffsets[i] = infoAt;
    // Sync when the name is in the window (almost always): no promise per tensor.
    const name = d.tryStringSync("a tensor name") ?? (await d.stringFast("a tensor name"));
    if (names.has(name)) throw new GgufError("duplicate-tensor", `tensor ${displayName(name)} appears twice`, infoAt, w.path);
    names.add(name);
    // Everything after the name fits in 4 + 4*8 + 4 + 8 bytes: load it once, then read synchronously.
    if (!d.has(MAX_TENSOR_INFO_TAIL)) await d.prefetch(MAX_TENSOR_INFO_TAIL, "a tensor info");
    const dimsAt = d.pos;
    const nDims = d.u32Sync("a tensor dimension count");
    if (nDims > GGML_MAX_DIMS) throw new GgufError("bad-tensor-shape", `tensor ${displayName(name)} has ${nDims} dimensions (max ${GGML_MAX_DIMS})`, dimsAt, w.path);
    const shape: number[] = [];
    let elementCount = 1;
    for (let k = 0; k < nDims; k++) {
      const dim = d.u64Sync("a tensor dimension");
      shape.push(dim);
      elementCount *= dim;
      if (!Number.isSafeInteger(elementCount)) throw new GgufError("bad-tensor-shape", `tensor ${displayName(name)} has too many elements`, dimsAt, w.path);
    }
    const ggmlType = d.u32Sync("a tensor type");
    const offset = d.u64Sync("a tensor offset");
    const info = ggmlTypeById(ggmlType);
    const typeKnown = info !== undefined && info.blockSize > 0;
    let byteSize: number | undefined;
    if (typeKnown) {
      const rowLength = shape.length > 0 ? shape[0] : 1;
      if (rowLength % info.blockSize !== 0) {
        throw new GgufError("bad-tensor-shape", `tensor ${displayName(name)}: row length ${rowLength} is not a multiple of ${info.name}'s block size ${info.blockSize}`, dimsAt, w.path);
      }
      byteSize = (elementCount / info.blockSize) * info.typeSize;
    }
    tensors[i] = {
      name, shape, ggmlType,
      typeName: info?.name ?? `UNKNOWN(${ggmlType})`,
      typeKnown,
      offset,
      fileOffset: offset, // made absolute below, once the data offset is known
      elementCount,
      byteSize,
      bitsPerWeight: byteSize !== undefined && elementCount > 0 ? (byteSize * 8) / elementCount : undefined,
      layer: tensorLayerIndex(name),
      kind: tensorKind(name),
      shardIndex,
    };
  }
  const tensorInfoEnd = d.pos;
  const tensorDataOffset = Math.ceil(tensorInfoEnd / alignment) * alignment;
  if (readCount === tensorCount) {
    for (const t of tensors) t.fileOffset = tensorDataOffset + t.offset;
    checkTensorPlacement(tensors, infoOffsets, alignment, w.size, w.path);
  }
  return {
    path: w.path, fileSize: w.size, version, littleEndian, alignment, metadata,
    tensors, tensorInfoOffset, tensorInfoEnd, tensorDataOffset, declaredTensorCount: tensorCount,
  };
}

function readAlignment(metadata: ReadonlyMap<string, GgufMetadataEntry>, path: string): number {
  const e = metadata.get("general.alignment");
  if (!e) return DEFAULT_ALIGNMENT;
  const v = typeof e.value === "bigint" ? Number(e.value) : e.value;
  const integerTypes = [GgufValueType.UINT8, GgufValueType.UINT16, GgufValueType.UINT32, GgufValueType.UINT64, GgufValueType.INT32];
  if (!integerTypes.includes(e.type)) {
    // llama.cpp reads it as u32 only; a float or string "32" is a different, named mistake.
    const shown = typeof e.value === "object" ? `an array` : JSON.stringify(typeof e.value === "bigint" ? String(e.value) : e.value);
    throw new GgufError("bad-alignment", `general.alignment must be stored as an unsigned integer (u32), but it is stored as ${GGUF_VALUE_TYPE_NAMES[e.type]} (value ${shown})`, e.offset, path);
  }
  if (typeof v !== "number" || v <= 0 || (v & (v - 1)) !== 0 || v > 1 << 30) {
    throw new GgufError("bad-alignment", `general.alignment must be a power of two, got ${String(e.value)}`, e.offset, path);
  }
  return v;
}

function checkTensorPlacement(tensors: GgufTensorInfo[], infoOffsets: number[], alignment: number, fileSize: number, path: string): void {
  const order = tensors.map((_, i) => i).sort((a, b) => tensors[a].offset - tensors[b].offset);
  let prevEnd = -1;
  let prevName = "";
  for (const i of order) {
    const t = tensors[i];
    if (t.offset % alignment !== 0) {
      throw new GgufError("misaligned-tensor", `tensor ${displayName(t.name)} offset ${t.offset} is not a multiple of the alignment ${alignment}`, infoOffsets[i], path);
    }
    if (t.offset < prevEnd) {
      throw new GgufError("overlapping-tensors", `tensor ${displayName(t.name)} data (offset ${t.offset}) overlaps ${displayName(prevName)} (ends at ${prevEnd})`, infoOffsets[i], path);
    }
    const end = t.byteSize === undefined ? t.fileOffset : t.fileOffset + t.byteSize;
    if (end > fileSize || (t.byteSize === undefined && t.fileOffset > fileSize)) {
      throw new GgufError("tensor-data-past-eof", `tensor ${displayName(t.name)} data ends at byte ${end}, past the end of the file (${fileSize})`, infoOffsets[i], path);
    }
    if (t.byteSize !== undefined) {
      prevEnd = t.offset + t.byteSize;
      prevName = t.name;
    }
  }
}
