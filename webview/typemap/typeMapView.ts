// The tensor-type map: layers as rows, tensor kinds as columns, each cell coloured by its ggml type
// on a scale ordered by bits per weight (theme chart colours), a legend, a hover card, click and
// rectangle selection, outlines for differences, and PNG/SVG export. Drawn on one canvas the size
// of the viewport (only visible rows are painted), so 60,000 tensors stay responsive.
import type { TypeMapData, TypeMapSelection } from "../../src/shared/typeMapProtocol";
import { formatBytes } from "../../src/shared/formatBytes";
import { layoutTypeMap, parseColour, typeColours, type MapCell, type MapLayout, type MapRow } from "./typeMapLayout";
import "./typeMap.css";

const CELL_W = 22;
const CELL_H = 12;
const GUTTER = 64;
const HEADER = 86;
const THEME_STOPS = ["--vscode-charts-red", "--vscode-charts-orange", "--vscode-charts-yellow", "--vscode-charts-green", "--vscode-charts-blue", "--vscode-charts-purple"];
const FALLBACK_STOPS: [number, number, number][] = [[241, 76, 76], [209, 134, 22], [204, 167, 0], [137, 209, 133], [55, 148, 255], [183, 128, 255]];

export interface TypeMapOptions {
  /** Prefix of element ids (tests and several maps on one page). */
  readonly id: string;
  readonly maxHeight?: number;
  readonly onCellClick?: (cell: MapCell, row: MapRow) => void;
  /** Drag selects a rectangle of layers × kinds (the recipe editor). */
  readonly onSelect?: (selection: TypeMapSelection) => void;
  /** Export buttons hand their result here (PNG base64, SVG text). */
  readonly onExport?: (format: "png" | "svg", data: string) => void;
}

interface Theme {
  readonly background: string;
  readonly foreground: string;
  readonly muted: string;
  readonly outline: string;
  readonly focus: string;
  readonly font: string;
  readonly colours: readonly string[];
}

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};

export class TypeMapView {
  readonly element: HTMLElement;
  private readonly viewport: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly hover: HTMLElement;
  private readonly legend: HTMLElement;
  private data: TypeMapData | undefined;
  private layout: MapLayout | undefined;
  private theme: Theme | undefined;
  private outlined: ReadonlySet<number> = new Set();
  private selection: { r0: number; c0: number; r1: number; c1: number } | undefined;
  private dragStart: { r: number; c: number } | undefined;
  private dragged = false;
  private paintQueued = false;
  private readonly observer: MutationObserver;

  constructor(private readonly options: TypeMapOptions) {
    const id = options.id;
    this.canvas = el("canvas", { class: "tm-canvas", id: `${id}-canvas` });
    this.spacer = el("div", { class: "tm-spacer" });
    this.scroller = el("div", { class: "tm-scroller", id: `${id}-scroller`, tabindex: "0", role: "img", "aria-label": "Tensor-type map" }, this.spacer);
    this.hover = el("div", { class: "tm-hover", id: `${id}-hover`, hidden: "" });
    this.viewport = el("div", { class: "tm-viewport", id: `${id}-viewport`, "data-cell-w": String(CELL_W), "data-cell-h": String(CELL_H), "data-gutter": String(GUTTER), "data-header": String(HEADER) }, this.canvas, this.scroller, this.hover);
    this.legend = el("div", { class: "tm-legend", id: `${id}-legend` });
    const tools = el("div", { class: "tm-tools" });
    for (const format of ["png", "svg"] as const) {
      const b = el("button", { class: "tm-export", id: `${id}-export-${format}`, type: "button" }, `Export ${format.toUpperCase()}`);
      b.addEventListener("click", () => { void this.export(format).then((d) => this.options.onExport?.(format, d)); });
      if (options.onExport) tools.append(b);
    }
    this.element = el("div", { class: "typemap", id }, this.viewport, el("div", { class: "tm-footer" }, this.legend, tools));
    this.scroller.addEventListener("scroll", () => this.queuePaint());
    this.scroller.addEventListener("mousemove", (e) => this.onMove(e));
    this.scroller.addEventListener("mouseleave", () => { this.hover.hidden = true; });
    this.scroller.addEventListener("mousedown", (e) => this.onDown(e));
    window.addEventListener("mouseup", (e) => this.onUp(e));
    new ResizeObserver(() => this.queuePaint()).observe(this.viewport);
    // VS Code swaps body classes (vscode-dark/light/high-contrast) and CSS variables on theme change.
    this.observer = new MutationObserver(() => { this.theme = undefined; this.renderLegend(); this.queuePaint(); });
    this.observer.observe(document.body, { attributes: true, attributeFilter: ["class", "style"] });
  }

