// Public data types of the GGUF core: metadata values as stored on disk, tensor infos with the
// values computed from them, and the shape of a parsed file.

/** GGUF metadata value types (gguf.h `enum gguf_type`). */
export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

export const GGUF_VALUE_TYPE_NAMES: Readonly<Record<GgufValueType, string>> = {
  [GgufValueType.UINT8]: "u8",
  [GgufValueType.INT8]: "i8",
  [GgufValueType.UINT16]: "u16",
  [GgufValueType.INT16]: "i16",
  [GgufValueType.UINT32]: "u32",
  [GgufValueType.INT32]: "i32",
  [GgufValueType.FLOAT32]: "f32",
  [GgufValueType.BOOL]: "bool",
  [GgufValueType.STRING]: "str",
  [GgufValueType.ARRAY]: "arr",
  [GgufValueType.UINT64]: "u64",
  [GgufValueType.INT64]: "i64",
  [GgufValueType.FLOAT64]: "f64",
};

/** 64-bit integers are bigint so they round-trip exactly; all other numbers are number. */
export type GgufScalar = number | bigint | boolean | string;

/** A fully read array. Nested arrays have elementType ARRAY and GgufArray elements. */
export interface GgufArray {
  readonly kind: "array";
  readonly elementType: GgufValueType;
  readonly values: readonly GgufValue[];
}

/**
 * An array left on disk: where it is and how to page through it (see readArrayPage).
 * Big vocabularies stay lazy so the header reads fast and memory stays small.
 */
export interface GgufLazyArray {
  readonly kind: "lazy-array";
  readonly elementType: GgufValueType;
  readonly count: number;
  /** Absolute offset of the first element (after the type and count fields). */
  readonly byteOffset: number;
  /** Bytes of all elements together. */
  readonly byteLength: number;
  readonly littleEndian: boolean;
  /** For variable-size elements: byte offset of element i*checkpointStride. */
  readonly checkpoints?: Float64Array;
  readonly checkpointStride: number;
}

export type GgufValue = GgufScalar | GgufArray | GgufLazyArray;

export interface GgufMetadataEntry {
  readonly key: string;
  readonly type: GgufValueType;
  readonly value: GgufValue;
  /** Absolute offset of the key's length field. */
  readonly offset: number;
}

export interface GgufTensorInfo {
  readonly name: string;
  /** ne[0..n): ne[0] is the row length (fastest-varying dimension), as ggml stores it. */
  readonly shape: readonly number[];
  readonly ggmlType: number;
  /** "Q4_K", or "UNKNOWN(id)" for a type newer than this table. */
  readonly typeName: string;
  readonly typeKnown: boolean;
  /** Offset relative to the start of the tensor data section. */
  readonly offset: number;
  /** Absolute offset in its file. */
  readonly fileOffset: number;
  readonly elementCount: number;
  /** Undefined when the type is unknown. */
  readonly byteSize: number | undefined;
  readonly bitsPerWeight: number | undefined;
  /** N of `blk.N.` (or `v.blk.N.` etc.), undefined for non-layer tensors. */
  readonly layer: number | undefined;
  /** Name without the layer prefix and `.weight`: "attn_q", "ffn_down_exps", "token_embd", "output". */
  readonly kind: string;
  /** Index of the shard holding it (0 for single files). */
  readonly shardIndex: number;
}

export interface GgufFile {
  readonly path: string;
  readonly fileSize: number;
  readonly version: number;
  readonly littleEndian: boolean;
  readonly alignment: number;
  /** Insertion-ordered, as in the file. */
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  readonly tensors: readonly GgufTensorInfo[];
  /** Absolute offset where tensor infos begin (end of metadata). */
  readonly tensorInfoOffset: number;
  /** Absolute offset where tensor infos end. */
  readonly tensorInfoEnd: number;
  /** Absolute, aligned start of tensor data (may be at or past the end for vocab-only files). */
  readonly tensorDataOffset: number;
}

export interface GgufShardInfo {
  readonly path: string;
  readonly index: number;
  readonly file: GgufFile;
  readonly tensorCount: number;
  readonly tensorBytes: number;
  readonly fileSize: number;
}

/** A model: one file, or all shards of a split set read as one. */
export interface GgufModel {
  readonly path: string;
  readonly shards: readonly GgufShardInfo[];
  /** Metadata of the first shard (llama-gguf-split keeps the model's metadata there). */
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  readonly tensors: readonly GgufTensorInfo[];
  readonly isSplit: boolean;
}
