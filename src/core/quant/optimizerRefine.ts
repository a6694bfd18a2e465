// In-context refinement of the optimizer's choice.
//
// The probes measure each group alone, everything else at the source precision. In a real recipe
// every group is quantized at once, and errors compound unevenly: an early layer's error is carried
// through all later ones, so some groups cost more in context than alone and the additive model
// misjudges the trade-off. This pass measures each group's contribution inside the chosen recipe
// (the recipe with that one group put back to the source precision), rescales that group's whole
// sensitivity curve by contribution ÷ prediction, solves the knapsack again and keeps the new choice
// only if a real quantization measures better on the probe text. The judging text is never used.
// It runs only when the prediction missed: when the chosen recipe, measured whole on the probe text,
// reads more than `missFactor` × the additive prediction. Where the prediction holds, the per-group
// differences are mostly reading noise, and re-solving on them made the choice worse (BENCHMARKS.md).
import { chooseTypes, type Choice, type Sensitivity, type TensorGroup } from "./optimizer";

/** A group's in-context scale is kept within these bounds: one noisy difference must not dominate. */
export const SCALE_MIN = 0.25;
export const SCALE_MAX = 4;

export interface RefineArgs {
  readonly groups: readonly TensorGroup[];
  readonly types: readonly string[];
  readonly sens: Sensitivity;
  /** Tensor-byte budget, as given to chooseTypes. */
  readonly budgetBytes: number;
  readonly initial: Choice;
  /** Mean KLD on the probe text of a real quantization that gives each group the type in `types`. */
  readonly measure: (types: ReadonlyMap<string, string>) => Promise<number>;
  /** The source precision, standing for "this group unquantized" when measuring its contribution. */
  readonly sourceType: string;
  readonly rounds: number;
  /** Refine only when the measured KLD exceeds missFactor × the prediction (default 1.5; 0: always). */
  readonly missFactor?: number;
  /** Asked before every evaluation; false stops the refinement (evaluation or time budget spent). */
  readonly mayEvaluate: () => boolean;
}

export interface RefineRound {
  readonly round: number;
  /** Probe-text KLD of the choice this round started from, and of the re-solved choice (undefined: not measured). */
  readonly fromKld: number;
  readonly toKld?: number;
  readonly changedGroups: number;
  readonly accepted: boolean;
}

export interface RefineResult {
  readonly choice: Choice;
  /** Probe-text KLD of `choice` (NaN when no evaluation was allowed). */
  readonly probeKld: number;
  readonly rounds: readonly RefineRound[];
  readonly evaluations: number;
  /** True when the whole-recipe measurement agreed with the prediction, so no round ran. */
  readonly predictionHeld: boolean;
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 1;
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Each group's measured curve multiplied by its scale (groups without one take the median scale). */
export function scaleSensitivity(sens: Sensitivity, scales: ReadonlyMap<string, number>): Sensitivity {
  const fallback = median([...scales.values()]);
  return new Map([...sens].map(([id, curve]) => {
    const s = scales.get(id) ?? fallback;
    return [id, new Map([...curve].map(([t, v]) => [t, v * s]))];
  }));
}

/** contribution ÷ prediction, clamped; a prediction of (almost) nothing gives no scale. */
export function contextScale(contribution: number, predicted: number): number | undefined {
  if (!(predicted > 1e-9)) return undefined;
  return Math.min(SCALE_MAX, Math.max(SCALE_MIN, contribution / predicted));
}

export async function refineChoice(a: RefineArgs): Promise<RefineResult> {
  let evaluations = 0;
  const measure = async (types: ReadonlyMap<string, string>) => {
    evaluations++;
    return a.measure(types);
  };
  const rounds: RefineRound[] = [];
  let current = a.initial;
  if (a.rounds <= 0 || !a.mayEvaluate()) return { choice: current, probeKld: NaN, rounds, evaluations, predictionHeld: false };
  let currentKld = await measure(current.types);
  if (currentKld <= current.predictedKld * (a.missFactor ?? 1.5)) return { choice: current, probeKld: currentKld, rounds, evaluations, predictionHeld: true };
  for (let round = 1; round <= a.rounds; round++) {
    // Largest predicted contributions first, so a budget that runs out has measured what matters.
    const predictedOf = (g: TensorGroup) => a.sens.get(g.id)?.get(current.types.get(g.id) as string) ?? 0;
    const order = a.groups.filter((g) => current.types.get(g.id) !== a.sourceType && predictedOf(g) > 1e-9)
      .sort((x, y) => predictedOf(y) - predictedOf(x));
    const scales = new Map<string, number>();
    for (const g of order) {
      if (!a.mayEvaluate()) break;
      const without = await measure(new Map(current.types).set(g.id, a.sourceType));
      const s = contextScale(currentKld - without, predictedOf(g));
      if (s !== undefined) scales.set(g.id, s);
    }
    if (scales.size === 0) break;
    const next = chooseTypes(a.groups, a.types, scaleSensitivity(a.sens, scales), a.budgetBytes, 0);
    const changedGroups = a.groups.filter((g) => next.types.get(g.id) !== current.types.get(g.id)).length;
    if (changedGroups === 0 || !a.mayEvaluate()) {
      rounds.push({ round, fromKld: currentKld, changedGroups, accepted: false });
      break;
    }
    const nextKld = await measure(next.types);
    const accepted = nextKld < currentKld;
    rounds.push({ round, fromKld: currentKld, toKld: nextKld, changedGroups, accepted });
    if (!accepted) break;
    current = next;
    currentKld = nextKld;
  }
  return { choice: current, probeKld: currentKld, rounds, evaluations, predictionHeld: false };
}
