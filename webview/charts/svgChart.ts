// A small hand-written SVG scatter renderer (see docs/ARCHITECTURE.md "Charts" for why not a
// library): axes, log or linear y, points by origin, the Pareto frontier, labels and hover data.
// Colours are CSS variables (VS Code theme), resolved to literals only when exporting.
import type { ChartAxis, ChartMetric, ChartPoint } from "../../src/shared/chartsProtocol";
import { axisValue, formatAxisTicks, formatAxisValue, LINEAR_ONLY, linearTicks, logTicks, METRICS, metricValue, paretoFrontier } from "./chartData";

const NS = "http://www.w3.org/2000/svg";
export const ORIGIN_STYLE: Record<ChartPoint["origin"], { color: string; shape: "circle" | "diamond" | "square" | "triangle"; name: string }> = {
  preset: { color: "var(--vscode-charts-blue)", shape: "circle", name: "stock preset" },
  recipe: { color: "var(--vscode-charts-orange)", shape: "diamond", name: "recipe" },
  optimizer: { color: "var(--vscode-charts-green)", shape: "triangle", name: "optimizer recipe" },
  other: { color: "var(--vscode-charts-purple)", shape: "square", name: "other" },
};

export interface ChartOptions {
  readonly metric: ChartMetric;
  readonly axis: ChartAxis;
  readonly logScale: boolean;
  readonly width: number;
  readonly height: number;
}

function svgEl<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

function marker(shape: string, x: number, y: number, r: number, color: string): SVGElement {
  if (shape === "circle") return svgEl("circle", { cx: x, cy: y, r, fill: color });
  if (shape === "square") return svgEl("rect", { x: x - r, y: y - r, width: 2 * r, height: 2 * r, fill: color });
  const d = shape === "diamond"
    ? `M${x},${y - r * 1.3} L${x + r * 1.3},${y} L${x},${y + r * 1.3} L${x - r * 1.3},${y} Z`
    : `M${x},${y - r * 1.4} L${x + r * 1.3},${y + r} L${x - r * 1.3},${y + r} Z`;
  return svgEl("path", { d, fill: color });
}

const fmtY = (v: number) => (v === 0 ? "0" : Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(1) : String(Number(v.toPrecision(3))));

