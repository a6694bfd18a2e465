// KLD chart UI: controls (base model, metric, x axis, log scale, exports), the SVG chart, a hover
// card and a table of the same points. State (metric, axis, log) survives hide/show.
import "./charts.css";
import { createControl, registerToolkit } from "../ui/toolkit";
import { vscodeApi } from "../ui/vscodeApi";
import type { ChartAxis, ChartMetric, ChartPoint, ChartsFromWebview, ChartsToWebview, ExportFormat } from "../../src/shared/chartsProtocol";
import { METRICS, paretoFrontier, pointsToCsv } from "./chartData";
import { renderEfficiencyBars } from "./efficiencyBars";
import { ORIGIN_STYLE, renderChart, standaloneSvg, svgToPngBase64 } from "./svgChart";

interface ViewState { metric: ChartMetric; axis: ChartAxis; logScale: boolean }
const api = vscodeApi<ViewState, ChartsFromWebview>();
registerToolkit();
const view: ViewState = api.getState() ?? { metric: "meanKld", axis: "bytes", logScale: true };
let data: Extract<ChartsToWebview, { type: "data" }> | undefined;

const app = document.getElementById("app") as HTMLElement;
const root = document.createElement("div");
root.id = "charts-root";
app.append(root);
const controls = document.createElement("div");
controls.className = "controls";
const chartBox = document.createElement("div");
chartBox.id = "chart";
const hover = document.createElement("div");
hover.id = "hover-card";
hover.hidden = true;
const table = document.createElement("table");
table.id = "points-table";
const barsBox = document.createElement("div");
barsBox.id = "efficiency-bars";
root.append(controls, chartBox, hover, table, barsBox);

function dropdown(id: string, options: [string, string][], value: string, onChange: (v: string) => void): HTMLElement {
  const dd = createControl("dropdown", { id });
  for (const [v, label] of options) {
    const o = createControl("option", { value: v }, label);
    if (v === value) o.setAttribute("selected", "");
    dd.append(o);
  }
  dd.addEventListener("change", () => onChange((dd as HTMLElement & { value: string }).value));
  return dd;
}

function buildControls(): void {
  controls.replaceChildren();
  if (data && data.bases.length > 0) {
    controls.append(dropdown("base", data.bases.map((b) => [b.file, b.name]), data.selected ?? "", (v) => api.postMessage({ type: "selectBase", file: v })));
  }
  controls.append(
    dropdown("metric", (Object.keys(METRICS) as ChartMetric[]).map((k) => [k, METRICS[k].label]), view.metric, (v) => { view.metric = v as ChartMetric; redraw(); }),
    dropdown("x-axis", [["bytes", "File size"], ["bitsPerWeight", "Bits per weight"]], view.axis, (v) => { view.axis = v as ChartAxis; redraw(); }),
  );
  const log = createControl("checkbox", { id: "log-scale", ...(view.logScale ? { checked: "" } : {}) }, "Log scale");
  log.addEventListener("change", () => { view.logScale = (log as HTMLElement & { checked: boolean }).checked; redraw(); });
  controls.append(log);
  for (const f of ["png", "svg", "csv"] as ExportFormat[]) {
    const b = createControl("button", { id: `export-${f}`, appearance: "secondary" }, `Export ${f.toUpperCase()}`);
    b.addEventListener("click", () => { void renderExport(f).then((d) => api.postMessage({ type: "exportRequested", format: f, data: d })); });
    controls.append(b);
  }
}

