// One point per quant for the chart: its KLD result joined with its latest accuracy and divergence
// results (by quant fingerprint). Accuracy is taken from runs made the way the base's latest run was
// (same set, shots, format, limit), so the points of one chart are comparable; divergence likewise
// from the latest prompts and token count.
import path from "node:path";
import type { ChartPoint } from "../../shared/chartsProtocol";
import type { QuantEvalSummary } from "../../shared/inspectorProtocol";
import type { AccuracyResultRecord, DivergenceResultRecord } from "./accuracyRecords";
import { guessQuantLabel } from "./kldJob";
import type { KldResultRecord, KldResultsFile } from "./resultsStore";

export function kldChartPoint(r: KldResultRecord): ChartPoint {
  const s = r.summary;
  return {
    id: r.id, label: r.label, origin: r.origin, quantName: r.quantName, bytes: r.quantBytes, bitsPerWeight: r.bitsPerWeight,
    meanKld: s.meanKld?.value ?? NaN, chunks: r.chunks, contextSize: r.contextSize, evalName: path.basename(r.evalPath),
    ...(s.meanKld?.error !== undefined ? { meanKldError: s.meanKld.error } : {}),
    ...(s.kld99_9 !== undefined ? { kld99_9: s.kld99_9 } : {}),
    ...(s.sameTopP ? { sameTopP: s.sameTopP.value } : {}),
    ...(s.pplRatio ? { pplRatio: s.pplRatio.value } : {}),
  };
}

const newest = <T extends { createdAt: string }>(list: readonly T[]): T | undefined => [...list].sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];

/** The accuracy runs comparable with the base's latest run, newest per quant fingerprint. */
export function currentAccuracy(data: KldResultsFile): { base?: AccuracyResultRecord; byQuant: Map<string, AccuracyResultRecord> } {
  const all = data.accuracy ?? [];
  const base = newest(all.filter((r) => r.isBase));
  const byQuant = new Map<string, AccuracyResultRecord>();
  if (!base) return { byQuant };
  const comparable = all.filter((r) => !r.isBase && r.setFingerprint === base.setFingerprint && r.shots === base.shots && r.format === base.format && r.limit === base.limit);
  for (const r of comparable) {
    const seen = byQuant.get(r.quantFingerprint);
    if (!seen || r.createdAt > seen.createdAt) byQuant.set(r.quantFingerprint, r);
  }
  return { base, byQuant };
}

export function currentDivergence(data: KldResultsFile): Map<string, DivergenceResultRecord> {
  const all = data.divergence ?? [];
  const latest = newest(all);
  const out = new Map<string, DivergenceResultRecord>();
  if (!latest) return out;
  for (const r of all.filter((x) => x.promptsFingerprint === latest.promptsFingerprint && x.tokens === latest.tokens)) {
    const seen = out.get(r.quantFingerprint);
    if (!seen || r.createdAt > seen.createdAt) out.set(r.quantFingerprint, r);
  }
  return out;
}

function extras(acc: AccuracyResultRecord | undefined, div: DivergenceResultRecord | undefined): Partial<ChartPoint> {
  return {
    ...(acc ? { accuracy: acc.accuracy.accuracy, accuracyError: acc.accuracy.stderr, efficiency: acc.efficiency } : {}),
    ...(acc?.flips ? { flipsPercent: acc.flips.flipsPercent } : {}),
    ...(div ? { divergence: div.stats.exactMatchPercent, divergenceTokens: div.tokens } : {}),
  };
}

/**
 * KLD points (latest per quant fingerprint keeps every KLD record, as before) with accuracy and
 * divergence attached; quants measured only for accuracy or divergence, and the base's own accuracy
 * run, become points of their own (mean KLD NaN).
 */
export function joinedChartPoints(data: KldResultsFile): ChartPoint[] {
  const { base, byQuant } = currentAccuracy(data);
  const divergence = currentDivergence(data);
  const used = new Set<string>();
  const points: ChartPoint[] = data.results.map((r) => {
    used.add(r.quantFingerprint);
    return { ...kldChartPoint(r), ...extras(byQuant.get(r.quantFingerprint), divergence.get(r.quantFingerprint)) };
  });
  const others = new Map<string, { name: string; path: string; bytes: number; bpw: number; id: string }>();
  for (const r of [...byQuant.values(), ...divergence.values()]) {
    if (!used.has(r.quantFingerprint) && r.quantFingerprint !== data.base.fingerprint) others.set(r.quantFingerprint, { name: r.quantName, path: r.quantPath, bytes: r.quantBytes, bpw: r.bitsPerWeight, id: r.id });
  }
  for (const [fp, o] of others) {
    const guess = guessQuantLabel(o.path);
    points.push({
      id: `q-${o.id}`, label: guess.label, origin: guess.origin, quantName: o.name, bytes: o.bytes, bitsPerWeight: o.bpw,
      meanKld: NaN, chunks: 0, contextSize: 0, evalName: "", ...extras(byQuant.get(fp), divergence.get(fp)),
    });
  }
  if (base) {
    points.push({
      id: `base-${base.id}`, label: "base", origin: "other", quantName: base.quantName, bytes: base.quantBytes, bitsPerWeight: base.bitsPerWeight,
      meanKld: NaN, chunks: 0, contextSize: 0, evalName: "", accuracy: base.accuracy.accuracy, accuracyError: base.accuracy.stderr, efficiency: base.efficiency,
    });
  }
  return points;
}

/** The newest base results file that mentions `modelPath` (as a quant, or as the base with an accuracy run). */
export function evalSummaryFor(files: readonly KldResultsFile[], modelPath: string): QuantEvalSummary | undefined {
  const target = path.resolve(modelPath);
  const same = (p: string) => path.resolve(p) === target;
  let best: QuantEvalSummary | undefined;
  for (const data of files) {
    const { base, byQuant } = currentAccuracy(data);
    const isBase = same(data.base.path);
    const kld = data.results.filter((r) => same(r.quantPath)).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0];
    const acc = isBase ? base : [...byQuant.values()].find((r) => same(r.quantPath));
    const div = [...currentDivergence(data).values()].find((r) => same(r.quantPath));
    if (!kld && !acc && !div) continue;
    const measuredAt = [kld?.createdAt, acc?.createdAt, div?.createdAt].filter((x): x is string => x !== undefined).sort().at(-1) as string;
    const summary: QuantEvalSummary = {
      baseName: data.base.name, isBase, measuredAt,
      ...(kld?.summary.meanKld ? { meanKld: kld.summary.meanKld.value } : {}),
      ...(kld?.summary.sameTopP ? { sameTopP: kld.summary.sameTopP.value } : {}),
      ...(acc ? { accuracy: acc.accuracy.accuracy, accuracyError: acc.accuracy.stderr, efficiency: acc.efficiency } : {}),
      ...(acc?.flips ? { flipsPercent: acc.flips.flipsPercent } : {}),
      ...(base && !isBase ? { baseAccuracy: base.accuracy.accuracy, baseEfficiency: base.efficiency } : {}),
      ...(div ? { divergence: div.stats.exactMatchPercent, divergenceTokens: div.tokens } : {}),
    };
    if (!best || summary.measuredAt > best.measuredAt) best = summary;
  }
  return best;
}
