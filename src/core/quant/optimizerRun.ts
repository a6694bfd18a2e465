// The measuring side of the optimizer: sensitivity probes (one group at one type, everything else
// at base precision, KLD on a short held-out slice), cached after every probe so a cancelled or
// interrupted run resumes where it stopped; then the choice, a real quantization and a full KLD
// evaluation of the result, and a fallback comparison when the prediction missed.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "../atomicWrite";
import { ggmlTypeByName } from "../gguf/ggmlTypes";
import { fileFingerprint } from "../eval/fileFingerprint";
import { ensureBaseLogits, type ToolRunFn } from "../eval/kldJob";
import type { LogitsCache } from "../eval/logitsCache";
import { readGgufModel } from "../gguf/splitSet";
import {
  BudgetError, candidateTypes, groupTensors, recipeFromChoice, type Budget, type Choice, type TensorGroup,
} from "./optimizer";
import type { RefineRound } from "./optimizerRefine";
import { measureByEngine, measureByFiles, quantizeAndMeasure, type MeasureContext } from "./optimizerMeasure";
import type { ProbeDesign } from "./optimizerEngineRun";
import { sparseProbeCount, type SparseFit } from "./optimizerSparse";
import { estimateOutputFileBytes, loadRecipeModel, resolveForModel, type RecipeModel } from "./recipeFile";
import { buildStartingRecipe } from "./recipeStarts";
import type { QuantRecipe } from "./recipeTypes";

export interface OptimizeProgress {
  readonly phase: "probe" | "refine" | "verify";
  readonly done: number;
  readonly total: number;
  readonly message: string;
  /** Evaluations per second in this run, and the time left for this phase at that rate. */
  readonly rate?: number;
  readonly etaMs?: number;
}

export interface OptimizeOptions {
  readonly quantize: string;
  readonly perplexity: string;
  readonly basePath: string;
  readonly budget: Budget;
  /** Held-out text for the final verification. */
  readonly evalPath: string;
  /**
   * Text the probes measure on. Default: the eval text. Passing the calibration text (or another
   * held-out slice) keeps the tuning data apart from the text that judges the result.
   */
  readonly probeTextPath?: string;
  readonly imatrix?: string;
  /**
   * Chunks of the probe text per probe. Default 12: a 4-chunk reading at a precise type varies by ×2
   * from slice to slice, and on tiny-moe 12 chunks cut the result's KLD by 7.5% (BENCHMARKS.md).
   */
  readonly probeChunks?: number;
  /** Chunks for the final verification. Default 24. */
  readonly verifyChunks?: number;
  readonly contextSize?: number;
  /** Stop probing after this many evaluations / milliseconds; unmeasured groups then use a per-kind estimate. */
  readonly maxEvaluations?: number;
  readonly maxMs?: number;
  readonly candidateTypes?: readonly string[];
  /**
   * How probe readings become the knapsack's costs: "rank-one" (default) pools them into
   * KLD(group, type) ≈ A_group · D_type (optimizer.ts fitSensitivity); "raw" uses each reading as is.
   */
  readonly sensitivityModel?: "rank-one" | "raw";
  /** Rounds of in-context refinement on the probe text when the prediction missed (optimizerRefine.ts). Default 2; 0: never. */
  readonly refineRounds?: number;
  /**
   * gguf-studio-probe: when given, probes are in-memory evaluations in one loaded model (no model
   * rewrite or reload per probe); without it, every probe runs llama-quantize + llama-perplexity.
   */
  readonly engine?: string;
  /** With the engine: "sparse" (default; G + 2·T + 10 evaluations) or "grid" (every group at every type). */
  readonly design?: ProbeDesign;
  /** GPUs to run one engine each on (probes shared between them); default one engine. */
  readonly engineDevices?: readonly number[];
  /** Base log-probabilities the engine keeps per scored token (default 64). */
  readonly topK?: number;
  /**
   * llama-imatrix: with the engine and no `imatrix`, the activation statistics of the probe text are
   * computed once (cached in workDir) and weight the sparse design's weight-error proxy only; the
   * quantization itself stays without an imatrix. Without it, the proxy is the plain weight error.
   */
  readonly imatrixTool?: string;
  /** Folder for the measurement cache, probe files and the verified quant. */
  readonly workDir: string;
  readonly cache: LogitsCache;
  readonly threads?: number;
  readonly gpuLayers?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: OptimizeProgress) => void;
  readonly onLine?: (line: string) => void;
  readonly run?: ToolRunFn;
}