  /** Lays the data out and paints the visible part now; records the time in data-first-paint-ms. */
  setData(data: TypeMapData): void {
    const started = performance.now();
    this.data = data;
    this.layout = layoutTypeMap(data);
    this.theme = undefined;
    this.selection = undefined;
    const w = GUTTER + this.layout.width * CELL_W;
    const h = HEADER + this.layout.rows.length * CELL_H;
    this.spacer.style.width = `${w}px`;
    this.spacer.style.height = `${h}px`;
    this.viewport.style.height = `${Math.min(h + 16, this.options.maxHeight ?? 420)}px`;
    this.element.dataset.rows = String(this.layout.rows.length);
    this.element.dataset.columns = this.layout.columns.join(",");
    this.renderLegend();
    this.paint();
    this.element.dataset.firstPaintMs = (performance.now() - started).toFixed(1);
    this.element.dataset.state = "ready";
  }

  /** Outlines every cell holding one of these tensors (the compare view's differences). */
  setOutlined(tensors: ReadonlySet<number>): void {
    this.outlined = tensors;
    this.element.dataset.outlined = String(tensors.size);
    this.queuePaint();
  }

  clearSelection(): void {
    this.selection = undefined;
    this.queuePaint();
  }

  private themeNow(): Theme {
    if (this.theme) return this.theme;
    const css = getComputedStyle(document.body);
    const v = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const stops = THEME_STOPS.map((s, i) => parseColour(css.getPropertyValue(s)) ?? FALLBACK_STOPS[i]);
    this.theme = {
      background: v("--vscode-editor-background", "#1e1e1e"),
      foreground: v("--vscode-foreground", "#cccccc"),
      muted: v("--vscode-descriptionForeground", "#999999"),
      // Outlines must stand out on every type colour (the scale itself uses the chart reds and blues).
      outline: v("--vscode-editor-foreground", "#ffffff"),
      focus: v("--vscode-focusBorder", "#007fd4"),
      font: `10px ${v("--vscode-font-family", "sans-serif")}`,
      colours: this.layout && this.data ? typeColours(this.layout, stops, this.data.typeNames.length) : [],
    };
    return this.theme;
  }

  private renderLegend(): void {
    this.legend.textContent = "";
    if (!this.layout || !this.data) return;
    const theme = this.themeNow();
    const counts = new Map<number, number>();
    for (let i = 0; i < this.data.names.length; i++) counts.set(this.data.typeIndex[i], (counts.get(this.data.typeIndex[i]) ?? 0) + 1);
    for (const t of this.layout.typeOrder) {
      const swatch = el("span", { class: "tm-swatch" });
      swatch.style.background = theme.colours[t];
      const bits = this.data.typeBits[t];
      this.legend.append(el("span", { class: "tm-legend-item", "data-type": this.data.typeNames[t], "data-colour": theme.colours[t] }, swatch,
        `${this.data.typeNames[t]} ${bits === null ? "" : `${bits.toFixed(2)} bpw `}(${counts.get(t) ?? 0})`));
    }
  }

  private queuePaint(): void {
    if (this.paintQueued) return;
    this.paintQueued = true;
    requestAnimationFrame(() => { this.paintQueued = false; this.paint(); });
  }

