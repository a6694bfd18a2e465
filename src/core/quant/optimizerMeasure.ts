// The optimizer's measuring paths and the one quantize-and-measure step of the real tool path.
// - measureByEngine: the probe engine (one loaded model, in-memory probes; optimizerEngineRun.ts).
// - measureByFiles: the original path for tools without the engine: every probe writes a GGUF
//   with llama-quantize and evaluates it with llama-perplexity (a write and a reload per probe).
// The final verification always uses the real path (quantizeAndMeasure).
import fs from "node:fs";
import path from "node:path";
import { ggmlTypeName } from "../gguf/ggmlTypes";
import { ensureBaseLogits, runKldForQuant } from "../eval/kldJob";
import { fileFingerprint } from "../eval/fileFingerprint";
import type { GgufModel } from "../gguf/types";
import { runTool, ToolCancelledError } from "../native/toolRunner";
import { chooseTypes, fitSensitivity, recipeFromChoice, type Choice, type Sensitivity, type TensorGroup } from "./optimizer";
import { measureWithEngine, type ProbeDesign } from "./optimizerEngineRun";
import { refineChoice, type RefineRound } from "./optimizerRefine";
import type { SparseFit } from "./optimizerSparse";
import { ProbeEngine, ProbeEnginePool, type ProbeEngineOptions, type ProbeEvaluator } from "./probeEngine";
import { compileRecipe, writeCompiledRecipe } from "./recipeCompile";
import { estimateOutputFileBytes, resolveForModel, type RecipeModel } from "./recipeFile";
import type { QuantRecipe } from "./recipeTypes";
import { allowedType, fillUnmeasured, type MeasurementsFile, type OptimizeOptions } from "./optimizerRun";

export interface MeasuredChoice {
  readonly choice: Choice;
  readonly additiveChoice: Choice;
  /** Probe-text KLD of the chosen recipe measured whole (in context). */
  readonly inContextKld: number;
  readonly rounds: readonly RefineRound[];
  readonly refineEvaluations: number;
  readonly predictionHeld: boolean;
  readonly kindFactors?: Readonly<Record<string, number>>;
  /** Engine path: every whole recipe measured in context (label, probe-text KLD) and the one kept. */
  readonly candidates?: readonly { readonly label: string; readonly kld: number }[];
  readonly kept?: string;
  readonly newEvaluations: number;
  readonly probesPlanned: number;
  readonly fit?: SparseFit;
  readonly referenceType?: string;
  readonly costs: { readonly loadMs: number; readonly baseMs: number; readonly probeWallMs: number; readonly medianProbeMs: number; readonly refineWallMs: number };
  /** What the recipe's generatedBy records about the refinement. */
  readonly refinementNote: Record<string, unknown>;
}

export interface MeasureContext {
  readonly groups: readonly TensorGroup[];
  readonly types: readonly string[];
  readonly tensorBudgetBytes: number;
  readonly covered: ReadonlySet<string> | undefined;
  /** The resume file's content; `save` writes it. */
  readonly store: { state: MeasurementsFile };
  readonly save: () => Promise<void>;
  readonly withinBudget: (evaluationsMade: number) => boolean;
  readonly ctx: number;
  readonly probeChunks: number;
  readonly probeText: string;
}

/** Quantizes `recipe` to `out` with llama-quantize; returns the estimated file size. */
export async function quantizeWith(o: OptimizeOptions, model: RecipeModel, recipe: QuantRecipe, out: string, tag: string): Promise<number> {
  const resolution = resolveForModel(recipe, model);
  const written = await writeCompiledRecipe(compileRecipe(recipe, resolution), path.join(o.workDir, `${tag}.tensor-types.txt`));
  const args = [...written.extraArgs, ...(o.imatrix ? ["--imatrix", o.imatrix] : []), model.path, out, written.ftype];
  if (o.threads) args.push(String(o.threads));
  await (o.run ?? runTool)({ executable: o.quantize, args, signal: o.signal, outputs: [out], onLine: o.onLine });
  return estimateOutputFileBytes(model, resolution);
}

/** Quantizes `recipe` to `out` and measures its KLD against `logitsFile`: one evaluation of the real path. */
export async function quantizeAndMeasure(o: OptimizeOptions, model: RecipeModel, recipe: QuantRecipe, out: string, tag: string, logitsFile: string, ctx: number) {
  const fileBytes = await quantizeWith(o, model, recipe, out, tag);
  const { parsed } = await runKldForQuant(
    { perplexity: o.perplexity, contextSize: ctx, threads: o.threads, gpuLayers: o.gpuLayers, signal: o.signal, run: o.run, onLine: o.onLine },
    out, logitsFile);
  return { fileBytes, parsed };
}

/**
 * The probe text's activation statistics (llama-imatrix over the same chunks the probes read), cached
 * in the work folder by base and text fingerprint: they weight the weight-error proxy.
 */
