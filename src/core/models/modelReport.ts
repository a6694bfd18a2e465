// Exports what the inspector shows as JSON, Markdown or CSV: the summary and the tensor, metadata,
// per-layer and per-kind tables.
import type { ExportFormat, ExportTable } from "../../shared/inspectorProtocol";
import type { GgufGroupStats } from "../gguf";
import { formatMetadataValue, jsonValue, metadataTypeName, type LoadedModel } from "./inspectorData";

type Cell = string | number | null;

export interface Table {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

export const EXPORT_EXTENSIONS: Readonly<Record<ExportFormat, string>> = { json: "json", markdown: "md", csv: "csv" };

function round(n: number | undefined, digits = 4): number | null {
  return n === undefined ? null : Number(n.toFixed(digits));
}

export function tensorTable(loaded: LoadedModel): Table {
  return {
    columns: ["name", "shape", "type", "bytes", "bpw", "layer", "kind", "shard"],
    rows: loaded.model.tensors.map((t) => [
      t.name, t.shape.join("x"), t.typeName, t.byteSize ?? null, round(t.bitsPerWeight), t.layer ?? null, t.kind, t.shardIndex,
    ]),
  };
}

export function metadataTable(loaded: LoadedModel): Table {
  return {
    columns: ["key", "type", "value"],
    rows: [...loaded.model.metadata.values()].map((e) => [e.key, metadataTypeName(e), formatMetadataValue(e.value)]),
  };
}

function groupTable(groups: readonly GgufGroupStats[]): Table {
  return {
    columns: ["group", "tensors", "parameters", "bytes", "bpw", "types"],
    rows: groups.map((g) => [
      g.group, g.tensorCount, g.elementCount, g.bytes, round(g.bitsPerWeight),
      Object.entries(g.types).map(([t, n]) => `${t}:${n}`).join(" "),
    ]),
  };
}

export function summaryTable(loaded: LoadedModel): Table {
  const o = loaded.view.overview;
  const facts: [string, Cell][] = [
    ["file", o.fileName],
    ["shards", o.shardPaths.length],
    ["architecture", o.architecture ?? null],
    ["name", o.modelName ?? null],
    ["parameters", o.parameterCount],
    ["file size (bytes)", o.fileSize],
    ["tensor bytes", o.tensorBytes],
    ["file type", o.fileTypeName ?? null],
    ["bits per weight", round(o.bitsPerWeight)],
    ["context length", o.contextLength ?? null],
    ["layers", o.layerCount ?? null],
    ["experts", o.expertCount ?? null],
    ["experts used", o.expertUsedCount ?? null],
    ["vocab size", o.vocabSize ?? null],
    ["tensors", o.tensorCount],
    ...o.typeMix.map((m): [string, Cell] => [`bytes ${m.typeName}`, m.bytes]),
    ...o.warnings.map((w): [string, Cell] => [`warning ${w.code}`, w.message]),
  ];
  return { columns: ["field", "value"], rows: facts };
}

export function exportTable(loaded: LoadedModel, table: ExportTable): Table {
  switch (table) {
    case "summary":
      return summaryTable(loaded);
    case "tensors":
      return tensorTable(loaded);
    case "metadata":
      return metadataTable(loaded);
    case "layers":
      return groupTable(loaded.summary.byLayer);
    case "kinds":
      return groupTable(loaded.summary.byKind);
  }
}

export function csvCell(c: Cell): string {
  if (c === null) return "";
  const s = String(c);
  return /[",\r\n]/.test(s) || /^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(t: Table): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";
}

function mdCell(c: Cell): string {
  if (c === null) return "";
  return String(c).replace(/\\/g, "\\\\").replace(/\|/g, "\\|").replace(/\r?\n/g, "<br>");
}

export function toMarkdown(t: Table, title?: string): string {
  const lines: string[] = [];
  if (title) lines.push(`# ${title}`, "");
  lines.push(`| ${t.columns.join(" | ")} |`, `| ${t.columns.map(() => "---").join(" | ")} |`);
  for (const r of t.rows) lines.push(`| ${r.map(mdCell).join(" | ")} |`);
  return lines.join("\n") + "\n";
}

/** The summary as JSON: overview, type mix, groups; other tables as arrays of objects. */
function toJson(loaded: LoadedModel, table: ExportTable): string {
  if (table === "summary") {
    return JSON.stringify({ overview: loaded.view.overview, byLayer: loaded.summary.byLayer, byKind: loaded.summary.byKind }, null, 2) + "\n";
  }
  if (table === "metadata") {
    const rows = [...loaded.model.metadata.values()].map((e) => ({ key: e.key, type: metadataTypeName(e), value: jsonValue(e.value) }));
    return JSON.stringify(rows, null, 2) + "\n";
  }
  const t = exportTable(loaded, table);
  const objects = t.rows.map((r) => Object.fromEntries(t.columns.map((c, i) => [c, r[i]])));
  return JSON.stringify(objects, null, 2) + "\n";
}

export function renderExport(loaded: LoadedModel, table: ExportTable, format: ExportFormat): string {
  switch (format) {
    case "json":
      return toJson(loaded, table);
    case "csv":
      return toCsv(exportTable(loaded, table));
    case "markdown":
      return toMarkdown(exportTable(loaded, table), `${loaded.view.overview.fileName}: ${table}`);
  }
}
