// Applies a recipe to a model's tensors exactly as llama-quantize (bundled source,
// src/llama-quant.cpp) will: which tensors it may quantize, which type each gets, the shape
// fallback it applies, and the bytes that result. Sizes come from ggml block sizes.
import { ggmlTypeByName, ggmlTypeName } from "../gguf/ggmlTypes";
import {
  QuantRecipe, RecipeProblem, RecipeResolution, RecipeTensor, TensorAssignment, TypeSource,
} from "./recipeTypes";
import { nestedQuantifierProblem } from "./regexSafety";

/** Name fragments llama-quantize never quantizes (tensor_allows_quantization). */
const NEVER_QUANTIZED: readonly [string, string][] = [
  ["_norm.weight", "norm"],
  ["ffn_gate_inp.weight", "MoE router (ffn_gate_inp)"],
  ["ffn_gate_tid2eid.weight", "expert routing table"],
  ["altup", "altup (tiny)"],
  ["laurel", "laurel (tiny)"],
  ["per_layer_model_proj", "per-layer projection"],
  ["ssm_conv1d", "conv1d"],
  ["shortconv.conv.weight", "conv"],
  ["indexer.k_proj.weight", "indexer projection"],
  ["indexer.q_proj.weight", "indexer projection"],
  ["time_mix_", "RWKV time-mix"],
  ["attn_rel_b.weight", "relative position bias"],
  [".position_embd", "position embedding"],
  ["sam.pos_embd", "position embedding"],
  ["sam.neck.", "multimodal"],
  ["sam.net_", "multimodal"],
  [".rel_pos", "relative position"],
  [".patch_embd", "patch embedding"],
  [".patch_merger", "patch merger"],
  ["a.rvq.codebook", "audio codebook"],
  ["mm.a.code_embd", "audio codebook"],
];
const RWKV_TIME_MIX = new Set(["first", "w0", "w1", "w2", "v0", "v1", "v2", "a0", "a1", "a2", "g1", "g2", "decay_w1", "decay_w2", "lerp_fused"]);

/** ggml_n_dims: trailing dimensions of size 1 do not count. */
export function tensorDims(shape: readonly number[]): number {
  for (let i = shape.length - 1; i >= 1; i--) if (shape[i] > 1) return i + 1;
  return 1;
}

/** Why llama-quantize keeps this tensor as it is, or undefined when it may quantize it. */
export function keptReason(name: string, shape: readonly number[]): string | undefined {
  if (tensorDims(shape) < 2) return "1-D tensor";
  if (!name.endsWith("weight")) return "not a weight (bias or other)";
  if (name === "position_embd.weight") return "position embedding";
  if (name === "token_types.weight") return "token types";
  for (const [frag, why] of NEVER_QUANTIZED) {
    if (!name.includes(frag)) continue;
    if (frag === "time_mix_") {
      const m = /time_mix_(\w+?)\.weight/.exec(name);
      if (!m || !RWKV_TIME_MIX.has(m[1])) continue;
    }
    return why;
  }
  return undefined;
}

/** llama-quantize's tensor_type_fallback: the type written when rows do not fit the requested block. */
export function fallbackType(typeName: string, rowLength: number): string {
  const t = ggmlTypeByName(typeName);
  if (!t || t.blockSize === 0 || rowLength % t.blockSize === 0) return typeName;
  const table: Record<string, string> = {
    IQ1_S: "IQ4_NL", IQ1_M: "IQ4_NL", IQ2_XXS: "IQ4_NL", IQ2_XS: "IQ4_NL", IQ2_S: "IQ4_NL", IQ3_XXS: "IQ4_NL",
    IQ3_S: "IQ4_NL", IQ4_XS: "IQ4_NL", Q2_0: "Q4_0", Q2_K: "Q4_0", Q3_K: "Q4_0", TQ1_0: "Q4_0", TQ2_0: "Q4_0",
    Q4_K: "Q5_0", Q5_K: "Q5_1", Q6_K: "Q8_0",
  };
  const next = table[t.name] ?? t.name;
  const nt = ggmlTypeByName(next);
  return nt && rowLength % nt.blockSize === 0 ? next : "F16";
}