function showHover(p: ChartPoint | undefined, ev?: MouseEvent): void {
  if (!p) { hover.hidden = true; return; }
  const lines = [
    `${p.label} — ${ORIGIN_STYLE[p.origin].name}`, p.quantName,
    `size ${p.bytes} bytes (${(p.bytes / 1024 ** 2).toFixed(2)} MiB), ${p.bitsPerWeight.toFixed(3)} bpw`,
    ...(Number.isFinite(p.meanKld) ? [`mean KLD ${p.meanKld}${p.meanKldError !== undefined ? ` ± ${p.meanKldError}` : ""}`] : []),
    ...(p.kld99_9 !== undefined ? [`99.9% KLD ${p.kld99_9}`] : []),
    ...(p.sameTopP !== undefined ? [`same top p ${p.sameTopP}%`] : []),
    ...(p.pplRatio !== undefined ? [`PPL(Q)/PPL(base) ${p.pplRatio}`] : []),
    ...(p.chunks > 0 ? [`${p.chunks} × ${p.contextSize} tokens of ${p.evalName}`] : []),
    ...(p.accuracy !== undefined ? [`accuracy ${p.accuracy.toFixed(2)}%${p.accuracyError !== undefined ? ` ± ${p.accuracyError.toFixed(2)}` : ""}`] : []),
    ...(p.flipsPercent !== undefined ? [`flips ${p.flipsPercent.toFixed(2)}%`] : []),
    ...(p.efficiency !== undefined ? [`efficiency ${p.efficiency.toFixed(2)}`] : []),
    ...(p.divergence !== undefined ? [`divergence@${p.divergenceTokens ?? "?"} exact match ${p.divergence.toFixed(1)}%`] : []),
  ];
  hover.replaceChildren(...lines.map((l) => Object.assign(document.createElement("div"), { textContent: l })));
  hover.hidden = false;
  if (ev) { hover.style.left = `${ev.clientX + 12}px`; hover.style.top = `${ev.clientY + 12}px`; }
}

function redraw(): void {
  api.setState(view);
  const points = data?.points ?? [];
  const width = Math.max(480, Math.min(1100, document.body.clientWidth - 24));
  chartBox.replaceChildren(renderChart(points, { ...view, width, height: 420 }, showHover));
  const frontier = new Set(paretoFrontier(points, view.metric, view.axis).map((p) => p.id));
  const head = document.createElement("tr");
  for (const h of ["quant", "kind", "bytes", "bpw", "mean KLD", "99.9% KLD", "same top p", "accuracy", "flips", "efficiency", "divergence", "Pareto"]) head.append(Object.assign(document.createElement("th"), { textContent: h }));
  const rows = [...points].sort((a, b) => a.bytes - b.bytes).map((p) => {
    const tr = document.createElement("tr");
    tr.dataset.id = p.id;
    const pct = (v: number | undefined) => (v !== undefined ? `${v.toFixed(2)}%` : "");
    const cells = [p.label, ORIGIN_STYLE[p.origin].name, String(p.bytes), p.bitsPerWeight.toFixed(3), Number.isFinite(p.meanKld) ? String(p.meanKld) : "", p.kld99_9 !== undefined ? String(p.kld99_9) : "", p.sameTopP !== undefined ? `${p.sameTopP}%` : "",
      pct(p.accuracy), pct(p.flipsPercent), p.efficiency !== undefined ? p.efficiency.toFixed(2) : "", pct(p.divergence), frontier.has(p.id) ? "✓" : ""];
    for (const c of cells) tr.append(Object.assign(document.createElement("td"), { textContent: c }));
    return tr;
  });
  table.replaceChildren(head, ...rows);
  barsBox.replaceChildren(renderEfficiencyBars(points, width));
}

async function renderExport(format: ExportFormat): Promise<string> {
  if (format === "csv") return pointsToCsv(data?.points ?? [], view.metric);
  const svg = document.getElementById("chart-svg") as SVGSVGElement | null;
  if (!svg) throw new Error("no chart to export");
  const text = standaloneSvg(svg);
  if (format === "svg") return text;
  return svgToPngBase64(text, Number(svg.getAttribute("width")), Number(svg.getAttribute("height")));
}

window.addEventListener("message", (e: MessageEvent<ChartsToWebview>) => {
  const m = e.data;
  if (m.type === "data") {
    data = m;
    if (m.metric && m.metric in METRICS) view.metric = m.metric;
    buildControls();
    redraw();
  } else if (m.type === "export") {
    void renderExport(m.format).then((d) => api.postMessage({ type: "exported", requestId: m.requestId, format: m.format, data: d }));
  }
});
window.addEventListener("resize", () => { if (data) redraw(); });
buildControls();
redraw();
api.postMessage({ type: "ready" });