export interface MeasurementsFile {
  readonly version: 1;
  readonly baseFingerprint: string;
  readonly evalFingerprint: string;
  readonly contextSize: number;
  readonly probeChunks: number;
  readonly imatrix: string | null;
  /** group id → type → measured mean KLD. */
  readonly measurements: Record<string, Record<string, number>>;
  readonly evaluations: number;
  readonly wallMs: number;
}

export interface OptimizeResult {
  readonly recipe: QuantRecipe;
  readonly choice: Choice;
  readonly budgetBytes: number;
  readonly predictedKld: number;
  readonly verified: { readonly quantPath: string; readonly fileBytes: number; readonly meanKld: number; readonly sameTopP?: number; readonly kld99_9?: number };
  /** Recipes compared at verification (the chosen one is the best measured). */
  readonly compared: readonly { readonly name: string; readonly fileBytes: number; readonly meanKld: number }[];
  readonly evaluations: number;
  /** Evaluations made in this run (the rest came from the cache). */
  readonly newEvaluations: number;
  readonly probeWallMs: number;
  /** The in-context refinement: probe-text KLD before and after, its rounds and evaluations. */
  readonly refinement: {
    readonly additiveChoice: Choice; readonly rounds: readonly RefineRound[]; readonly evaluations: number; readonly wallMs: number;
    /** Probe-text KLD of the additive choice measured whole, and whether it agreed with the prediction (then no round ran). */
    readonly measuredKld: number; readonly predictionHeld: boolean;
    /** Engine path: in-context factor per tensor kind. */
    readonly kindFactors?: Readonly<Record<string, number>>;
    /** Engine path: the whole recipes measured in context (probe-text KLD) and which one was kept. */
    readonly candidates?: readonly { readonly label: string; readonly kld: number }[];
    readonly kept?: string;
  };
  readonly verifyWallMs: number;
  readonly measurementsFile: string;
  readonly grouping: "layer×kind";
  readonly design: ProbeDesign | "files";
  /** Where the time went: model load and base pass (engine), probes, refinement, verification. */
  readonly costs: { readonly loadMs: number; readonly baseMs: number; readonly probeWallMs: number; readonly medianProbeMs: number; readonly probesPlanned: number; readonly refineWallMs: number; readonly verifyWallMs: number };
  /** Tensors whose row length cannot take the chosen type: llama-quantize (and the probes) use another. */
  readonly fallbacks: readonly { readonly tensor: string; readonly from: string; readonly to: string }[];
  /** Sparse design: the proxy's per-type corrections and its leave-one-out check. */
  readonly fit?: { readonly referenceType?: string; readonly typeCorrection: Readonly<Record<string, number>>; readonly check: SparseFit["check"] };
}

async function writeJson(file: string, data: unknown): Promise<void> {
  await writeFileAtomically(file, JSON.stringify(data, null, 2));
}

export function budgetToBytes(budget: Budget, model: RecipeModel): number {
  if (budget.kind === "bytes") return budget.bytes;
  const elements = model.tensors.reduce((s, t) => s + t.elementCount, 0);
  return Math.floor((budget.bitsPerWeight * elements) / 8) + model.headerBytes;
}

export interface OptimizationPlan {
  readonly model: RecipeModel;
  readonly groups: readonly TensorGroup[];
  readonly budgetBytes: number;
  /** What no choice changes: the header, tensors llama-quantize keeps, and worst-case padding. */
  readonly fixedBytes: number;
  /** Candidate types probed for this budget. */
  readonly types: readonly string[];
  /** Probe evaluations a run from scratch makes for the design (grid/files: groups × types they may take). */
  readonly probes: number;
  /** The budget's average bits per weight over quantizable tensors. */
  readonly averageBpw: number;
  readonly design: ProbeDesign | "files";
}

/**
 * Groups, candidate types and the probe count for a budget, before anything runs; throws
 * BudgetError when the budget is below the model's smallest size with these types.
 */
