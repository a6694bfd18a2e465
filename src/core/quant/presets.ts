// Every type llama-quantize accepts (QUANT_OPTIONS of tools/quantize/quantize.cpp in the llama.cpp
// source bundled with node-llama-cpp 3.22.1), with what the picker needs to show and enforce.
// A unit test checks this table against the bundled source, and the imatrix flags against the tool.
import { ggmlBitsPerWeight, ggmlTypeByName } from "../gguf/ggmlTypes";

export interface QuantPreset {
  /** Name as llama-quantize spells it ("Q4_K_M"). */
  readonly name: string;
  /** llama_ftype written to general.file_type. */
  readonly ftype: number;
  /** The tool's own one-line description. */
  readonly description: string;
  /** Default ggml type of 2-D weights (llama_ftype_get_default_type); mixes raise some tensors above it. */
  readonly baseType: string;
  /**
   * True when llama-quantize refuses to run without an importance matrix (tensor_requires_imatrix:
   * IQ1_*, IQ2_XXS/XS/S targets, IQ3_XXS, and Q2_K inside a Q2_K_S file). IQ3_XS is in: its mix
   * puts attn_q (and middle ffn_gate/up) in IQ3_XXS. A recipe may still need one; the dry run says.
   */
  readonly requiresImatrix: boolean;
  /** Another name for a preset ("Q4_K" = "Q4_K_M"). */
  readonly aliasOf?: string;
  /** Float types and COPY do not quantize. */
  readonly quantizes: boolean;
}

const P = (name: string, ftype: number, description: string, baseType: string, extra: Partial<Pick<QuantPreset, "requiresImatrix" | "aliasOf" | "quantizes">> = {}): QuantPreset => ({
  name,
  ftype,
  description,
  baseType,
  requiresImatrix: extra.requiresImatrix ?? false,
  quantizes: extra.quantizes ?? true,
  ...(extra.aliasOf ? { aliasOf: extra.aliasOf } : {}),
});
const NEEDS_IMATRIX = { requiresImatrix: true } as const;

