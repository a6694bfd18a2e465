// The ggml tensor type table of the llama.cpp source bundled with node-llama-cpp 3.22.1
// (ggml/include/ggml.h, block layouts from ggml/src/ggml-common.h). Ids are stable on disk;
// removed ids (4, 5, 31-33, 36-38) are listed so readers can name them instead of failing.

export interface GgmlTypeInfo {
  readonly id: number;
  /** Upper-case name as llama-quantize and --tensor-type spell it, e.g. "Q4_K". */
  readonly name: string;
  /** Elements per block. */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly typeSize: number;
  /** True when ggml no longer supports the type in files. */
  readonly removed?: boolean;
}

const T = (id: number, name: string, blockSize: number, typeSize: number, removed = false): GgmlTypeInfo =>
  removed ? { id, name, blockSize, typeSize, removed } : { id, name, blockSize, typeSize };

const QK_K = 256;

export const GGML_TYPES: readonly GgmlTypeInfo[] = [
  T(0, "F32", 1, 4),
  T(1, "F16", 1, 2),
  T(2, "Q4_0", 32, 18),
  T(3, "Q4_1", 32, 20),
  T(4, "Q4_2", 0, 0, true),
  T(5, "Q4_3", 0, 0, true),
  T(6, "Q5_0", 32, 22),
  T(7, "Q5_1", 32, 24),
  T(8, "Q8_0", 32, 34),
  T(9, "Q8_1", 32, 36),
  T(10, "Q2_K", QK_K, 84),
  T(11, "Q3_K", QK_K, 110),
  T(12, "Q4_K", QK_K, 144),
  T(13, "Q5_K", QK_K, 176),
  T(14, "Q6_K", QK_K, 210),
  T(15, "Q8_K", QK_K, 292),
  T(16, "IQ2_XXS", QK_K, 66),
  T(17, "IQ2_XS", QK_K, 74),
  T(18, "IQ3_XXS", QK_K, 98),
  T(19, "IQ1_S", QK_K, 50),
  T(20, "IQ4_NL", 32, 18),
  T(21, "IQ3_S", QK_K, 110),
  T(22, "IQ2_S", QK_K, 82),
  T(23, "IQ4_XS", QK_K, 136),
  T(24, "I8", 1, 1),
  T(25, "I16", 1, 2),
  T(26, "I32", 1, 4),
  T(27, "I64", 1, 8),
  T(28, "F64", 1, 8),
  T(29, "IQ1_M", QK_K, 56),
  T(30, "BF16", 1, 2),
  T(31, "Q4_0_4_4", 0, 0, true),
  T(32, "Q4_0_4_8", 0, 0, true),
  T(33, "Q4_0_8_8", 0, 0, true),
  T(34, "TQ1_0", QK_K, 54),
  T(35, "TQ2_0", QK_K, 66),
  T(36, "IQ4_NL_4_4", 0, 0, true),
  T(37, "IQ4_NL_4_8", 0, 0, true),
  T(38, "IQ4_NL_8_8", 0, 0, true),
  T(39, "MXFP4", 32, 17),
  T(40, "NVFP4", 64, 36),
  T(41, "Q1_0", 128, 18),
  T(42, "Q2_0", 64, 18),
];

const byId = new Map(GGML_TYPES.map((t) => [t.id, t]));
const byName = new Map(GGML_TYPES.map((t) => [t.name, t]));

export function ggmlTypeById(id: number): GgmlTypeInfo | undefined {
  return byId.get(id);
}

/** Case-insensitive: accepts "q4_k", "Q4_K". */
export function ggmlTypeByName(name: string): GgmlTypeInfo | undefined {
  return byName.get(name.toUpperCase());
}

/** Display name; unknown ids read as "UNKNOWN(id)" so a newer file still lists. */
export function ggmlTypeName(id: number): string {
  return byId.get(id)?.name ?? `UNKNOWN(${id})`;
}

/** Bits per weight of a type, from its block layout; undefined for unknown or removed types. */
export function ggmlBitsPerWeight(id: number): number | undefined {
  const t = byId.get(id);
  return t && t.blockSize > 0 ? (t.typeSize * 8) / t.blockSize : undefined;
}

/**
 * Bytes of a tensor of `elements` values whose rows have `rowLength` values (ne[0]).
 * Undefined when the type is unknown or the row length is not a multiple of the block size
 * (ggml cannot store such a tensor in that type).
 */
export function ggmlTensorBytes(id: number, elements: number, rowLength: number): number | undefined {
  const t = byId.get(id);
  if (!t || t.blockSize === 0 || rowLength % t.blockSize !== 0) return undefined;
  return (elements / t.blockSize) * t.typeSize;
}

/** llama_ftype (general.file_type): the whole-file preset, distinct from per-tensor ggml types. */
export const LLAMA_FILE_TYPES: Readonly<Record<number, string>> = {
  0: "ALL_F32", 1: "MOSTLY_F16", 2: "MOSTLY_Q4_0", 3: "MOSTLY_Q4_1", 4: "MOSTLY_Q4_1_SOME_F16",
  7: "MOSTLY_Q8_0", 8: "MOSTLY_Q5_0", 9: "MOSTLY_Q5_1", 10: "MOSTLY_Q2_K", 11: "MOSTLY_Q3_K_S",
  12: "MOSTLY_Q3_K_M", 13: "MOSTLY_Q3_K_L", 14: "MOSTLY_Q4_K_S", 15: "MOSTLY_Q4_K_M", 16: "MOSTLY_Q5_K_S",
  17: "MOSTLY_Q5_K_M", 18: "MOSTLY_Q6_K", 19: "MOSTLY_IQ2_XXS", 20: "MOSTLY_IQ2_XS", 21: "MOSTLY_Q2_K_S",
  22: "MOSTLY_IQ3_XS", 23: "MOSTLY_IQ3_XXS", 24: "MOSTLY_IQ1_S", 25: "MOSTLY_IQ4_NL", 26: "MOSTLY_IQ3_S",
  27: "MOSTLY_IQ3_M", 28: "MOSTLY_IQ2_S", 29: "MOSTLY_IQ2_M", 30: "MOSTLY_IQ4_XS", 31: "MOSTLY_IQ1_M",
  32: "MOSTLY_BF16", 36: "MOSTLY_TQ1_0", 37: "MOSTLY_TQ2_0", 38: "MOSTLY_MXFP4_MOE", 39: "MOSTLY_NVFP4",
  40: "MOSTLY_Q1_0", 41: "MOSTLY_Q2_0", 1024: "GUESSED",
};

export function llamaFileTypeName(id: number): string {
  return LLAMA_FILE_TYPES[id] ?? `UNKNOWN(${id})`;
}