  private paint(): void {
    const width = this.viewport.clientWidth || 600;
    const height = this.viewport.clientHeight || 300;
    const ratio = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(width * ratio) || this.canvas.height !== Math.round(height * ratio)) {
      this.canvas.width = Math.round(width * ratio);
      this.canvas.height = Math.round(height * ratio);
      this.canvas.style.width = `${width}px`;
      this.canvas.style.height = `${height}px`;
    }
    const ctx = this.canvas.getContext("2d");
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    this.draw(ctx, this.scroller.scrollLeft, this.scroller.scrollTop, width, height);
  }

  /** Draws the part of the map at (sx, sy) of size w × h; header and row labels stay in place. */
  private draw(ctx: CanvasRenderingContext2D, sx: number, sy: number, w: number, h: number): void {
    const layout = this.layout;
    const theme = this.themeNow();
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, w, h);
    if (!layout) return;
    const first = Math.max(0, Math.floor(sy / CELL_H));
    const last = Math.min(layout.rows.length - 1, Math.ceil((sy + h - HEADER) / CELL_H));
    const c0 = Math.max(0, Math.floor(sx / CELL_W));
    const c1 = Math.min(layout.width - 1, Math.ceil((sx + w - GUTTER) / CELL_W));
    for (let r = first; r <= last; r++) {
      const y = HEADER + r * CELL_H - sy;
      const row = layout.rows[r];
      for (let c = c0; c <= Math.min(c1, row.cells.length - 1); c++) {
        const cell = row.cells[c];
        if (!cell) continue;
        const x = GUTTER + c * CELL_W - sx;
        ctx.fillStyle = theme.colours[cell.typeIndex];
        ctx.fillRect(x + 1, y + 1, CELL_W - 2, CELL_H - 2);
        if (cell.mixed) {
          ctx.fillStyle = theme.foreground;
          ctx.fillRect(x + CELL_W - 5, y + 1, 4, 4);
        }
        if (this.outlined.size > 0 && cell.tensors.some((t) => this.outlined.has(t))) {
          ctx.strokeStyle = theme.outline;
          ctx.lineWidth = 2;
          ctx.strokeRect(x + 1, y + 1, CELL_W - 2, CELL_H - 2);
        }
      }
    }
    if (this.selection) {
      const s = this.selection;
      ctx.strokeStyle = theme.focus;
      ctx.lineWidth = 2;
      ctx.strokeRect(GUTTER + Math.min(s.c0, s.c1) * CELL_W - sx, HEADER + Math.min(s.r0, s.r1) * CELL_H - sy, (Math.abs(s.c1 - s.c0) + 1) * CELL_W, (Math.abs(s.r1 - s.r0) + 1) * CELL_H);
    }
    // Sticky header (kind names, rotated) and row labels over the cells.
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, w, HEADER);
    ctx.fillRect(0, 0, GUTTER, h);
    ctx.font = theme.font;
    ctx.fillStyle = theme.foreground;
    ctx.textBaseline = "middle";
    for (let c = c0; c <= Math.min(c1, layout.columns.length - 1); c++) {
      ctx.save();
      ctx.translate(GUTTER + c * CELL_W - sx + CELL_W / 2, HEADER - 4);
      ctx.rotate(-Math.PI / 3);
      ctx.fillText(layout.columns[c].length > 16 ? `${layout.columns[c].slice(0, 15)}…` : layout.columns[c], 0, 0);
      ctx.restore();
    }
    for (let r = first; r <= last; r++) {
      const row = layout.rows[r];
      ctx.fillStyle = row.by === "layer" ? theme.foreground : theme.muted;
      ctx.fillText(row.label, 4, HEADER + r * CELL_H - sy + CELL_H / 2);
    }
  }

  private cellAt(e: MouseEvent): { r: number; c: number } | undefined {
    if (!this.layout) return undefined;
    const box = this.scroller.getBoundingClientRect();
    const x = e.clientX - box.left + this.scroller.scrollLeft - GUTTER;
    const y = e.clientY - box.top + this.scroller.scrollTop - HEADER;
    if (x < 0 || y < 0 || e.clientY - box.top < HEADER || e.clientX - box.left < GUTTER) return undefined;
    const r = Math.floor(y / CELL_H);
    const c = Math.floor(x / CELL_W);
    return r < this.layout.rows.length && c < this.layout.width ? { r, c } : undefined;
  }

  private onMove(e: MouseEvent): void {
    const at = this.cellAt(e);
    if (this.dragStart && at && this.options.onSelect) {
      this.dragged = this.dragged || at.r !== this.dragStart.r || at.c !== this.dragStart.c;
      this.selection = { r0: this.dragStart.r, c0: this.dragStart.c, r1: at.r, c1: at.c };
      this.queuePaint();
    }
    const row = at && this.layout?.rows[at.r];
    const cell = at && row?.cells[at.c];
    if (!at || !row || !cell || !this.data) { this.hover.hidden = true; return; }
    this.showHover(row, cell, e);
  }

  private showHover(row: MapRow, cell: MapCell, e: MouseEvent): void {
    const d = this.data as TypeMapData;
    this.hover.textContent = "";
    this.hover.append(el("div", { class: "tm-hover-title" }, `${row.label} · ${cell.label}`));
    for (const i of cell.tensors.slice(0, 8)) {
      const bits = d.elements[i] > 0 && d.bytes[i] >= 0 ? ((d.bytes[i] * 8) / d.elements[i]).toFixed(2) : "?";
      this.hover.append(el("div", { class: "tm-hover-tensor", "data-tensor": d.names[i], "data-type": d.typeNames[d.typeIndex[i]] },
        el("span", { class: "tm-hover-name" }, d.names[i]), ` ${d.typeNames[d.typeIndex[i]]} · ${d.bytes[i] >= 0 ? formatBytes(d.bytes[i]) : "?"} · ${bits} bpw`));
    }
    if (cell.tensors.length > 8) this.hover.append(el("div", { class: "tm-hover-more" }, `+${cell.tensors.length - 8} more`));
    this.hover.hidden = false;
    const box = this.viewport.getBoundingClientRect();
    const x = e.clientX - box.left + 14;
    const y = e.clientY - box.top + 14;
    this.hover.style.left = `${Math.min(x, Math.max(0, box.width - this.hover.offsetWidth - 4))}px`;
    this.hover.style.top = `${y + this.hover.offsetHeight > box.height ? Math.max(0, e.clientY - box.top - this.hover.offsetHeight - 8) : y}px`;
  }

  private onDown(e: MouseEvent): void {
    const at = this.cellAt(e);
    if (!at || e.button !== 0) return;
    this.dragStart = at;
    this.dragged = false;
    if (this.options.onSelect) {
      this.selection = { r0: at.r, c0: at.c, r1: at.r, c1: at.c };
      this.queuePaint();
    }
  }

  private onUp(e: MouseEvent): void {
    const start = this.dragStart;
    this.dragStart = undefined;
    if (!start || !this.layout) return;
    if (this.options.onSelect && this.selection) {
      this.options.onSelect(this.selectionOf(this.selection));
      return;
    }
    const at = this.cellAt(e) ?? start;
    const row = this.layout.rows[at.r];
    const cell = row?.cells[at.c];
    if (cell && !this.dragged) this.options.onCellClick?.(cell, row);
  }

  private selectionOf(s: { r0: number; c0: number; r1: number; c1: number }): TypeMapSelection {
    const layout = this.layout as MapLayout;
    const d = this.data as TypeMapData;
    const layers: number[] = [];
    const names: string[] = [];
    const kinds = new Set<string>();
    for (let r = Math.min(s.r0, s.r1); r <= Math.max(s.r0, s.r1); r++) {
      const row = layout.rows[r];
      for (let c = Math.min(s.c0, s.c1); c <= Math.max(s.c0, s.c1); c++) {
        const cell = row.cells[c];
        if (!cell) continue;
        if (row.by === "layer") kinds.add(layout.columns[c]);
        else for (const t of cell.tensors) names.push(d.names[t]);
      }
      if (row.by === "layer" && row.layer !== undefined) layers.push(row.layer);
    }
    return { layers: kinds.size > 0 ? layers : [], kinds: [...kinds], names };
  }

  /** The whole map (not just the viewport) as PNG (base64) or SVG text, in the current theme's colours. */
  async export(format: "png" | "svg"): Promise<string> {
    const layout = this.layout;
    if (!layout) throw new Error("no map to export");
    const w = GUTTER + layout.width * CELL_W;
    const h = HEADER + layout.rows.length * CELL_H;
    if (format === "svg") return this.svg(w, h);
    const scale = Math.min(2, 16000 / Math.max(w, h));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    const ctx = canvas.getContext("2d");
    if (!ctx) throw new Error("canvas unavailable");
    ctx.setTransform(scale, 0, 0, scale, 0, 0);
    this.draw(ctx, 0, 0, w, h);
    return canvas.toDataURL("image/png").replace(/^data:image\/png;base64,/, "");
  }

  private svg(w: number, h: number): string {
    const layout = this.layout as MapLayout;
    const d = this.data as TypeMapData;
    const theme = this.themeNow();
    const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/"/g, "&quot;");
    const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="sans-serif" font-size="10">`,
      `<rect width="${w}" height="${h}" fill="${esc(theme.background)}"/>`];
    layout.columns.forEach((k, c) => parts.push(`<text transform="translate(${GUTTER + c * CELL_W + CELL_W / 2},${HEADER - 4}) rotate(-60)" fill="${esc(theme.foreground)}">${esc(k)}</text>`));
    layout.rows.forEach((row, r) => {
      const y = HEADER + r * CELL_H;
      parts.push(`<text x="4" y="${y + CELL_H - 2}" fill="${esc(row.by === "layer" ? theme.foreground : theme.muted)}">${esc(row.label)}</text>`);
      row.cells.forEach((cell, c) => {
        if (!cell) return;
        const names = cell.tensors.slice(0, 4).map((t) => d.names[t]).join(" ");
        const stroke = this.outlined.size > 0 && cell.tensors.some((t) => this.outlined.has(t)) ? ` stroke="${esc(theme.outline)}" stroke-width="2"` : "";
        parts.push(`<rect x="${GUTTER + c * CELL_W + 1}" y="${y + 1}" width="${CELL_W - 2}" height="${CELL_H - 2}" fill="${theme.colours[cell.typeIndex]}"${stroke}><title>${esc(`${names} ${d.typeNames[cell.typeIndex]}`)}</title></rect>`);
      });
    });
    parts.push("</svg>");
    return parts.join("\n");
  }

  dispose(): void {
    this.observer.disconnect();
  }
}