/** In the tool's order. */
export const QUANT_PRESETS: readonly QuantPreset[] = [
  P("Q1_0", 40, "1.125 bpw quantization", "Q1_0"),
  P("Q2_0", 41, "2.25 bpw quantization (group 64)", "Q2_0"),
  P("Q4_0", 2, "4.34G, +0.4685 ppl @ Llama-3-8B", "Q4_0"),
  P("Q4_1", 3, "4.78G, +0.4511 ppl @ Llama-3-8B", "Q4_1"),
  P("MXFP4_MOE", 38, "MXFP4 MoE", "MXFP4"),
  P("Q5_0", 8, "5.21G, +0.1316 ppl @ Llama-3-8B", "Q5_0"),
  P("Q5_1", 9, "5.65G, +0.1062 ppl @ Llama-3-8B", "Q5_1"),
  P("IQ2_XXS", 19, "2.06 bpw quantization", "IQ2_XXS", NEEDS_IMATRIX),
  P("IQ2_XS", 20, "2.31 bpw quantization", "IQ2_XS", NEEDS_IMATRIX),
  P("IQ2_S", 28, "2.5  bpw quantization", "IQ2_XS", NEEDS_IMATRIX),
  P("IQ2_M", 29, "2.7  bpw quantization", "IQ2_S", NEEDS_IMATRIX),
  P("IQ1_S", 24, "1.56 bpw quantization", "IQ1_S", NEEDS_IMATRIX),
  P("IQ1_M", 31, "1.75 bpw quantization", "IQ1_M", NEEDS_IMATRIX),
  P("TQ1_0", 36, "1.69 bpw ternarization", "TQ1_0"),
  P("TQ2_0", 37, "2.06 bpw ternarization", "TQ2_0"),
  P("Q2_K", 10, "2.96G, +3.5199 ppl @ Llama-3-8B", "Q2_K"),
  P("Q2_K_S", 21, "2.96G, +3.1836 ppl @ Llama-3-8B", "Q2_K", NEEDS_IMATRIX),
  P("IQ3_XXS", 23, "3.06 bpw quantization", "IQ3_XXS", NEEDS_IMATRIX),
  P("IQ3_S", 26, "3.44 bpw quantization", "IQ3_S"),
  P("IQ3_M", 27, "3.66 bpw quantization mix", "IQ3_S"),
  P("Q3_K", 12, "alias for Q3_K_M", "Q3_K", { aliasOf: "Q3_K_M" }),
  P("IQ3_XS", 22, "3.3 bpw quantization", "IQ3_S", NEEDS_IMATRIX),
  P("Q3_K_S", 11, "3.41G, +1.6321 ppl @ Llama-3-8B", "Q3_K"),
  P("Q3_K_M", 12, "3.74G, +0.6569 ppl @ Llama-3-8B", "Q3_K"),
  P("Q3_K_L", 13, "4.03G, +0.5562 ppl @ Llama-3-8B", "Q3_K"),
  P("IQ4_NL", 25, "4.50 bpw non-linear quantization", "IQ4_NL"),
  P("IQ4_XS", 30, "4.25 bpw non-linear quantization", "IQ4_XS"),
  P("Q4_K", 15, "alias for Q4_K_M", "Q4_K", { aliasOf: "Q4_K_M" }),
  P("Q4_K_S", 14, "4.37G, +0.2689 ppl @ Llama-3-8B", "Q4_K"),
  P("Q4_K_M", 15, "4.58G, +0.1754 ppl @ Llama-3-8B", "Q4_K"),
  P("Q5_K", 17, "alias for Q5_K_M", "Q5_K", { aliasOf: "Q5_K_M" }),
  P("Q5_K_S", 16, "5.21G, +0.1049 ppl @ Llama-3-8B", "Q5_K"),
  P("Q5_K_M", 17, "5.33G, +0.0569 ppl @ Llama-3-8B", "Q5_K"),
  P("Q6_K", 18, "6.14G, +0.0217 ppl @ Llama-3-8B", "Q6_K"),
  P("Q8_0", 7, "7.96G, +0.0026 ppl @ Llama-3-8B", "Q8_0"),
  P("F16", 1, "14.00G, +0.0020 ppl @ Mistral-7B", "F16", { quantizes: false }),
  P("BF16", 32, "14.00G, -0.0050 ppl @ Mistral-7B", "BF16", { quantizes: false }),
  P("F32", 0, "26.00G              @ 7B", "F32", { quantizes: false }),
  P("COPY", 0, "only copy tensors, no quantizing", "F32", { quantizes: false }),
];

const byUpperName = new Map(QUANT_PRESETS.map((p) => [p.name, p]));

/** Case-insensitive, as llama-quantize's own parser. */
export function findQuantPreset(name: string): QuantPreset | undefined {
  return byUpperName.get(name.trim().toUpperCase());
}

/** The canonical preset (Q4_K → Q4_K_M). */
export function canonicalPreset(p: QuantPreset): QuantPreset {
  return p.aliasOf ? (byUpperName.get(p.aliasOf) ?? p) : p;
}

/**
 * Bits per weight of the preset's base ggml type, from its block layout (Q4_K: 144 bytes per 256
 * weights = 4.5). Mixes come out somewhat above this; the dry run gives the exact figure per model.
 */
export function presetBaseBitsPerWeight(p: QuantPreset): number {
  const t = ggmlTypeByName(p.baseType);
  const bpw = t ? ggmlBitsPerWeight(t.id) : undefined;
  if (bpw === undefined) throw new Error(`preset ${p.name}: base type ${p.baseType} is not in the ggml type table`);
  return bpw;
}

/** Name of a llama_ftype as a preset ("MOSTLY_Q4_K_M" → preset Q4_K_M); undefined for unknown ids. */
export function presetForFileType(ftype: number): QuantPreset | undefined {
  return QUANT_PRESETS.find((p) => p.ftype === ftype && !p.aliasOf && p.name !== "COPY");
}

/** ggml type names accepted by --output-tensor-type / --token-embedding-type (live, non-integer types). */
export const OVERRIDE_TENSOR_TYPES: readonly string[] = [
  "F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K", "Q5_0", "Q5_1", "Q4_K", "Q4_0", "Q4_1", "IQ4_XS", "IQ4_NL",
  "Q3_K", "IQ3_S", "IQ3_XXS", "Q2_K", "IQ2_S", "IQ2_XS", "IQ2_XXS", "IQ1_M", "IQ1_S", "TQ2_0", "TQ1_0", "MXFP4",
];
