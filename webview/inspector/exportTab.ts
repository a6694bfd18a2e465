// Export: the summary and each table as JSON, Markdown or CSV, written where the user chooses.
import type { ExportFormat, ExportTable } from "../../src/shared/inspectorProtocol";
import { createControl } from "../ui/toolkit";
import { clear, el } from "./dom";
import { post } from "./state";

const TABLES: readonly { table: ExportTable; label: string; detail: string }[] = [
  { table: "summary", label: "Summary", detail: "overview facts, quant mix, warnings (JSON adds per-layer and per-kind stats)" },
  { table: "tensors", label: "Tensors", detail: "name, shape, type, bytes, bpw, layer, kind, shard" },
  { table: "metadata", label: "Metadata", detail: "every key with its type and value (long arrays as their length)" },
  { table: "layers", label: "Per layer", detail: "tensors, parameters, bytes and bpw of each layer" },
  { table: "kinds", label: "Per tensor kind", detail: "the same, grouped by tensor kind" },
];

const FORMATS: readonly { format: ExportFormat; label: string }[] = [
  { format: "json", label: "JSON" },
  { format: "markdown", label: "Markdown" },
  { format: "csv", label: "CSV" },
];

export function renderExportTab(root: HTMLElement): void {
  clear(root);
  const table = el("table", { class: "export-table", id: "export-table" });
  for (const t of TABLES) {
    const buttons = el("td", { class: "actions" });
    for (const f of FORMATS) {
      const b = createControl("button", { appearance: "secondary", "data-export": `${t.table}.${f.format}` }, f.label);
      b.addEventListener("click", () => post({ type: "export", table: t.table, format: f.format }));
      buttons.append(b);
    }
    table.append(el("tr", {}, el("td", { class: "key" }, t.label), el("td", { class: "detail" }, t.detail), buttons));
  }
  const extract = createControl("button", { appearance: "secondary", id: "export-recipe" }, "Extract recipe (.quant.json)");
  extract.addEventListener("click", () => post({ type: "extractRecipe" }));
  table.append(el("tr", {}, el("td", { class: "key" }, "Recipe"), el("td", { class: "detail" }, "this quant's per-tensor types as compact rules, to apply to another model of the family"), el("td", { class: "actions" }, extract)));
  root.append(el("p", {}, "Choose what to export; a save dialog asks where to write it."), table, el("p", { class: "notice", id: "export-notice" }));
}
