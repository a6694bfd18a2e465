// The optimizer's measuring side with the probe engine: the base model is loaded once, every probe
// and every in-context measurement is an in-memory evaluation (no model rewrite, no reload).
// Two designs: "sparse" (every group at one reference type, each other type on two groups, the rest
// from the weight-error proxy: optimizerSparse.ts) and "grid" (every group at every type).
// Readings are saved after every probe, so a killed or cancelled run resumes where it stopped.
import { ToolCancelledError } from "../native/toolRunner";
import { chooseTypes, fitSensitivity, type Choice, type Sensitivity, type TensorGroup } from "./optimizer";
import { blendSensitivity, fitSparse, rankOneFromReadings, refineByKind, referenceType, typeProbeGroups, type KindRefinement, type SparseFit } from "./optimizerSparse";
import type { ProbeEngineReady, ProbeEvaluator, TensorTypeAssignment } from "./probeEngine";
import { fillUnmeasured } from "./optimizerRun";
import { fallbackType } from "./recipeResolve";

export type ProbeDesign = "sparse" | "grid";

export interface EngineProbeProgress {
  readonly phase: "load" | "probe" | "refine";
  readonly done: number;
  readonly total: number;
  readonly message: string;
  /** Probe evaluations per second in this run, and the estimated time left for this phase. */
  readonly rate?: number;
  readonly etaMs?: number;
}

export interface EngineMeasureArgs {
  /** One engine, or a pool with one engine per GPU (probes then run in parallel). */
  readonly engine: ProbeEvaluator;
  readonly design: ProbeDesign;
  readonly groups: readonly TensorGroup[];
  readonly types: readonly string[];
  /** Budget for quantizable tensor bytes (what chooseTypes gets). */
  readonly tensorBudgetBytes: number;
  /** Whether a group may take a type (imatrix-only types need imatrix data). */
  readonly allowed: (g: TensorGroup, t: string) => boolean;
  /** Saved readings (group → type → KLD) from an earlier run; updated in place and saved by `save`. */
  readonly readings: Record<string, Record<string, number>>;
  readonly save: () => Promise<void>;
  readonly mayEvaluate: (evaluationsThisRun: number) => boolean;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: EngineProbeProgress) => void;
}

export interface EngineMeasureResult {
  readonly sens: Sensitivity;
  readonly additiveChoice: Choice;
  readonly refinement: KindRefinement;
  readonly fit?: SparseFit;
  readonly referenceType?: string;
  readonly probesPlanned: number;
  readonly newEvaluations: number;
  readonly costs: { readonly loadMs: number; readonly baseMs: number; readonly probeWallMs: number; readonly medianProbeMs: number; readonly refineWallMs: number; readonly refineEvaluations: number };
}

/** The engine's tensor assignments for groups at types, with llama-quantize's block-size fallbacks applied. */
export function assignmentsFor(groups: readonly TensorGroup[], typeOf: (g: TensorGroup) => string | undefined): TensorTypeAssignment[] {
  const out: TensorTypeAssignment[] = [];
  for (const g of groups) {
    const t = typeOf(g);
    if (t === undefined) continue;
    for (const tensor of g.tensors) out.push({ name: tensor.name, type: fallbackType(t, tensor.shape[0]) });
  }
  return out;
}

