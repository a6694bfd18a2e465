// Built-in starting points for a recipe, in the spirit of Unsloth's published "Dynamic" rules:
// embeddings and output higher; attention higher in MoE models; ffn_down of the first and last
// layers higher; shared experts higher; routed experts at the lowest type. They are written as
// ordinary rules over the model's real tensor names, so the user sees and edits every choice.
import type { QuantRecipe, RecipeRule, RecipeTensor } from "./recipeTypes";
import { RECIPE_FORMAT_VERSION } from "./recipeTypes";

/** Quantized types from small to large; "one step up" walks this ladder. */
export const TYPE_LADDER = ["IQ1_S", "IQ1_M", "IQ2_XXS", "IQ2_XS", "IQ2_S", "Q2_K", "IQ3_XXS", "IQ3_S", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0"] as const;
/** The same ladder without the types llama-quantize refuses without an importance matrix. */
export const TYPE_LADDER_NO_IMATRIX = ["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0"] as const;

export function stepUp(type: string, steps: number, hasImatrix: boolean): string {
  const ladder: readonly string[] = hasImatrix ? TYPE_LADDER : TYPE_LADDER_NO_IMATRIX;
  const i = ladder.indexOf(type);
  if (i < 0) return type;
  return ladder[Math.min(ladder.length - 1, Math.max(0, i + steps))];
}

export interface ModelShape {
  readonly layerCount: number;
  readonly isMoe: boolean;
  readonly hasSharedExperts: boolean;
  /** Layers whose FFN is dense in a MoE model (e.g. DeepSeek's first layers). */
  readonly denseFfnLayers: readonly number[];
  readonly hasOutput: boolean;
}

export function modelShape(tensors: readonly RecipeTensor[]): ModelShape {
  let layerCount = 0;
  const expertLayers = new Set<number>();
  const ffnLayers = new Set<number>();
  let hasShared = false;
  let hasOutput = false;
  for (const t of tensors) {
    if (t.layer !== undefined && !t.name.includes(".blk.") && !/^(v|a|mm)\./.test(t.name)) layerCount = Math.max(layerCount, t.layer + 1);
    if (t.kind.endsWith("_exps") && t.layer !== undefined) expertLayers.add(t.layer);
    if (/^ffn_(down|up|gate)$/.test(t.kind) && t.layer !== undefined) ffnLayers.add(t.layer);
    if (t.kind.endsWith("_shexp")) hasShared = true;
    if (t.name === "output.weight") hasOutput = true;
  }
  const isMoe = expertLayers.size > 0;
  return {
    layerCount, isMoe, hasSharedExperts: hasShared, hasOutput,
    denseFfnLayers: isMoe ? [...ffnLayers].filter((l) => !expertLayers.has(l)).sort((a, b) => a - b) : [],
  };
}

export interface StartingPoint {
  readonly id: "dynamic" | "uniform" | "stock-like";
  readonly label: string;
  readonly description: string;
}

export const STARTING_POINTS: readonly StartingPoint[] = [
  { id: "dynamic", label: "Dynamic (Unsloth-style)", description: "embeddings/output higher, attention higher in MoE, first/last ffn_down higher, shared experts higher, routed experts at the base type" },
  { id: "stock-like", label: "Stock-like mix", description: "llama.cpp's use_more_bits layers (first/last eighth, every third) get attn_v and ffn_down two steps up" },
  { id: "uniform", label: "Uniform", description: "every quantizable tensor at the base type; add your own rules" },
];

const layerAlt = (layers: readonly number[]) => (layers.length === 1 ? String(layers[0]) : `(${layers.join("|")})`);

export function buildStartingRecipe(
  id: StartingPoint["id"], tensors: readonly RecipeTensor[], baseType: string, options: { hasImatrix?: boolean; name?: string } = {},
): QuantRecipe {
  const im = options.hasImatrix ?? false;
  const shape = modelShape(tensors);
  const up = (n: number) => stepUp(baseType, n, im);
  const rules: RecipeRule[] = [];
  const last = shape.layerCount - 1;
  if (id === "dynamic") {
    rules.push({ pattern: "^token_embd\\.weight$", type: up(1), note: "embeddings one step higher" });
    if (shape.hasOutput) rules.push({ pattern: "^output\\.weight$", type: up(2), note: "output (lm_head) two steps higher" });
    if (shape.isMoe) rules.push({ pattern: "\\.attn_", type: up(2), note: "attention is small and sensitive in MoE models" });
    else rules.push({ pattern: "\\.attn_v\\.", type: up(1), note: "attn_v one step higher (as llama.cpp's mixes)" });
    if (shape.layerCount > 0) {
      const ends = [...new Set([0, last])];
      rules.push({ pattern: `^blk\\.${layerAlt(ends)}\\.ffn_down`, type: up(2), note: "ffn_down of the first and last layers higher" });
    }
    if (shape.isMoe && shape.denseFfnLayers.length > 0) {
      rules.push({ pattern: `^blk\\.${layerAlt(shape.denseFfnLayers)}\\.ffn_(gate|up|down)\\.`, type: up(2), note: "dense FFN layers of a MoE model higher" });
    }
    if (shape.hasSharedExperts) rules.push({ pattern: "_shexp\\.", type: up(2), note: "shared experts see every token: higher" });
    if (shape.isMoe) rules.push({ pattern: "_exps\\.", type: baseType, note: "routed experts (most of the weights) at the lowest type" });
  } else if (id === "stock-like") {
    const n = shape.layerCount;
    const more = Array.from({ length: n }, (_, i) => i).filter((i) => i < n / 8 || i >= (7 * n) / 8 || (i - Math.floor(n / 8)) % 3 === 2);
    if (more.length > 0) rules.push({ pattern: `^blk\\.${layerAlt(more)}\\.(attn_v|ffn_down)`, type: up(2), note: "use_more_bits layers" });
    if (shape.hasOutput) rules.push({ pattern: "^output\\.weight$", type: "Q6_K", note: "output at Q6_K as in the stock mixes" });
  }
  return {
    version: RECIPE_FORMAT_VERSION,
    name: options.name ?? `${STARTING_POINTS.find((s) => s.id === id)?.label ?? id} at ${baseType}`,
    baseType,
    rules: rules.filter((r) => r.pattern.length > 0),
  };
}
