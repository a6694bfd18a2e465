// Compare Models webview: both tensor-type maps (differences outlined), the metadata diff, the
// tensors whose type or shape differs, and bytes / bits per weight per kind and per layer.
import type { FromCompare, ToCompare } from "../../src/shared/compareProtocol";
import type { ModelDiff, SizeRow } from "../../src/shared/modelDiffTypes";
import { formatBytes } from "../../src/shared/formatBytes";
import { vscodeApi } from "../ui/vscodeApi";
import { TypeMapView } from "../typemap/typeMapView";
import "./compare.css";

const api = vscodeApi<unknown, FromCompare>();
const app = document.getElementById("app") ?? document.body;

const el = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...kids: (Node | string)[]): HTMLElementTagNameMap[K] => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};
const bpw = (v: number | undefined) => (v === undefined ? "–" : v.toFixed(2));
const signed = (n: number) => (n === 0 ? "0" : `${n > 0 ? "+" : "−"}${formatBytes(Math.abs(n))}`);

function table(id: string, head: readonly string[], rows: readonly (readonly string[])[], numericFrom = 99): HTMLElement {
  const t = el("table", { class: "cmp-table", id });
  t.append(el("tr", {}, ...head.map((h) => el("th", {}, h))));
  for (const r of rows) t.append(el("tr", {}, ...r.map((c, i) => el("td", i >= numericFrom ? { class: "num" } : {}, c))));
  return t;
}

function sizeTable(id: string, rows: readonly SizeRow[]): HTMLElement {
  return table(id, ["group", "A bytes", "A bpw", "B bytes", "B bpw", "delta"],
    rows.map((r) => [r.group, formatBytes(r.bytesA), bpw(r.bpwA), formatBytes(r.bytesB), bpw(r.bpwB), signed(r.deltaBytes)]), 1);
}

function render(m: ToCompare): void {
  const d: ModelDiff = m.diff;
  app.textContent = "";
  const root = el("div", { id: "compare", "data-state": "ready", "data-alignable": String(d.alignable) });
  root.append(el("h2", {}, `${m.a.label} ↔ ${m.b.label}`));
  root.append(table("compare-sides", ["", "file", "architecture", "layers", "tensors", "tensor data", "bpw"], [
    ["A", d.a.path, d.a.architecture ?? "?", String(d.a.layerCount), String(d.a.tensorCount), formatBytes(d.a.tensorBytes), bpw(d.a.bitsPerWeight)],
    ["B", d.b.path, d.b.architecture ?? "?", String(d.b.layerCount), String(d.b.tensorCount), formatBytes(d.b.tensorBytes), bpw(d.b.bitsPerWeight)],
  ]));
  const maps = el("div", { class: "cmp-maps" });
  for (const side of ["a", "b"] as const) {
    const s = m[side];
    const view = new TypeMapView({ id: `compare-map-${side}`, maxHeight: 520, onExport: (format, data) => api.postMessage({ type: "exportTypeMap", side, format, data }) });
    maps.append(el("div", { class: "cmp-map" }, el("h3", {}, `${side.toUpperCase()}: ${s.label}`), view.element));
    requestAnimationFrame(() => {
      view.setData(s.map);
      view.setOutlined(new Set(s.differing));
    });
  }
  root.append(el("section", {}, el("h3", {}, "Tensor-type maps (differences outlined)"), maps));
  root.append(el("h3", {}, `Metadata: ${d.metadata.length} difference${d.metadata.length === 1 ? "" : "s"}, ${d.metadataSame} keys equal`));
  root.append(table("compare-metadata", ["key", "change", "A", "B"], d.metadata.map((x) => [x.key, x.status, x.a ?? "", x.b ?? ""])));
  if (!d.alignable) {
    root.append(el("p", { id: "compare-not-alignable", class: "cmp-warning" }, `Tensors not compared: ${d.notAlignableReason}.`));
  } else {
    root.append(el("h3", {}, `Tensors: ${d.tensors.length} differ, ${d.tensorsSame} identical in type and shape`));
    root.append(table("compare-tensors", ["tensor", "change", "A type", "B type", "A shape", "B shape"],
      d.tensors.map((t) => [t.name, t.status, t.typeA ?? "–", t.typeB ?? "–", t.shapeA ? t.shapeA.join("×") : "–", t.shapeB ? t.shapeB.join("×") : "–"])));
    root.append(el("h3", {}, "Per kind"), sizeTable("compare-by-kind", d.byKind));
    root.append(el("h3", {}, "Per layer"), sizeTable("compare-by-layer", d.byLayer));
  }
  app.append(root);
}

window.addEventListener("message", (e: MessageEvent<ToCompare>) => {
  if (e.data.type === "data") render(e.data);
});
api.postMessage({ type: "ready" });
