// The recipe model: a *.quant.json file that gives every tensor of a model its own ggml type.
// Rules are tensor-name regexes; the LAST matching rule wins (like CSS), which is how people read
// a list of overrides. The compiler turns the resolved choice into order-independent patterns,
// so the result does not depend on how a given llama-quantize build orders its own matching.

export const RECIPE_FORMAT_VERSION = 1;

export interface RecipeRule {
  /** ECMAScript regex searched (unanchored) in the tensor name, e.g. "blk\\.(0|1)\\.ffn_down". */
  readonly pattern: string;
  /** ggml type name, e.g. "Q6_K". */
  readonly type: string;
  /** Why this rule exists; shown in the editor. */
  readonly note?: string;
}

export interface QuantRecipe {
  readonly $schema?: string;
  readonly version: number;
  readonly name?: string;
  /** The base model the recipe was made for (relative to the recipe file, or absolute); the editor opens it. */
  readonly model?: string;
  /** ggml type of every quantizable tensor that no rule matches (must be a quantized type). */
  readonly baseType: string;
  readonly rules: readonly RecipeRule[];
  /** Importance matrix file (relative to the recipe file, or absolute). */
  readonly imatrix?: string;
  /** Calibration text the imatrix was (or will be) computed from. */
  readonly calibration?: string;
  readonly notes?: string;
  /** Free-form provenance written by the optimizer (budget, measurements file...). */
  readonly generatedBy?: Readonly<Record<string, unknown>>;
}

export type RecipeProblemSeverity = "error" | "warning";

export interface RecipeProblem {
  readonly severity: RecipeProblemSeverity;
  /** JSON path of the offending value, e.g. "rules[2].pattern". */
  readonly path: string;
  readonly message: string;
}

export class RecipeError extends Error {
  constructor(readonly problems: readonly RecipeProblem[], source?: string) {
    const errors = problems.filter((p) => p.severity === "error");
    super(
      `invalid recipe${source ? ` ${source}` : ""}: ` + errors.map((p) => `${p.path}: ${p.message}`).join("; "),
    );
    this.name = "RecipeError";
  }
}

/** Minimal view of a tensor that recipe resolution needs (GgufTensorInfo satisfies it). */
export interface RecipeTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly ggmlType: number;
  readonly elementCount: number;
  readonly layer: number | undefined;
  readonly kind: string;
}

/** Where a tensor's type came from. */
export type TypeSource =
  | { readonly by: "rule"; readonly ruleIndex: number }
  | { readonly by: "base" }
  /** llama-quantize never quantizes it (1-D, norm, router, ...): it keeps its source type. */
  | { readonly by: "kept"; readonly reason: string };

export interface TensorAssignment {
  readonly name: string;
  readonly kind: string;
  readonly layer: number | undefined;
  readonly shape: readonly number[];
  readonly sourceType: string;
  /** The type the recipe asked for (before any shape fallback). */
  readonly requestedType: string;
  /** The type llama-quantize will write. */
  readonly type: string;
  readonly source: TypeSource;
  /** Set when the row length forced a different type (reported, never silent). */
  readonly fallback?: { readonly from: string; readonly to: string; readonly reason: string };
  readonly bytes: number;
  readonly sourceBytes: number;
  readonly elementCount: number;
  /** llama-quantize refuses this target without an importance matrix. */
  readonly requiresImatrix: boolean;
}

export interface RecipeResolution {
  readonly tensors: readonly TensorAssignment[];
  /** Sum of tensor data bytes (no padding). */
  readonly tensorBytes: number;
  /** Tensor bytes with each tensor padded to the file alignment, as written on disk. */
  readonly paddedTensorBytes: number;
  readonly elementCount: number;
  /** Bits per weight over all tensors, as llama-quantize prints it. */
  readonly bitsPerWeight: number;
  readonly fallbacks: readonly TensorAssignment[];
  /** Warnings such as rules that match no tensor. */
  readonly problems: readonly RecipeProblem[];
  /** Tensors matched per rule index. */
  readonly ruleMatchCounts: readonly number[];
  readonly requiresImatrix: boolean;
}