async function probeTextImatrix(o: OptimizeOptions, c: MeasureContext): Promise<string> {
  const [baseFp, textFp] = await Promise.all([fileFingerprint(o.basePath), fileFingerprint(c.probeText)]);
  const file = path.join(o.workDir, `proxy-${baseFp.slice(-12)}-${textFp.slice(-8)}-${c.ctx}x${c.probeChunks}.imatrix.gguf`);
  if (fs.existsSync(file)) return file;
  o.onProgress?.({ phase: "probe", done: 0, total: 1, message: "activation statistics of the probe text (llama-imatrix), for the weight-error proxy" });
  const temp = `${file}.partial-${process.pid}.gguf`;
  try {
    await (o.run ?? runTool)({
      executable: o.imatrixTool as string, signal: o.signal, onLine: o.onLine, outputs: [temp],
      args: ["-m", o.basePath, "-f", c.probeText, "-o", temp, "-c", String(c.ctx), "--chunks", String(c.probeChunks), ...(o.threads ? ["-t", String(o.threads)] : []), ...(o.gpuLayers !== undefined ? ["-ngl", String(o.gpuLayers)] : [])],
    });
    await fs.promises.rename(temp, file);
  } finally {
    await fs.promises.rm(temp, { force: true });
  }
  return file;
}

export async function measureByEngine(o: OptimizeOptions & { readonly engine: string }, c: MeasureContext & { readonly allowed: (g: TensorGroup, t: string) => boolean }): Promise<MeasuredChoice> {
  o.onProgress?.({ phase: "probe", done: 0, total: 1, message: "loading the base model into the probe engine and computing its log-probabilities" });
  // Without activation statistics the proxy is the plain weight error: a failed llama-imatrix run (e.g.
  // a text too short, which the engine then reports in its own words) does not stop the optimizer.
  const proxyImatrix = !o.imatrix && o.imatrixTool && (o.design ?? "sparse") === "sparse"
    ? await probeTextImatrix(o, c).catch((e: Error) => {
      if (e instanceof ToolCancelledError) throw e;
      o.onLine?.(`activation statistics for the proxy failed (${e.message.split("\n")[0]}); using the plain weight error`);
      return undefined;
    })
    : undefined;
  const eo: ProbeEngineOptions = {
    executable: o.engine, basePath: o.basePath, textPath: c.probeText, contextSize: c.ctx, chunks: c.probeChunks, imatrix: o.imatrix, proxyImatrix,
    gpuLayers: o.gpuLayers, threads: o.threads, topK: o.topK, signal: o.signal, run: o.run, onLine: o.onLine,
  };
  // Several GPUs: one engine per GPU, the probes shared between them.
  const engine: ProbeEvaluator = o.engineDevices && o.engineDevices.length > 1 ? await ProbeEnginePool.start(eo, o.engineDevices) : await ProbeEngine.start(eo);
  try {
    const design: ProbeDesign = o.design ?? "sparse";
    const r = await measureWithEngine({
      engine, design, groups: c.groups, types: c.types, tensorBudgetBytes: c.tensorBudgetBytes, allowed: c.allowed,
      readings: c.store.state.measurements, save: c.save, mayEvaluate: c.withinBudget, signal: o.signal,
      onProgress: (p) => o.onProgress?.({ phase: p.phase === "refine" ? "refine" : "probe", done: p.done, total: p.total, message: p.message, rate: p.rate, etaMs: p.etaMs }),
    });
    const st = c.store.state;
    c.store.state = { ...st, evaluations: st.evaluations + r.newEvaluations - r.refinement.evaluations, wallMs: st.wallMs + r.costs.probeWallMs };
    await c.save();
    const kindFactors = Object.fromEntries(r.refinement.kindFactors);
    return {
      choice: r.refinement.choice, additiveChoice: r.additiveChoice, inContextKld: r.refinement.keptKld, rounds: [], refineEvaluations: r.refinement.evaluations,
      predictionHeld: !r.refinement.accepted, kindFactors, candidates: r.refinement.measured, kept: r.refinement.keptLabel, newEvaluations: r.newEvaluations, probesPlanned: r.probesPlanned, fit: r.fit, referenceType: r.referenceType,
      costs: { loadMs: r.costs.loadMs, baseMs: r.costs.baseMs, probeWallMs: r.costs.probeWallMs, medianProbeMs: r.costs.medianProbeMs, refineWallMs: r.costs.refineWallMs },
      refinementNote: { method: "per-kind in context", evaluations: r.refinement.evaluations, kindFactors, firstKld: r.refinement.firstKld, keptKld: r.refinement.keptKld, accepted: r.refinement.accepted, kept: r.refinement.keptLabel ?? "additive", measured: r.refinement.measured ?? [] },
    };
  } finally {
    await engine.close();
  }
}

