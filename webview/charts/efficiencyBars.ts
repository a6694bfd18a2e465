// The efficiency bar chart, like the seeds' table: one bar per quant (and the base), sorted by
// efficiency = (accuracy% − chance%) / GB. SVG like the scatter; bars carry data-* for tests.
import type { ChartPoint } from "../../src/shared/chartsProtocol";

const NS = "http://www.w3.org/2000/svg";

function el<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Points with an efficiency, best first. */
export function efficiencyRanking(points: readonly ChartPoint[]): ChartPoint[] {
  return points.filter((p) => p.efficiency !== undefined && Number.isFinite(p.efficiency)).sort((a, b) => (b.efficiency as number) - (a.efficiency as number));
}

export function renderEfficiencyBars(points: readonly ChartPoint[], width: number): SVGSVGElement {
  const ranked = efficiencyRanking(points);
  const row = 22;
  const m = { left: 180, right: 70, top: 26, bottom: 8 };
  const height = m.top + m.bottom + Math.max(1, ranked.length) * row;
  const svg = el("svg", { xmlns: NS, width, height, viewBox: `0 0 ${width} ${height}`, id: "efficiency-svg", role: "img" });
  svg.append(el("rect", { x: 0, y: 0, width, height, fill: "var(--vscode-editor-background)" }));
  svg.append(el("text", { x: 8, y: 17, fill: "var(--vscode-foreground)", "font-size": 13, "font-weight": 600 }, "Efficiency = (accuracy% − chance%) / GB"));
  if (ranked.length === 0) {
    svg.append(el("text", { x: 8, y: m.top + 15, fill: "var(--vscode-descriptionForeground)" }, "No accuracy results yet: run \"GGUF Studio: Evaluate Accuracy…\""));
    return svg;
  }
  const values = ranked.map((p) => p.efficiency as number);
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  const span = hi - lo || 1;
  const w = width - m.left - m.right;
  const sx = (v: number) => m.left + ((v - lo) / span) * w;
  ranked.forEach((p, i) => {
    const v = p.efficiency as number;
    const y = m.top + i * row;
    const g = el("g", { class: "bar", "data-label": p.label, "data-file": p.quantName, "data-value": v });
    g.append(el("text", { x: m.left - 6, y: y + 15, "text-anchor": "end", fill: "var(--vscode-foreground)", "font-size": 12 }, `${p.label} (${(p.bytes / 1e9).toFixed(3)} GB)`));
    g.append(el("rect", { x: Math.min(sx(0), sx(v)), y: y + 3, width: Math.max(1, Math.abs(sx(v) - sx(0))), height: row - 6, fill: p.label === "base" ? "var(--vscode-charts-purple)" : "var(--vscode-charts-blue)" }));
    g.append(el("text", { x: Math.max(sx(0), sx(v)) + 4, y: y + 15, fill: "var(--vscode-foreground)", "font-size": 12 }, v.toFixed(2)));
    svg.append(g);
  });
  svg.append(el("line", { x1: sx(0), x2: sx(0), y1: m.top, y2: height - m.bottom, stroke: "var(--vscode-foreground)", "stroke-width": 1 }));
  return svg;
}
