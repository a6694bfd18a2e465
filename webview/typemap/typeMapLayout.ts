// The tensor-type map's grid, without the DOM (unit-tested in Node): one row per layer with a cell
// per kind column, then the non-layer row (one cell per tensor: token_embd, output, ...), then the
// "other" row for names outside the layer/kind scheme (one cell per type, never dropped).
import { buildTensorScheme, NON_LAYER_ROW } from "../../src/shared/tensorScheme";
import type { TypeMapData } from "../../src/shared/typeMapProtocol";

export interface MapCell {
  /** Indices into the data's columns. */
  readonly tensors: readonly number[];
  /** Type drawn: the one with the most bytes in the cell. */
  readonly typeIndex: number;
  /** More than one type in the cell. */
  readonly mixed: boolean;
  /** Column label for non-layer and "other" cells (kind or type), the kind column otherwise. */
  readonly label: string;
}

export interface MapRow {
  readonly label: string;
  readonly by: "layer" | "non-layer" | "other";
  readonly layer?: number;
  /** Layer rows: indexed by column (holes where a layer lacks a kind); other rows: packed. */
  readonly cells: readonly (MapCell | undefined)[];
}

export interface MapLayout {
  readonly columns: readonly string[];
  readonly rows: readonly MapRow[];
  /** Widest row in cells (the non-layer or other row can be wider than the kind columns). */
  readonly width: number;
  /** Type indices present, ordered by bits per weight (the legend and colour scale order). */
  readonly typeOrder: readonly number[];
}

function cellOf(d: TypeMapData, tensors: number[], label: string): MapCell {
  let best = tensors[0];
  let mixed = false;
  for (const i of tensors) {
    if (d.typeIndex[i] !== d.typeIndex[tensors[0]]) mixed = true;
    if (d.bytes[i] > d.bytes[best]) best = i;
  }
  return { tensors, typeIndex: d.typeIndex[best], mixed, label };
}

export function layoutTypeMap(d: TypeMapData): MapLayout {
  const n = d.names.length;
  const scheme = buildTensorScheme(Array.from({ length: n }, (_, i) => ({ name: d.names[i], layer: d.layer[i] < 0 ? undefined : d.layer[i], kind: d.kinds[d.kindIndex[i]] })));
  const columnAt = new Map(scheme.kinds.map((k, i) => [k, i]));
  const rowAt = new Map(scheme.layers.map((l, i) => [l, i]));
  const grid: number[][][] = scheme.layers.map(() => []);
  const nonLayer = new Map<string, number[]>();
  const other = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    const row = scheme.rowOf[i];
    if (row >= 0) {
      const cells = grid[rowAt.get(row) as number];
      const c = columnAt.get(scheme.columnOf[i]) as number;
      (cells[c] ??= []).push(i);
    } else if (row === NON_LAYER_ROW) {
      const list = nonLayer.get(scheme.columnOf[i]);
      if (list) list.push(i);
      else nonLayer.set(scheme.columnOf[i], [i]);
    } else {
      const list = other.get(d.typeIndex[i]);
      if (list) list.push(i);
      else other.set(d.typeIndex[i], [i]);
    }
  }
  const rows: MapRow[] = scheme.layers.map((layer, r) => ({
    label: `blk.${layer}`, by: "layer", layer,
    cells: Array.from({ length: scheme.kinds.length }, (_, c) => (grid[r][c] ? cellOf(d, grid[r][c], scheme.kinds[c]) : undefined)),
  }));
  if (nonLayer.size > 0) rows.push({ label: "non-layer", by: "non-layer", cells: [...nonLayer].map(([kind, t]) => cellOf(d, t, kind)) });
  if (other.size > 0) rows.push({ label: "other", by: "other", cells: [...other].map(([type, t]) => cellOf(d, t, `${d.typeNames[type]} ×${t.length}`)) });
  const present = new Set<number>();
  for (let i = 0; i < n; i++) present.add(d.typeIndex[i]);
  const bits = (t: number) => d.typeBits[t] ?? Number.POSITIVE_INFINITY;
  const typeOrder = [...present].sort((a, b) => bits(a) - bits(b) || (d.typeNames[a] < d.typeNames[b] ? -1 : 1));
  return { columns: scheme.kinds, rows, width: Math.max(scheme.kinds.length, ...rows.map((r) => r.cells.length)), typeOrder };
}

/** Hex "#rrggbb" or "rgb(r, g, b)" → [r, g, b]; undefined when the text is neither. */
export function parseColour(text: string): [number, number, number] | undefined {
  const s = text.trim();
  let m = /^#([0-9a-f]{6})$/i.exec(s);
  if (m) return [parseInt(m[1].slice(0, 2), 16), parseInt(m[1].slice(2, 4), 16), parseInt(m[1].slice(4, 6), 16)];
  m = /^#([0-9a-f]{3})$/i.exec(s);
  if (m) return [0, 1, 2].map((i) => parseInt(m![1][i] + m![1][i], 16)) as [number, number, number];
  m = /^rgba?\(\s*(\d+)[,\s]+(\d+)[,\s]+(\d+)/i.exec(s);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

/**
 * One colour per present type, along the theme's chart colours from few bits (red) to many (purple),
 * interpolated when there are more types than stops.
 */
export function typeColours(layout: MapLayout, stops: readonly [number, number, number][], typeCount: number): string[] {
  const colours = new Array<string>(typeCount).fill("#888888");
  const n = layout.typeOrder.length;
  layout.typeOrder.forEach((type, rank) => {
    const t = n <= 1 ? 0 : rank / (n - 1);
    const x = t * (stops.length - 1);
    const i = Math.min(stops.length - 2, Math.floor(x));
    const f = x - i;
    const mix = stops.length === 1 ? stops[0] : stops[i].map((v, k) => Math.round(v + (stops[i + 1][k] - v) * f));
    colours[type] = `#${mix.map((v) => v.toString(16).padStart(2, "0")).join("")}`;
  });
  return colours;
}