const IMATRIX_REQUIRED = new Set(["IQ3_XXS", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ1_M", "IQ1_S"]);

/** tensor_requires_imatrix (token embeddings and output are exempt). */
export function typeRequiresImatrix(name: string, typeName: string): boolean {
  if (name === "token_embd.weight" || name === "per_layer_token_embd.weight" || name === "output.weight") return false;
  return IMATRIX_REQUIRED.has(typeName);
}

/** Bytes of a tensor of `elements` values with rows of `rowLength` in the named type. */
export function typedBytes(typeName: string, elements: number, rowLength: number): number {
  const t = ggmlTypeByName(typeName);
  if (!t || t.blockSize === 0) throw new Error(`unknown ggml type ${typeName}`);
  // ggml_row_size(type, ne0) * nrows; ne0 is a multiple of the block size after fallback.
  return (elements / rowLength) * Math.ceil(rowLength / t.blockSize) * t.typeSize;
}

export interface ResolveOptions {
  /** GGUF alignment of the output (general.alignment, default 32). */
  readonly alignment?: number;
}

/** Compiles rule patterns once; throws on an invalid regex (validateRecipe reports it earlier). */
function compileRules(recipe: QuantRecipe): RegExp[] {
  return recipe.rules.map((r, i) => {
    // Recipes can reach here without validateRecipe (optimizer, API): never run an exponential pattern.
    const nested = nestedQuantifierProblem(r.pattern);
    if (nested) throw new Error(`rules[${i}].pattern: ${nested}`);
    return new RegExp(r.pattern);
  });
}

export function resolveRecipe(recipe: QuantRecipe, tensors: readonly RecipeTensor[], options: ResolveOptions = {}): RecipeResolution {
  const alignment = options.alignment ?? 32;
  const regexes = compileRules(recipe);
  const matchCounts = new Array<number>(recipe.rules.length).fill(0);
  const out: TensorAssignment[] = [];
  let tensorBytes = 0;
  let padded = 0;
  let elements = 0;
  for (const t of tensors) {
    const sourceType = ggmlTypeName(t.ggmlType);
    const rowLength = t.shape[0] ?? 1;
    const sourceBytes = typedBytesOrZero(sourceType, t.elementCount, rowLength);
    let source: TypeSource;
    let requested: string;
    const kept = keptReason(t.name, t.shape);
    if (kept) {
      source = { by: "kept", reason: kept };
      requested = sourceType;
    } else {
      let winner = -1;
      for (let i = 0; i < regexes.length; i++) {
        if (regexes[i].test(t.name)) {
          matchCounts[i]++;
          winner = i; // last match wins
        }
      }
      source = winner >= 0 ? { by: "rule", ruleIndex: winner } : { by: "base" };
      requested = winner >= 0 ? recipe.rules[winner].type : recipe.baseType;
    }
    const type = kept ? requested : fallbackType(requested, rowLength);
    const bytes = type === sourceType ? sourceBytes : typedBytes(type, t.elementCount, rowLength);
    const a: TensorAssignment = {
      name: t.name, kind: t.kind, layer: t.layer, shape: t.shape, sourceType, requestedType: requested, type, source,
      bytes, sourceBytes, elementCount: t.elementCount,
      requiresImatrix: !kept && typeRequiresImatrix(t.name, type),
      ...(type !== requested
        ? { fallback: { from: requested, to: type, reason: `row length ${rowLength} is not a multiple of ${requested}'s block size ${ggmlTypeByName(requested)?.blockSize}` } }
        : {}),
    };
    out.push(a);
    tensorBytes += bytes;
    padded += Math.ceil(bytes / alignment) * alignment;
    elements += t.elementCount;
  }
  const problems: RecipeProblem[] = [];
  matchCounts.forEach((n, i) => {
    if (n === 0) problems.push({ severity: "warning", path: `rules[${i}].pattern`, message: `rule "${recipe.rules[i].pattern}" matches no quantizable tensor of this model` });
  });
  // A rule fully shadowed by later rules never decides anything: worth a warning too.
  const decided = new Array<number>(recipe.rules.length).fill(0);
  for (const a of out) if (a.source.by === "rule") decided[a.source.ruleIndex]++;
  decided.forEach((n, i) => {
    if (n === 0 && matchCounts[i] > 0) problems.push({ severity: "warning", path: `rules[${i}]`, message: `rule "${recipe.rules[i].pattern}" is overridden by later rules for every tensor it matches` });
  });
  const fallbacks = out.filter((a) => a.fallback);
  for (const f of fallbacks) problems.push({ severity: "warning", path: f.name, message: `${f.name}: ${f.fallback?.reason}; llama-quantize writes ${f.type} instead` });
  return {
    tensors: out, tensorBytes, paddedTensorBytes: padded, elementCount: elements,
    bitsPerWeight: elements > 0 ? (tensorBytes * 8) / elements : 0,
    fallbacks, problems, ruleMatchCounts: matchCounts, requiresImatrix: out.some((a) => a.requiresImatrix),
  };
}

function typedBytesOrZero(typeName: string, elements: number, rowLength: number): number {
  try {
    return typedBytes(typeName, elements, rowLength);
  } catch {
    return 0;
  }
}
