// What the results store keeps of an accuracy or divergence run: the numbers, and what is needed to
// trust and redo them (set fingerprint, shots, format, runtime version, command line).
import type { AccuracyStat, FlipStats, SubjectAccuracy } from "./accuracyStats";
import type { DivergenceStats } from "./divergenceStats";

export type McFormat = "raw" | "chat";

/** Which quant a stored result is for. */
export interface EvaluatedQuant {
  readonly id: string;
  readonly quantPath: string;
  readonly quantName: string;
  readonly quantFingerprint: string;
  /** File size on disk (what efficiency divides by). */
  readonly quantBytes: number;
  readonly bitsPerWeight: number;
}

export interface AccuracyResultRecord extends EvaluatedQuant {
  /** True for the base model's own run (the reference for flips). */
  readonly isBase: boolean;
  readonly setPath: string;
  readonly setFingerprint: string;
  readonly shots: number;
  readonly format: McFormat;
  readonly limit?: number;
  readonly accuracy: AccuracyStat;
  readonly subjects: readonly SubjectAccuracy[];
  /** Percent. */
  readonly chance: number;
  /** (accuracy% − chance%) / GB. */
  readonly efficiency: number;
  readonly flips?: FlipStats;
  /** Why flips were not computed (a different vocabulary). */
  readonly flipsRefused?: string;
  /** The chosen letter per scored question, in order: flips can be recomputed against any later base run. */
  readonly chosen: string;
  readonly runtimeVersion: string;
  readonly commandLine: string;
  readonly createdAt: string;
  readonly durationMs: number;
  readonly questionsPerSecond: number;
  /** Prompt tokens evaluated vs kept from the previous question (the shared header and shots). */
  readonly promptTokens?: { readonly evaluated: number; readonly reused: number };
}

export interface DivergenceResultRecord extends EvaluatedQuant {
  readonly promptsPath: string;
  readonly promptsFingerprint: string;
  readonly tokens: number;
  readonly stats: DivergenceStats;
  readonly runtimeVersion: string;
  readonly commandLine: string;
  readonly createdAt: string;
  readonly durationMs: number;
}
