// Statistics over per-question outcomes: accuracy ± standard error (overall and per subject), flips
// against the base model ("Accuracy is not all you need", Dutta et al. 2024: answers whose
// correctness changes) and efficiency = (accuracy% − chance%) / GB (Unsloth's Dynamic 2.0 table).

export interface QuestionOutcome {
  readonly id: string;
  readonly subject: string;
  readonly choiceCount: number;
  readonly answer: number;
  readonly chosen: number;
}

export interface AccuracyStat {
  readonly n: number;
  readonly correct: number;
  /** Percent. */
  readonly accuracy: number;
  /** Standard error of the accuracy, percent: 100·√(p(1−p)/n). */
  readonly stderr: number;
}

export interface SubjectAccuracy extends AccuracyStat {
  readonly subject: string;
}

export interface FlipStats {
  /** Questions both runs answered. */
  readonly n: number;
  /** Questions whose correctness differs from the base's. */
  readonly flips: number;
  readonly flipsPercent: number;
  readonly wrongToRight: number;
  readonly rightToWrong: number;
  /** Questions where the chosen letter differs (a wrong answer can change to another wrong one). */
  readonly changedAnswers: number;
}

export function accuracyOf(outcomes: readonly QuestionOutcome[]): AccuracyStat {
  const n = outcomes.length;
  const correct = outcomes.filter((o) => o.chosen === o.answer).length;
  const p = n > 0 ? correct / n : 0;
  return { n, correct, accuracy: 100 * p, stderr: n > 0 ? 100 * Math.sqrt((p * (1 - p)) / n) : 0 };
}

/** Per subject, in first-appearance order. */
export function accuracyBySubject(outcomes: readonly QuestionOutcome[]): SubjectAccuracy[] {
  const groups = new Map<string, QuestionOutcome[]>();
  for (const o of outcomes) groups.set(o.subject, [...(groups.get(o.subject) ?? []), o]);
  return [...groups].map(([subject, list]) => ({ subject, ...accuracyOf(list) }));
}

/** Chance in percent: the mean of 100/choices over the questions (25 for four choices). */
export function chancePercent(outcomes: readonly QuestionOutcome[]): number {
  if (outcomes.length === 0) return 0;
  return outcomes.reduce((s, o) => s + 100 / o.choiceCount, 0) / outcomes.length;
}

/** Flips of `quant` against `base`, matched by question id; questions only one of them has are left out. */
export function flipsAgainst(base: readonly QuestionOutcome[], quant: readonly QuestionOutcome[]): FlipStats {
  const byId = new Map(base.map((o) => [o.id, o]));
  let n = 0;
  let wrongToRight = 0;
  let rightToWrong = 0;
  let changedAnswers = 0;
  for (const q of quant) {
    const b = byId.get(q.id);
    if (!b) continue;
    n++;
    const baseRight = b.chosen === b.answer;
    const quantRight = q.chosen === q.answer;
    if (!baseRight && quantRight) wrongToRight++;
    if (baseRight && !quantRight) rightToWrong++;
    if (b.chosen !== q.chosen) changedAnswers++;
  }
  const flips = wrongToRight + rightToWrong;
  return { n, flips, flipsPercent: n > 0 ? (100 * flips) / n : 0, wrongToRight, rightToWrong, changedAnswers };
}

/** Bytes per GB: the decimal gigabyte, as model sizes on disk are quoted. */
export const BYTES_PER_GB = 1e9;

/** (accuracy% − chance%) / GB on disk. */
export function efficiency(accuracyPercent: number, chance: number, bytes: number): number {
  return (accuracyPercent - chance) / (bytes / BYTES_PER_GB);
}