export function planOptimization(model: RecipeModel, budget: Budget, o: { readonly imatrixCoverage?: ReadonlySet<string>; readonly hasImatrix?: boolean; readonly candidateTypes?: readonly string[]; readonly design?: ProbeDesign | "files" } = {}): OptimizationPlan {
  const groups = groupTensors(model.tensors);
  const budgetBytes = budgetToBytes(budget, model);
  const allTypes = [...(o.candidateTypes ?? candidateTypes(o.hasImatrix ?? o.imatrixCoverage !== undefined))];
  const uniformSmallest = resolveForModel({ version: 1, baseType: allTypes[0], rules: [] }, model);
  const smallest = estimateOutputFileBytes(model, uniformSmallest);
  if (smallest > budgetBytes) {
    throw new BudgetError(`the budget of ${budgetBytes} bytes is below the smallest possible size of this model with these types (${smallest} bytes, everything at ${allTypes[0]})`);
  }
  const quantizable = uniformSmallest.tensors.filter((t) => t.source.by !== "kept");
  const fixedBytes = model.headerBytes + uniformSmallest.tensors.filter((t) => t.source.by === "kept")
    .reduce((s, t) => s + Math.ceil(t.bytes / model.alignment) * model.alignment, 0) + quantizable.length * model.alignment;
  // Probe only types that a solution near this budget can use: bits per weight within a bracket
  // around the budget's average (measurements outside it would never be picked).
  // The sparse design measures types through the weight-error proxy, so it keeps the whole ladder
  // (e.g. Q8_0 for small attention tensors at a 3-bit budget, as llama.cpp's own MoE mixes do).
  const quantElements = quantizable.reduce((s, t) => s + t.elementCount, 0);
  const averageBpw = ((budgetBytes - fixedBytes) * 8) / quantElements;
  const design = o.design ?? "files";
  const types = o.candidateTypes || design === "sparse" ? allTypes : bracketTypes(allTypes, averageBpw);
  const probes = design === "sparse"
    ? sparseProbeCount(groups.length, types.length)
    : groups.reduce((n, g) => n + types.filter((t) => allowedType(g, t, o.imatrixCoverage)).length, 0);
  return { model, groups, budgetBytes, fixedBytes, types, probes, averageBpw, design };
}

