// Pure chart helpers (no DOM): metric access, Pareto frontier, ticks and CSV. Unit-tested in Node.
import type { ChartAxis, ChartMetric, ChartPoint } from "../../src/shared/chartsProtocol";

export const METRICS: Record<ChartMetric, { label: string; lowerIsBetter: boolean; unit: string }> = {
  meanKld: { label: "Mean KLD", lowerIsBetter: true, unit: "" },
  kld99_9: { label: "99.9% KLD", lowerIsBetter: true, unit: "" },
  sameTopP: { label: "Same top p", lowerIsBetter: false, unit: "%" },
  accuracy: { label: "Accuracy", lowerIsBetter: false, unit: "%" },
  flipsPercent: { label: "Flips", lowerIsBetter: true, unit: "%" },
  efficiency: { label: "Efficiency", lowerIsBetter: false, unit: "" },
  divergence: { label: "Divergence exact match", lowerIsBetter: false, unit: "%" },
};

/** Metrics that can be ≤ 0 or are percentages: never drawn on a log scale. */
export const LINEAR_ONLY: ReadonlySet<ChartMetric> = new Set(["sameTopP", "accuracy", "flipsPercent", "efficiency", "divergence"]);

export function metricValue(p: ChartPoint, m: ChartMetric): number | undefined {
  const v = p[m];
  return v !== undefined && Number.isFinite(v) ? v : undefined;
}

export function axisValue(p: ChartPoint, a: ChartAxis): number {
  return a === "bytes" ? p.bytes : p.bitsPerWeight;
}

/**
 * Points no other point beats on both size and quality (smaller-or-equal size AND better-or-equal
 * metric, one of them strictly), in increasing size.
 */
export function paretoFrontier(points: readonly ChartPoint[], metric: ChartMetric, axis: ChartAxis = "bytes"): ChartPoint[] {
  const better = METRICS[metric].lowerIsBetter ? (a: number, b: number) => a < b : (a: number, b: number) => a > b;
  const withV = points.filter((p) => metricValue(p, metric) !== undefined);
  const sorted = [...withV].sort((a, b) => axisValue(a, axis) - axisValue(b, axis) || (better(metricValue(a, metric) as number, metricValue(b, metric) as number) ? -1 : 1));
  const out: ChartPoint[] = [];
  let best: number | undefined;
  for (const p of sorted) {
    const v = metricValue(p, metric) as number;
    if (best === undefined || better(v, best)) {
      out.push(p);
      best = v;
    }
  }
  return out;
}

/** "Nice" linear ticks (1, 2, 5 × 10^k) covering [min, max]. */
export function linearTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Powers of ten (and 2×, 5× when the range is short) covering [min, max], both > 0. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const out: number[] = [];
  for (let e = lo; e <= hi; e++) for (const m of hi - lo <= 2 ? [1, 2, 5] : [1]) {
    const v = m * 10 ** e;
    if (v >= min / 1.0001 && v <= max * 1.0001) out.push(v);
  }
  return out.length >= 2 ? out : [min, max];
}

const CSV_COLUMNS = ["label", "origin", "file", "bytes", "bits_per_weight", "mean_kld", "mean_kld_error", "kld_99_9", "same_top_p_percent", "ppl_ratio", "pareto", "chunks", "context", "eval_text",
  "accuracy_percent", "accuracy_error", "flips_percent", "efficiency", "divergence_exact_percent", "divergence_tokens"] as const;

function csvCell(v: string | number | undefined | boolean): string {
  if (v === undefined || (typeof v === "number" && !Number.isFinite(v))) return "";
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function pointsToCsv(points: readonly ChartPoint[], metric: ChartMetric): string {
  const frontier = new Set(paretoFrontier(points, metric).map((p) => p.id));
  const lines = [CSV_COLUMNS.join(",")];
  for (const p of [...points].sort((a, b) => a.bytes - b.bytes)) {
    const kld = Number.isFinite(p.meanKld) ? p.meanKld : undefined;
    lines.push([p.label, p.origin, p.quantName, p.bytes, p.bitsPerWeight.toFixed(4), kld, p.meanKldError, p.kld99_9, p.sameTopP, p.pplRatio, frontier.has(p.id), p.chunks, p.contextSize, p.evalName,
      p.accuracy, p.accuracyError, p.flipsPercent, p.efficiency, p.divergence, p.divergenceTokens].map(csvCell).join(","));
  }
  return lines.join("\n") + "\n";
}

/** A file size or bits per weight as an axis label, with `decimals` digits. */
export function formatAxisValue(v: number, axis: ChartAxis, decimals = 2): string {
  if (axis === "bitsPerWeight") return v.toFixed(decimals);
  return v >= 1024 ** 3 ? `${(v / 1024 ** 3).toFixed(decimals)} GiB` : `${(v / 1024 ** 2).toFixed(decimals)} MiB`;
}

/** Tick labels with as few decimals (2 to 6) as keep them distinct: a narrow range must not read "3.81, 3.81". */
export function formatAxisTicks(ticks: readonly number[], axis: ChartAxis): string[] {
  for (let d = 2; d < 6; d++) {
    const labels = ticks.map((t) => formatAxisValue(t, axis, d));
    if (new Set(labels).size === labels.length) return labels;
  }
  return ticks.map((t) => formatAxisValue(t, axis, 6));
}