export async function measureWithEngine(a: EngineMeasureArgs): Promise<EngineMeasureResult> {
  const { engine, groups, types } = a;
  const ready: ProbeEngineReady = engine.ready;
  const ref = referenceType(types.filter((t) => groups.every((g) => a.allowed(g, t))));
  const todo: { g: TensorGroup; t: string }[] = [];
  const want = (g: TensorGroup, t: string) => a.allowed(g, t) && a.readings[g.id]?.[t] === undefined;
  if (a.design === "grid") {
    for (const g of groups) for (const t of types) if (want(g, t)) todo.push({ g, t });
  } else {
    for (const g of groups) if (want(g, ref)) todo.push({ g, t: ref });
  }
  const typeProbeCount = a.design === "sparse" ? 2 * types.filter((t) => t !== ref).length : 0;
  const probesPlanned = todo.length + typeProbeCount;
  let newEvaluations = 0;
  const probeMs: number[] = [];
  const started = Date.now();
  const probe = async (g: TensorGroup, t: string, done: number, total: number) => {
    if (a.signal?.aborted) throw new ToolCancelledError("gguf-studio-probe");
    const elapsed = Date.now() - started;
    const rate = newEvaluations > 0 ? (newEvaluations * 1000) / elapsed : undefined;
    a.onProgress?.({ phase: "probe", done, total, message: `${g.id} at ${t}`, rate, etaMs: rate ? ((total - done) / rate) * 1000 : undefined });
    const t0 = Date.now();
    const r = await engine.evaluate(assignmentsFor([g], () => t), `${g.id} at ${t}`);
    probeMs.push(Date.now() - t0);
    a.readings[g.id] = { ...(a.readings[g.id] ?? {}), [t]: r.kld };
    newEvaluations++;
    await a.save();
  };
  let done = 0;
  let startedCount = 0;
  /** Runs probes on every engine of the pool at once, within the measurement budget. */
  const runAll = async (list: readonly { g: TensorGroup; t: string }[]) => {
    let next = 0;
    const worker = async () => {
      while (next < list.length && a.mayEvaluate(startedCount)) {
        const { g, t } = list[next++];
        startedCount++;
        await probe(g, t, done++, probesPlanned);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, engine.parallel) }, worker));
  };
  await runAll(todo);
  let fit: SparseFit | undefined;
  let sens: Sensitivity;
  const alternatives: { label: string; sens: Sensitivity }[] = [];
  /** Each group's cells, without the types it may not take (imatrix-only types without imatrix data). */
  const allowedOnly = (cellsOf: (groupId: string) => Iterable<readonly [string, number]>): Sensitivity =>
    new Map(groups.map((g) => [g.id, new Map([...cellsOf(g.id)].filter(([t]) => a.allowed(g, t)))]));
  if (a.design === "sparse") {
    const refReadings = new Map(groups.filter((g) => a.readings[g.id]?.[ref] !== undefined).map((g) => [g.id, a.readings[g.id][ref]]));
    await runAll(typeProbeGroups(groups, refReadings).flatMap((g) => types.filter((t) => t !== ref && want(g, t)).map((t) => ({ g, t }))));
    a.onProgress?.({ phase: "probe", done, total: probesPlanned, message: "weight errors of every group at every type (no evaluation)" });
    const names = groups.flatMap((g) => g.tensors.map((t) => t.name));
    const perTensor = await engine.weightErrors(names, [...new Set(types.flatMap((t) => groups.flatMap((g) => g.tensors.map((x) => fallbackType(t, x.shape[0])))))]);
    const weightError = new Map(groups.map((g) => {
      const curve = new Map<string, number>();
      for (const t of types) {
        let sum = 0;
        let ok = true;
        for (const x of g.tensors) {
          const e = perTensor.get(x.name)?.get(fallbackType(t, x.shape[0]));
          if (e === undefined) ok = false;
          else sum += e * x.elementCount;
        }
        if (ok) curve.set(t, sum / g.elementCount);
      }
      return [g.id, curve] as const;
    }));
    const readingMap = new Map(Object.entries(a.readings).map(([g, c]) => [g, new Map(Object.entries(c))]));
    fit = fitSparse(groups, types.filter((t) => groups.some((g) => a.allowed(g, t))), ref, readingMap, weightError);
    // Groups left unmeasured (evaluation or time budget) borrow from measured groups of their kind.
    const filled: Record<string, Record<string, number>> = Object.fromEntries([...fit.sens].map(([g, c]) => [g, Object.fromEntries(c)]));
    fillUnmeasured(groups, types, filled);
    sens = allowedOnly((id) => Object.entries(filled[id] ?? {}));
    const unfiltered = rankOneFromReadings(groups, types, ref, readingMap);
    const rankOne = allowedOnly((id) => unfiltered.get(id) ?? []);
    if (groups.every((g) => (rankOne.get(g.id)?.size ?? 0) > 0)) {
      // The blend keeps the cells both models have, so it holds only allowed types too.
      alternatives.push({ label: "rank-one", sens: rankOne }, { label: "blend", sens: blendSensitivity(sens, rankOne) });
    }
  } else {
    sens = fitSensitivity(allowedOnly((id) => Object.entries(a.readings[id] ?? {})));
  }
  const probeWallMs = Date.now() - started;
  const additiveChoice = chooseTypes(groups, types, sens, a.tensorBudgetBytes, 0);

  const rStart = Date.now();
  let refineDone = 0;
  const refinement = await refineByKind({
    groups, types, sens, budgetBytes: a.tensorBudgetBytes, initial: additiveChoice, alternatives,
    mayEvaluate: () => a.mayEvaluate(newEvaluations + refineDone),
    measure: async (typeOf, label) => {
      if (a.signal?.aborted) throw new ToolCancelledError("gguf-studio-probe");
      a.onProgress?.({ phase: "refine", done: refineDone, total: 10, message: label });
      refineDone++;
      const r = await engine.evaluate(assignmentsFor(groups, (g) => typeOf.get(g.id)), label);
      return r.kld;
    },
  });
  const sortedMs = [...probeMs].sort((x, y) => x - y);
  return {
    sens, additiveChoice, refinement, fit, referenceType: a.design === "sparse" ? ref : undefined, probesPlanned, newEvaluations: newEvaluations + refineDone,
    costs: {
      loadMs: ready.loadMs, baseMs: ready.baseMs, probeWallMs, medianProbeMs: sortedMs.length ? sortedMs[Math.floor(sortedMs.length / 2)] : NaN,
      refineWallMs: Date.now() - rStart, refineEvaluations: refinement.evaluations,
    },
  };
}
