// The sparse probe design: measurements that grow with the number of groups, not groups × types.
//
// What is measured (each an in-memory evaluation by the probe engine; the probes do not depend on
// the budget, so one set serves every budget):
//   - every group once, at one reference type (G evaluations);
//   - every other candidate type on two groups (≤ 2·T evaluations);
//   - at most 10 whole-recipe evaluations per budget, for the in-context refinement.
// What fills the rest: the weight error of each (group, type), which the engine computes from the
// weights alone (imatrix-weighted when an imatrix is given; no evaluation). For a small weight
// perturbation the added KLD is close to quadratic in the output error, i.e. proportional to the
// (activation-weighted) squared weight error, so within one group
//     KLD(g, t) ≈ KLD(g, ref) · E(g, t) / E(g, ref) · c_t,
// where c_t corrects the proxy per type (measured on the two type-probe groups; c_ref = 1). Unlike a
// rank-one model with one curve for all groups, each group keeps its own type curve from its own
// weights (outlier-heavy tensors lose more at low bits).
import { chooseTypes, type Choice, type Sensitivity, type TensorGroup } from "./optimizer";
import { ggmlTypeByName } from "../gguf/ggmlTypes";

export const MAX_REFINE_EVALUATIONS = 10;

const bpwOf = (t: string) => {
  const i = ggmlTypeByName(t);
  return i ? (i.typeSize * 8) / i.blockSize : 0;
};

/**
 * The type every group is measured at: the middle of the ladder by bits per weight (Q4_K for the
 * default ladder). It does not depend on the budget, so one set of probes serves every budget.
 */