export async function optimizeRecipe(o: OptimizeOptions): Promise<OptimizeResult> {
  await fs.promises.mkdir(o.workDir, { recursive: true });
  const model = await loadRecipeModel(o.basePath);
  const covered = o.imatrix ? await imatrixCoverage(o.imatrix) : undefined;
  // Checks the budget before spending any time.
  const design: ProbeDesign | "files" = o.engine ? (o.design ?? "sparse") : "files";
  const { groups, budgetBytes, fixedBytes: fixed, types } = planOptimization(model, o.budget, { imatrixCoverage: covered, hasImatrix: o.imatrix !== undefined, candidateTypes: o.candidateTypes, design });
  const ctx = o.contextSize ?? 256;
  const probeChunks = o.probeChunks ?? 12;
  const baseFingerprint = await fileFingerprint(o.basePath);
  const probeText = o.probeTextPath ?? o.evalPath;
  const evalFingerprint = await fileFingerprint(probeText);
  const imatrixFp = o.imatrix ? await fileFingerprint(o.imatrix) : null;
  // Engine readings (in-memory quantization, top-k KLD) are kept apart from file-path readings.
  const method = o.engine ? `-engine-k${o.topK ?? 64}` : "";
  const measurementsFile = path.join(o.workDir, `measurements-${baseFingerprint.slice(-12)}-${evalFingerprint.slice(-8)}-${ctx}x${probeChunks}${imatrixFp ? `-im${imatrixFp.slice(-8)}` : ""}${method}.json`);
  let state: MeasurementsFile;
  try {
    state = JSON.parse(await fs.promises.readFile(measurementsFile, "utf8")) as MeasurementsFile;
  } catch {
    state = { version: 1, baseFingerprint, evalFingerprint, contextSize: ctx, probeChunks, imatrix: imatrixFp, measurements: {}, evaluations: 0, wallMs: 0 };
  }
  const resumedEvaluations = Object.values(state.measurements).reduce((n, c) => n + Object.keys(c).length, 0);
  const base = await readGgufModel(o.basePath);
  const warnings: string[] = [];
  const started = Date.now();
  /** The measurement budget (evaluations or time), shared by the probes and the refinement. */
  const withinBudget = (evaluationsMade: number) =>
    (o.maxEvaluations === undefined || evaluationsMade < o.maxEvaluations) && (o.maxMs === undefined || Date.now() - started < o.maxMs);
  const store = { state };
  const mctx: MeasureContext = {
    groups, types, tensorBudgetBytes: budgetBytes - fixed, covered, store, withinBudget, ctx, probeChunks, probeText,
    save: () => writeJson(measurementsFile, store.state), // after every probe: a cancel or kill keeps what was measured
  };
  const engine = o.engine;
  const measured = engine
    ? await measureByEngine({ ...o, engine }, { ...mctx, allowed: (g, t) => allowedType(g, t, covered) })
    : await measureByFiles(o, { ...mctx, model, base, warnings });
  state = store.state;
  const { choice, additiveChoice } = measured;
  const optimized = recipeFromChoice(groups, choice, `Optimized for ${budgetBytes} bytes`, {
    tool: "gguf-studio optimizer", budgetBytes, predictedKld: choice.predictedKld, evaluations: state.evaluations,
    probeChunks, contextSize: ctx, measurements: path.basename(measurementsFile), grouping: "layer×kind", candidates: types, design,
    probeText: path.basename(probeText), evalText: path.basename(o.evalPath),
    refinement: measured.refinementNote,
  });

  // Verify with a real quantization and a longer KLD evaluation.
  const vStart = Date.now();
  const verifyLogits = await ensureBaseLogits(
    { perplexity: o.perplexity, toolVersion: "", basePath: o.basePath, quants: [], evalPath: o.evalPath, contextSize: ctx, chunks: o.verifyChunks ?? 24,
      threads: o.threads, gpuLayers: o.gpuLayers, cache: o.cache, signal: o.signal, run: o.run, onLine: o.onLine }, base, warnings);
  const evaluate = async (recipe: QuantRecipe, tag: string) => {
    const out = path.join(o.workDir, `${tag}.gguf`);
    return { recipe, out, ...(await quantizeAndMeasure(o, model, recipe, out, tag, verifyLogits.file, ctx)) };
  };
  o.onProgress?.({ phase: "verify", done: 0, total: 2, message: "quantizing and evaluating the optimized recipe" });
  const candidates = [await evaluate(optimized, "optimized")];
  // Prediction missed badly (interactions): compare with the Unsloth-style start that fits, keep the best.
  // With the engine, the in-context probe-text reading of the whole recipe is the better prediction.
  const predicted = engine && Number.isFinite(measured.inContextKld) ? measured.inContextKld : choice.predictedKld;
  const verifiedKld = candidates[0].parsed.summary.meanKld?.value ?? Infinity;
  if (verifiedKld > predicted * 1.5) {
    const fallback = largestFittingStart(model, budgetBytes, o.imatrix !== undefined);
    if (fallback) {
      o.onProgress?.({ phase: "verify", done: 1, total: 2, message: "prediction missed: comparing with the dynamic starting point" });
      candidates.push(await evaluate(fallback, "dynamic-start"));
    }
  }
  candidates.sort((a, b) => (a.parsed.summary.meanKld?.value ?? Infinity) - (b.parsed.summary.meanKld?.value ?? Infinity));
  const best = candidates[0];
  for (const c of candidates.slice(1)) await fs.promises.rm(c.out, { force: true });
  return {
    recipe: best.recipe, choice, budgetBytes, predictedKld: predicted,
    verified: {
      quantPath: best.out, fileBytes: (await fs.promises.stat(best.out)).size, meanKld: best.parsed.summary.meanKld?.value ?? NaN,
      ...(best.parsed.summary.sameTopP ? { sameTopP: best.parsed.summary.sameTopP.value } : {}),
      ...(best.parsed.summary.kld99_9 !== undefined ? { kld99_9: best.parsed.summary.kld99_9 } : {}),
    },
    compared: candidates.map((c) => ({ name: c.recipe.name ?? "", fileBytes: c.fileBytes, meanKld: c.parsed.summary.meanKld?.value ?? NaN })),
    evaluations: Math.max(state.evaluations, resumedEvaluations), newEvaluations: measured.newEvaluations, probeWallMs: measured.costs.probeWallMs,
    refinement: {
      additiveChoice, rounds: measured.rounds, evaluations: measured.refineEvaluations, wallMs: measured.costs.refineWallMs,
      measuredKld: measured.inContextKld, predictionHeld: measured.predictionHeld, ...(measured.kindFactors ? { kindFactors: measured.kindFactors } : {}),
      ...(measured.candidates ? { candidates: measured.candidates, kept: measured.kept } : {}),
    },
    verifyWallMs: Date.now() - vStart, measurementsFile, grouping: "layer×kind", design,
    fallbacks: resolveForModel(best.recipe, model).fallbacks.map((f) => ({ tensor: f.name, from: f.fallback?.from ?? "", to: f.type })),
    costs: { ...measured.costs, probesPlanned: measured.probesPlanned, verifyWallMs: Date.now() - vStart },
    ...(measured.fit ? { fit: { referenceType: measured.referenceType, typeCorrection: Object.fromEntries(measured.fit.typeCorrection), check: measured.fit.check } } : {}),
  };
}