/** Renders into a fresh <svg>; points carry data-* attributes (id, label, x, y) for hover and tests. */
export function renderChart(points: readonly ChartPoint[], o: ChartOptions, onHover: (p: ChartPoint | undefined, ev?: MouseEvent) => void): SVGSVGElement {
  const svg = svgEl("svg", { xmlns: NS, width: o.width, height: o.height, viewBox: `0 0 ${o.width} ${o.height}`, id: "chart-svg", role: "img" });
  const m = { left: 70, right: 24, top: 28, bottom: 48 };
  const w = o.width - m.left - m.right;
  const h = o.height - m.top - m.bottom;
  const pts = points.filter((p) => metricValue(p, o.metric) !== undefined);
  const log = o.logScale && !LINEAR_ONLY.has(o.metric) && pts.every((p) => (metricValue(p, o.metric) as number) > 0);
  svg.append(svgEl("rect", { x: 0, y: 0, width: o.width, height: o.height, fill: "var(--vscode-editor-background)" }));
  const title = `${METRICS[o.metric].label} vs ${o.axis === "bytes" ? "file size" : "bits per weight"}${log ? " (log scale)" : ""}`;
  svg.append(svgEl("text", { x: m.left, y: 18, fill: "var(--vscode-foreground)", "font-size": 13, "font-weight": 600, id: "chart-title" }, title));
  if (pts.length === 0) {
    svg.append(svgEl("text", { x: o.width / 2, y: o.height / 2, "text-anchor": "middle", fill: "var(--vscode-descriptionForeground)" }, `No ${METRICS[o.metric].label} results yet: run "GGUF Studio: ${o.metric === "accuracy" || o.metric === "flipsPercent" || o.metric === "efficiency" || o.metric === "divergence" ? "Evaluate Accuracy" : "Evaluate KLD"}…"`));
    return svg;
  }
  const xs = pts.map((p) => axisValue(p, o.axis));
  const ys = pts.map((p) => metricValue(p, o.metric) as number);
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const pad = (x1 - x0 || x1 * 0.1 || 1) * 0.06;
  [x0, x1] = [x0 - pad, x1 + pad];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (log) {
    [y0, y1] = [y0 / 1.4, y1 * 1.4];
  } else {
    const yp = (y1 - y0 || Math.abs(y1) * 0.1 || 1) * 0.08;
    [y0, y1] = [o.metric === "sameTopP" ? y0 - yp : Math.max(0, y0 - yp), y1 + yp];
  }
  const sx = (v: number) => m.left + ((v - x0) / (x1 - x0)) * w;
  const sy = (v: number) => m.top + h - (log ? (Math.log10(v) - Math.log10(y0)) / (Math.log10(y1) - Math.log10(y0)) : (v - y0) / (y1 - y0)) * h;

  const grid = svgEl("g", { class: "grid", stroke: "var(--vscode-editorWidget-border, #8884)", "stroke-width": 1 });
  const labels = svgEl("g", { fill: "var(--vscode-descriptionForeground)", "font-size": 11 });
  const xTicks = linearTicks(x0, x1);
  const xLabels = formatAxisTicks(xTicks, o.axis);
  xTicks.forEach((t, i) => {
    grid.append(svgEl("line", { x1: sx(t), x2: sx(t), y1: m.top, y2: m.top + h, "stroke-opacity": 0.35 }));
    labels.append(svgEl("text", { x: sx(t), y: m.top + h + 16, "text-anchor": "middle" }, xLabels[i]));
  });
  for (const t of log ? logTicks(y0, y1) : linearTicks(y0, y1)) {
    grid.append(svgEl("line", { x1: m.left, x2: m.left + w, y1: sy(t), y2: sy(t), "stroke-opacity": 0.35 }));
    labels.append(svgEl("text", { x: m.left - 6, y: sy(t) + 4, "text-anchor": "end" }, fmtY(t)));
  }
  svg.append(grid, labels);
  svg.append(svgEl("rect", { x: m.left, y: m.top, width: w, height: h, fill: "none", stroke: "var(--vscode-foreground)", "stroke-opacity": 0.5 }));
  svg.append(svgEl("text", { x: m.left + w / 2, y: o.height - 8, "text-anchor": "middle", fill: "var(--vscode-foreground)", "font-size": 12 }, o.axis === "bytes" ? "file size" : "bits per weight"));
  svg.append(svgEl("text", { x: 14, y: m.top + h / 2, "text-anchor": "middle", fill: "var(--vscode-foreground)", "font-size": 12, transform: `rotate(-90 14 ${m.top + h / 2})` },
    `${METRICS[o.metric].label}${METRICS[o.metric].unit ? ` (${METRICS[o.metric].unit})` : ""} — ${METRICS[o.metric].lowerIsBetter ? "lower" : "higher"} is better`));

  const frontier = paretoFrontier(pts, o.metric, o.axis);
  if (frontier.length > 1) {
    svg.append(svgEl("polyline", {
      id: "pareto-line", points: frontier.map((p) => `${sx(axisValue(p, o.axis))},${sy(metricValue(p, o.metric) as number)}`).join(" "),
      fill: "none", stroke: "var(--vscode-charts-red)", "stroke-width": 1.5, "stroke-dasharray": "5 3",
    }));
  }
  const onFrontier = new Set(frontier.map((p) => p.id));
  const g = svgEl("g", { id: "points" });
  for (const p of pts) {
    const x = sx(axisValue(p, o.axis));
    const y = sy(metricValue(p, o.metric) as number);
    const style = ORIGIN_STYLE[p.origin];
    const pg = svgEl("g", {
      class: `point origin-${p.origin}${onFrontier.has(p.id) ? " pareto" : ""}`, "data-id": p.id, "data-label": p.label, "data-origin": p.origin,
      "data-bytes": p.bytes, "data-bpw": p.bitsPerWeight, "data-value": metricValue(p, o.metric) as number, tabindex: 0,
    });
    const mk = marker(style.shape, x, y, 5, style.color);
    if (onFrontier.has(p.id)) mk.setAttribute("stroke", "var(--vscode-foreground)");
    pg.append(mk, svgEl("title", {}, `${p.label} (${style.name}): ${formatAxisValue(axisValue(p, o.axis), o.axis, 3)}, ${METRICS[o.metric].label} ${metricValue(p, o.metric)}`));
    pg.append(svgEl("text", { x: x + 8, y: y - 7, "font-size": 10, fill: "var(--vscode-foreground)" }, p.label));
    pg.addEventListener("mouseenter", (ev) => onHover(p, ev as MouseEvent));
    pg.addEventListener("focus", () => onHover(p));
    pg.addEventListener("mouseleave", () => onHover(undefined));
    g.append(pg);
  }
  svg.append(g);
  // Legend
  const legend = svgEl("g", { id: "legend", "font-size": 11, fill: "var(--vscode-foreground)" });
  let lx = m.left + w - 10;
  const present = (Object.keys(ORIGIN_STYLE) as ChartPoint["origin"][]).filter((k) => pts.some((p) => p.origin === k));
  for (const k of [...present].reverse()) {
    const s = ORIGIN_STYLE[k];
    const width = s.name.length * 6 + 22;
    lx -= width;
    legend.append(marker(s.shape, lx + 6, m.top + 12, 4, s.color), svgEl("text", { x: lx + 14, y: m.top + 16 }, s.name));
  }
  svg.append(legend);
  return svg;
}

/** A standalone SVG with theme variables replaced by the current colours (for export). */
export function standaloneSvg(svg: SVGSVGElement): string {
  const clone = svg.cloneNode(true) as SVGSVGElement;
  const style = getComputedStyle(document.body);
  const resolve = (v: string) => v.replace(/var\((--[\w-]+)(?:,\s*([^)]+))?\)/g, (_, name: string, fb?: string) => style.getPropertyValue(name).trim() || fb || "#888");
  for (const e of [clone, ...Array.from(clone.querySelectorAll("*"))]) {
    for (const a of ["fill", "stroke"]) {
      const v = e.getAttribute(a);
      if (v && v.includes("var(")) e.setAttribute(a, resolve(v));
    }
  }
  clone.setAttribute("font-family", style.getPropertyValue("--vscode-font-family").trim() || "sans-serif");
  return `<?xml version="1.0" encoding="UTF-8"?>\n${new XMLSerializer().serializeToString(clone)}`;
}

/** Rasterizes the standalone SVG at 2× through a blob: image (allowed by the chart's CSP). */
export async function svgToPngBase64(svgText: string, width: number, height: number): Promise<string> {
  const url = URL.createObjectURL(new Blob([svgText], { type: "image/svg+xml" }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error("the chart could not be rasterized"));
      img.src = url;
    });
    const canvas = document.createElement("canvas");
    canvas.width = width * 2;
    canvas.height = height * 2;
    const g = canvas.getContext("2d");
    if (!g) throw new Error("no 2D canvas");
    g.scale(2, 2);
    g.drawImage(img, 0, 0, width, height);
    return canvas.toDataURL("image/png").replace(/^data:image\/png;base64,/, "");
  } finally {
    URL.revokeObjectURL(url);
  }
}