export async function measureByFiles(o: OptimizeOptions, c: MeasureContext & { readonly model: RecipeModel; readonly base: GgufModel; readonly warnings: string[] }): Promise<MeasuredChoice> {
  const { groups, types, model } = c;
  const measurements = c.store.state.measurements;
  const probeLogits = await ensureBaseLogits(
    { perplexity: o.perplexity, toolVersion: "", basePath: o.basePath, quants: [], evalPath: c.probeText, contextSize: c.ctx, chunks: c.probeChunks,
      threads: o.threads, gpuLayers: o.gpuLayers, cache: o.cache, signal: o.signal, run: o.run, onLine: o.onLine }, c.base, c.warnings);
  // Everything else stays at the source precision, so a probe isolates one group's error.
  const sourceType = ggmlTypeName(groups[0]?.tensors[0]?.ggmlType ?? 1);
  const todo: { g: TensorGroup; t: string }[] = [];
  for (const g of groups) for (const t of types) if (allowedType(g, t, c.covered) && measurements[g.id]?.[t] === undefined) todo.push({ g, t });
  const total = groups.length * types.length;
  let done = total - todo.length;
  let newEvaluations = 0;
  const started = Date.now();
  const probeMs: number[] = [];
  const probeFile = path.join(o.workDir, "probe.gguf");
  try {
    for (const { g, t } of todo) {
      if (o.signal?.aborted) throw new ToolCancelledError(o.quantize);
      if (!c.withinBudget(newEvaluations)) break;
      const rate = newEvaluations > 0 ? (newEvaluations * 1000) / (Date.now() - started) : undefined;
      o.onProgress?.({ phase: "probe", done, total, message: `${g.id} at ${t}`, rate, etaMs: rate ? ((total - done) / rate) * 1000 : undefined });
      const probe: QuantRecipe = { version: 1, baseType: t, rules: [{ pattern: ".", type: sourceType }, { pattern: g.pattern, type: t }] };
      const t0 = Date.now();
      const { parsed } = await quantizeAndMeasure(o, model, probe, probeFile, "probe", probeLogits.file, c.ctx);
      probeMs.push(Date.now() - t0);
      measurements[g.id] = { ...(measurements[g.id] ?? {}), [t]: parsed.summary.meanKld?.value ?? 0 };
      const st = c.store.state;
      c.store.state = { ...st, measurements, evaluations: st.evaluations + 1, wallMs: st.wallMs + (Date.now() - t0) };
      newEvaluations++;
      done++;
      await c.save(); // after every probe: a cancel keeps what was measured
    }
  } finally {
    await fs.promises.rm(probeFile, { force: true });
  }
  const probeWallMs = Date.now() - started;
  fillUnmeasured(groups, types, measurements);
  const readings: Sensitivity = new Map(groups.map((g) => [g.id, new Map(Object.entries(measurements[g.id] ?? {}).filter(([t]) => allowedType(g, t, c.covered)))]));
  const sens = o.sensitivityModel === "raw" ? readings : fitSensitivity(readings);
  const additiveChoice = chooseTypes(groups, types, sens, c.tensorBudgetBytes, 0);

  // Refine in context on the probe text, within what is left of the measurement budget.
  const rStart = Date.now();
  const refineFile = path.join(o.workDir, "refine.gguf");
  const rounds = o.refineRounds ?? 2;
  let refineCount = 0;
  try {
    const refinement = await refineChoice({
      groups, types, sens, budgetBytes: c.tensorBudgetBytes, initial: additiveChoice, sourceType, rounds,
      mayEvaluate: () => c.withinBudget(newEvaluations + refineCount),
      measure: async (typeOf) => {
        if (o.signal?.aborted) throw new ToolCancelledError(o.quantize);
        refineCount++;
        o.onProgress?.({ phase: "refine", done: refineCount, total: rounds * (groups.length + 1) + 1, message: "measuring groups in the context of the chosen recipe" });
        const recipe = recipeFromChoice(groups, { types: typeOf, bytes: 0, predictedKld: 0 }, "refine", {});
        const { parsed } = await quantizeAndMeasure(o, model, recipe, refineFile, "refine", probeLogits.file, c.ctx);
        return parsed.summary.meanKld?.value ?? Infinity;
      },
    });
    const sorted = [...probeMs].sort((a, b) => a - b);
    return {
      choice: refinement.choice, additiveChoice, inContextKld: refinement.rounds[0]?.fromKld ?? refinement.probeKld, rounds: refinement.rounds,
      refineEvaluations: refinement.evaluations, predictionHeld: refinement.predictionHeld, newEvaluations: newEvaluations + refineCount, probesPlanned: total,
      costs: { loadMs: 0, baseMs: 0, probeWallMs, medianProbeMs: sorted.length ? sorted[Math.floor(sorted.length / 2)] : NaN, refineWallMs: Date.now() - rStart },
      refinementNote: { method: "per-group in context", evaluations: refinement.evaluations, predictionHeld: refinement.predictionHeld, rounds: refinement.rounds },
    };
  } finally {
    await fs.promises.rm(refineFile, { force: true });
  }
}