/**
 * Groups left unmeasured (evaluation or time budget hit) borrow the mean of measured groups of
 * the same kind at that type, scaled by size; with nothing to borrow they get +Infinity at the
 * smallest types so the choice stays conservative.
 */
/** Types llama.cpp refuses to produce without imatrix data for the tensor (ggml_quantize_requires_imatrix). */
const IMATRIX_ONLY_TYPES = new Set(["IQ2_XXS", "IQ2_XS", "IQ1_S", "IQ1_M"]);

/**
 * Tensors an imatrix GGUF has data for (`<tensor>.in_sum2`). llama-imatrix skips token_embd (a row
 * lookup) and, by default, output.weight; llama-quantize aborts (GGML_ASSERT imatrix != NULL) when
 * such a tensor is given an imatrix-only type.
 */
export async function imatrixCoverage(imatrixPath: string): Promise<ReadonlySet<string>> {
  const file = await readGgufModel(imatrixPath);
  return new Set(file.tensors.map((t) => t.name).filter((n) => n.endsWith(".in_sum2")).map((n) => n.slice(0, -".in_sum2".length)));
}

/** Whether every tensor of the group can take the type, given the imatrix coverage (none: no imatrix). */
export function allowedType(group: TensorGroup, type: string, covered: ReadonlySet<string> | undefined): boolean {
  return !IMATRIX_ONLY_TYPES.has(type) || (covered !== undefined && group.tensors.every((t) => covered.has(t.name)));
}

export function fillUnmeasured(groups: readonly TensorGroup[], types: readonly string[], m: Record<string, Record<string, number>>): void {
  const kindOf = (id: string) => id.replace(/^blk\.\d+\./, "");
  for (const g of groups) {
    for (const t of types) {
      if (m[g.id]?.[t] !== undefined) continue;
      const peers = groups.filter((p) => p !== g && kindOf(p.id) === kindOf(g.id) && m[p.id]?.[t] !== undefined);
      const est = peers.length > 0 ? peers.reduce((s, p) => s + (m[p.id][t] * g.elementCount) / p.elementCount, 0) / peers.length : undefined;
      const last = types.indexOf(t) === types.length - 1;
      m[g.id] = { ...(m[g.id] ?? {}), [t]: est ?? (last ? 0 : Number.MAX_SAFE_INTEGER) };
    }
  }
}

function largestFittingStart(model: RecipeModel, budgetBytes: number, hasImatrix: boolean): QuantRecipe | undefined {
  let best: QuantRecipe | undefined;
  for (const base of hasImatrix ? ["IQ2_XXS", "IQ2_S", "IQ3_XXS", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K"] : ["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K"]) {
    const r = buildStartingRecipe("dynamic", model.tensors, base, { hasImatrix });
    if (estimateOutputFileBytes(model, resolveForModel(r, model)) <= budgetBytes) best = r;
  }
  return best;
}

/** Candidate types whose bits per weight lie within [avg − 1.75, avg + 2.1]; at least the 3 nearest. */
export function bracketTypes(types: readonly string[], averageBpw: number): string[] {
  const bpw = (t: string) => { const i = ggmlTypeByName(t); return i ? (i.typeSize * 8) / i.blockSize : 0; };
  const inside = types.filter((t) => bpw(t) >= averageBpw - 1.75 && bpw(t) <= averageBpw + 2.1);
  if (inside.length >= 3) return inside;
  return [...types].sort((a, b) => Math.abs(bpw(a) - averageBpw) - Math.abs(bpw(b) - averageBpw)).slice(0, 3).sort((a, b) => bpw(a) - bpw(b));
}