export function referenceType(types: readonly string[]): string {
  const sorted = [...types].sort((a, b) => bpwOf(a) - bpwOf(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** Probe evaluations of the sparse design for G groups and T candidate types (refinement included). */
export function sparseProbeCount(groups: number, types: number): number {
  return groups + 2 * Math.max(0, types - 1) + MAX_REFINE_EVALUATIONS;
}

/**
 * The two groups each non-reference type is measured on: the two largest reference readings among
 * different kinds (a strong signal reads the type's correction best), else the two largest.
 */
export function typeProbeGroups(groups: readonly TensorGroup[], refReadings: ReadonlyMap<string, number>): TensorGroup[] {
  const kindOf = (id: string) => id.replace(/^blk\.\d+\./, "");
  const ranked = [...groups].filter((g) => refReadings.has(g.id)).sort((a, b) => (refReadings.get(b.id) ?? 0) - (refReadings.get(a.id) ?? 0));
  const first = ranked[0];
  if (!first) return [];
  const second = ranked.find((g) => g !== first && kindOf(g.id) !== kindOf(first.id)) ?? ranked[1];
  return second ? [first, second] : [first];
}

export interface SparseFit {
  /** Predicted KLD per group and type (the knapsack's costs). */
  readonly sens: Sensitivity;
  /** Per-type correction of the weight-error proxy. */
  readonly typeCorrection: ReadonlyMap<string, number>;
  /** Leave-one-out check: each type-probe reading predicted from the other group's correction. */
  readonly check: { readonly readings: number; readonly medianAbsLogError: number; readonly worstAbsLogError: number };
}

const geoMean = (xs: readonly number[]) => Math.exp(xs.reduce((s, x) => s + Math.log(x), 0) / xs.length);
const FLOOR = 1e-9;

/**
 * Fills KLD(g, t) for every group and type from the reference readings, the type-probe readings and
 * the weight errors E(g, t). `readings` holds every measured (group, type) value; measured cells keep
 * their measured value.
 */
export function fitSparse(
  groups: readonly TensorGroup[], types: readonly string[], ref: string,
  readings: ReadonlyMap<string, ReadonlyMap<string, number>>, weightError: ReadonlyMap<string, ReadonlyMap<string, number>>,
): SparseFit {
  const proxy = (g: string, t: string): number | undefined => {
    const r = readings.get(g)?.get(ref);
    const e = weightError.get(g);
    const et = e?.get(t);
    const eref = e?.get(ref);
    if (r === undefined || et === undefined || eref === undefined || eref <= 0) return undefined;
    return Math.max(r, FLOOR) * (et / eref);
  };
  // Ratios measured/proxy per type, from groups measured at that type (other than the reference).
  const ratios = new Map<string, { g: string; ratio: number }[]>();
  for (const [g, curve] of readings) {
    for (const [t, v] of curve) {
      if (t === ref) continue;
      const p = proxy(g, t);
      if (p === undefined || p <= 0) continue;
      ratios.set(t, [...(ratios.get(t) ?? []), { g, ratio: Math.max(v, FLOOR) / p }]);
    }
  }
  const typeCorrection = new Map<string, number>([[ref, 1]]);
  for (const t of types) if (t !== ref) typeCorrection.set(t, ratios.has(t) ? geoMean((ratios.get(t) ?? []).map((r) => r.ratio)) : 1);
  const errors: number[] = [];
  for (const list of ratios.values()) {
    if (list.length < 2) continue;
    for (const r of list) {
      const others = list.filter((o) => o !== r).map((o) => o.ratio);
      errors.push(Math.abs(Math.log(r.ratio / geoMean(others))));
    }
  }
  errors.sort((a, b) => a - b);
  const sens = new Map(groups.map((g) => {
    const curve = new Map<string, number>();
    for (const t of types) {
      const measured = readings.get(g.id)?.get(t);
      const p = proxy(g.id, t);
      if (measured !== undefined) curve.set(t, Math.max(measured, 0));
      else if (p !== undefined) curve.set(t, p * (typeCorrection.get(t) ?? 1));
    }
    return [g.id, curve] as const;
  }));
  return {
    sens, typeCorrection,
    check: { readings: errors.length, medianAbsLogError: errors.length ? errors[Math.floor(errors.length / 2)] : NaN, worstAbsLogError: errors.at(-1) ?? NaN },
  };
}

export interface KindRefinement {
  readonly choice: Choice;
  /** Probe-text KLD of the first choice measured whole, and of the kept choice. */
  readonly firstKld: number;
  readonly keptKld: number;
  /** In-context factor per tensor kind: measured gain of one step up ÷ predicted gain. */
  readonly kindFactors: ReadonlyMap<string, number>;
  readonly evaluations: number;
  readonly accepted: boolean;
  /** Which candidate was kept, and every whole-recipe measurement (label, probe-text KLD). */
  readonly keptLabel?: string;
  readonly measured?: readonly { readonly label: string; readonly kld: number }[];
}

const kindOfGroup = (id: string) => id.replace(/^blk\.\d+\./, "");

/**
 * In-context refinement per tensor kind, within MAX_REFINE_EVALUATIONS whole-recipe evaluations.
 * The probes see one group at a time; in a whole recipe, errors add up unevenly by kind (an
 * attention error is carried through every later layer; expert errors are averaged by routing).
 * For the kinds that carry most of the predicted KLD, the recipe is measured with every group of
 * that kind one type up; measured gain ÷ predicted gain rescales that kind's curves, the knapsack
 * is solved again, and the new choice is kept only if it measures better on the probe text.
 */
export async function refineByKind(a: {
  readonly groups: readonly TensorGroup[]; readonly types: readonly string[]; readonly sens: Sensitivity; readonly budgetBytes: number;
  readonly initial: Choice; readonly measure: (types: ReadonlyMap<string, string>, label: string) => Promise<number>;
  readonly maxEvaluations?: number; readonly mayEvaluate?: () => boolean;
  /**
   * Other sensitivity models to hedge with: each is solved for the same budget, and its choice, when
   * it differs, is measured whole and kept if it measures best. No single model of how readings
   * combine held on every model we tried, so the measurement in context decides between them.
   */
  readonly alternatives?: readonly { readonly label: string; readonly sens: Sensitivity }[];
}): Promise<KindRefinement> {
  const maxEvals = Math.min(a.maxEvaluations ?? MAX_REFINE_EVALUATIONS, MAX_REFINE_EVALUATIONS);
  const may = a.mayEvaluate ?? (() => true);
  let evaluations = 0;
  if (maxEvals < 1 || !may()) return { choice: a.initial, firstKld: NaN, keptKld: NaN, kindFactors: new Map(), evaluations, accepted: false };
  const firstKld = await a.measure(a.initial.types, "the chosen recipe, whole");
  evaluations++;
  const alternatives = a.alternatives ?? [];
  const byBpw = [...a.types].sort((x, y) => bpwOf(x) - bpwOf(y));
  const cost = (g: string, t: string) => a.sens.get(g)?.get(t);
  const contribution = new Map<string, number>();
  for (const g of a.groups) {
    const k = kindOfGroup(g.id);
    contribution.set(k, (contribution.get(k) ?? 0) + (cost(g.id, a.initial.types.get(g.id) as string) ?? 0));
  }
  const kinds = [...contribution.entries()].sort((x, y) => y[1] - x[1]).map(([k]) => k);
  const kindFactors = new Map<string, number>();
  for (const kind of kinds) {
    if (evaluations >= maxEvals - 1 - alternatives.length || !may()) break;
    const up = new Map(a.initial.types);
    let predictedGain = 0;
    for (const g of a.groups) {
      if (kindOfGroup(g.id) !== kind) continue;
      const cur = a.initial.types.get(g.id) as string;
      const next = byBpw.slice(byBpw.indexOf(cur) + 1).find((t) => cost(g.id, t) !== undefined);
      if (!next) continue;
      up.set(g.id, next);
      predictedGain += (cost(g.id, cur) ?? 0) - (cost(g.id, next) ?? 0);
    }
    if (predictedGain <= 0) continue;
    const kld = await a.measure(up, `${kind} one type up, in context`);
    evaluations++;
    kindFactors.set(kind, Math.min(4, Math.max(0.25, (firstKld - kld) / predictedGain)));
  }
  const tried: { choice: Choice; kld: number; label: string }[] = [{ choice: a.initial, kld: firstKld, label: "additive" }];
  const sameAsTried = (c: Choice) => tried.some((t) => [...c.types].every(([g, ty]) => t.choice.types.get(g) === ty));
  const tryChoice = async (choice: Choice, label: string) => {
    if (sameAsTried(choice) || evaluations >= maxEvals || !may()) return;
    const kld = await a.measure(choice.types, `the ${label} recipe, whole`);
    evaluations++;
    tried.push({ choice, kld, label });
  };
  if (kindFactors.size > 0 && may()) {
    const scaled: Sensitivity = new Map([...a.sens].map(([g, curve]) => {
      const f = kindFactors.get(kindOfGroup(g)) ?? 1;
      return [g, new Map([...curve].map(([t, v]) => [t, v * f]))];
    }));
    await tryChoice(chooseTypes(a.groups, a.types, scaled, a.budgetBytes, 0), "kind-scaled");
  }
  for (const alt of alternatives) await tryChoice(chooseTypes(a.groups, a.types, alt.sens, a.budgetBytes, 0), alt.label);
  const best = tried.reduce((x, y) => (y.kld < x.kld ? y : x));
  return {
    choice: best.choice, firstKld, keptKld: best.kld, kindFactors, evaluations, accepted: best.choice !== a.initial, keptLabel: best.label,
    measured: tried.map((t) => ({ label: t.label, kld: t.kld })),
  };
}

/**
 * The rank-one alternative to the proxy fill: every group shares one type curve (the type probes'
 * geometric-mean ratio to the reference type), scaled by the group's own reference reading. It
 * ignores the weights' own error curves, which is what a wrong proxy would get wrong.
 */
export function rankOneFromReadings(groups: readonly TensorGroup[], types: readonly string[], ref: string, readings: ReadonlyMap<string, ReadonlyMap<string, number>>): Sensitivity {
  const ratio = new Map<string, number>([[ref, 1]]);
  for (const t of types) {
    if (t === ref) continue;
    const rs: number[] = [];
    for (const curve of readings.values()) {
      const r = curve.get(ref);
      const v = curve.get(t);
      if (r !== undefined && v !== undefined && r > FLOOR) rs.push(Math.max(v, FLOOR) / r);
    }
    if (rs.length) ratio.set(t, geoMean(rs));
  }
  return new Map(groups.map((g) => {
    const r = readings.get(g.id)?.get(ref);
    const curve = new Map<string, number>();
    if (r !== undefined) for (const [t, k] of ratio) curve.set(t, readings.get(g.id)?.get(t) ?? Math.max(r, FLOOR) * k);
    return [g.id, curve] as const;
  }));
}

/** The geometric mean of two sensitivity models, cell by cell (cells in both). */
export function blendSensitivity(x: Sensitivity, y: Sensitivity): Sensitivity {
  return new Map([...x].map(([g, cx]) => {
    const cy = y.get(g);
    const curve = new Map<string, number>();
    for (const [t, v] of cx) {
      const w = cy?.get(t);
      if (w !== undefined) curve.set(t, Math.sqrt(Math.max(v, FLOOR) * Math.max(w, FLOOR)));
    }
    return [g, curve] as const;
  }));
}
