// Recipe editor UI: totals, base type, rules, one type per tensor kind, and every tensor with the
// type it gets and the rule that chose it. All computing happens in the host; this only renders
// and reports edits.
import "./recipe.css";
import { createControl, registerToolkit } from "../ui/toolkit";
import { vscodeApi } from "../ui/vscodeApi";
import type { RecipeFromWebview, RecipeToWebview, TensorRowView } from "../../src/shared/recipeProtocol";
import { RECIPE_ROWS_PAGE } from "../../src/shared/recipeProtocol";
import type { TypeMapSelection } from "../../src/shared/typeMapProtocol";
import { TypeMapView } from "../typemap/typeMapView";

type State = Extract<RecipeToWebview, { type: "state" }>;
const api = vscodeApi<unknown, RecipeFromWebview>();
registerToolkit();

const app = document.getElementById("app") as HTMLElement;
app.id = "app";
const root = document.createElement("div");
root.id = "recipe-root";
app.appendChild(root);
let rows: TensorRowView[] = [];
let state: State | undefined;

const fmtBytes = (n: number) => (n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GiB` : `${(n / 1024 ** 2).toFixed(2)} MiB`);

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function typeDropdown(id: string, value: string, types: readonly string[], onChange: (v: string) => void, extra?: string): HTMLElement {
  const dd = createControl("dropdown", { id, "data-value": value });
  const all = extra && !types.includes(extra) ? [extra, ...types] : types;
  for (const t of all) {
    const o = createControl("option", { value: t }, t);
    if (t === value) o.setAttribute("selected", "");
    dd.appendChild(o);
  }
  dd.addEventListener("change", () => {
    const v = (dd as HTMLElement & { value: string }).value;
    if (v && v !== value && v !== "mixed") onChange(v);
  });
  return dd;
}

function renderRows(tbody: HTMLElement): void {
  tbody.replaceChildren(...rows.map((r) => {
    const tr = el("tr", { "data-tensor": r.name, class: r.fallback ? "fallback" : r.why.startsWith("kept") ? "kept" : "" });
    tr.append(el("td", {}, r.name), el("td", {}, r.shape), el("td", {}, r.sourceType), el("td", { class: "type" }, r.type),
      el("td", { class: "why", title: r.fallback ?? r.why }, r.fallback ? `${r.why} — fallback ${r.fallback}` : r.why), el("td", { class: "num" }, String(r.bytes)));
    return tr;
  }));
}

function render(s: State): void {
  state = s;
  rows = [...s.rows];
  root.replaceChildren();
  const head = el("header");
  head.append(el("h2", {}, s.recipeName), el("div", { class: "model" }, `model: ${s.modelName}`));
  const totals = el("div", { class: "totals" });
  const bytesEl = el("span", { id: "total-bytes", "data-bytes": String(s.totals.fileBytes) }, `${fmtBytes(s.totals.fileBytes)} (${s.totals.fileBytes} bytes)`);
  totals.append("Output: ", bytesEl, el("span", { id: "total-tensor-bytes", "data-bytes": String(s.totals.tensorBytes) }, ` · tensor data ${s.totals.tensorBytes} bytes`),
    el("span", { id: "total-bpw" }, ` · ${s.totals.bitsPerWeight.toFixed(3)} bpw`),
    el("span", {}, ` · ${((s.totals.fileBytes / s.totals.sourceFileBytes) * 100).toFixed(1)}% of the source`),
    ...(s.totals.fallbacks ? [el("span", { class: "warn" }, ` · ${s.totals.fallbacks} shape fallback(s)`)] : []),
    ...(s.totals.requiresImatrix ? [el("span", { class: "warn" }, " · needs an importance matrix")] : []));
  head.append(totals);
  root.append(head);

  const base = el("section");
  base.append(el("h3", {}, "Base type"), typeDropdown("base-type", s.baseType, s.types.filter((t) => !["F32", "F16", "BF16"].includes(t)), (v) => api.postMessage({ type: "setBaseType", baseType: v })));
  root.append(base);

  if (s.problems.length) {
    const ul = el("ul", { id: "problems" });
    for (const p of s.problems) ul.append(el("li", { class: p.severity }, `${p.path}: ${p.message}`));
    root.append(ul);
  }

  if (s.layerMapping) root.append(mappingSection(s.layerMapping));
  root.append(mapSection(s));

  const groups = el("section");
  groups.append(el("h3", {}, "Tensor kinds (set one type for every tensor of a kind)"));
  const gt = el("table", { id: "groups" });
  gt.append(el("tr", {}, ""));
  (gt.firstChild as HTMLElement).append(el("th", {}, "kind"), el("th", {}, "tensors"), el("th", {}, "type"), el("th", {}, "bytes"));
  for (const g of s.groups) {
    const tr = el("tr", { "data-kind": g.kind });
    const td = el("td");
    td.append(typeDropdown(`group-type-${g.kind.replace(/[^\w-]/g, "_")}`, g.type, s.types, (v) => api.postMessage({ type: "setGroupType", kind: g.kind, groupType: v }), "mixed"));
    tr.append(el("td", {}, g.kind), el("td", { class: "num" }, String(g.tensors)), td, el("td", { class: "num group-bytes" }, String(g.bytes)));
    gt.append(tr);
  }
  groups.append(gt);
  root.append(groups);

  const rulesSec = el("section");
  rulesSec.append(el("h3", {}, "Rules (last match wins)"));
  const rt = el("table", { id: "rules" });
  s.rules.forEach((r) => {
    const tr = el("tr", { "data-rule": String(r.index) });
    const typeTd = el("td");
    typeTd.append(typeDropdown(`rule-type-${r.index}`, r.type, s.types, (v) => api.postMessage({ type: "setRuleType", index: r.index, ruleType: v })));
    const del = createControl("button", { appearance: "icon", "aria-label": "Remove rule", title: "Remove rule" }, "✕");
    del.addEventListener("click", () => api.postMessage({ type: "removeRule", index: r.index }));
    const delTd = el("td");
    delTd.append(del);
    tr.append(el("td", { class: "num" }, String(r.index + 1)), el("td", { class: "pattern" }, r.pattern), typeTd,
      el("td", { class: "num" }, `${r.decides} tensors`), el("td", { class: "note" }, r.note ?? ""), delTd);
    rt.append(tr);
  });
  const add = el("div", { class: "add-rule" });
  const pat = createControl("textField", { id: "new-rule-pattern", placeholder: "regex, e.g. blk\\.(0|1)\\.ffn_down" });
  const addBtn = createControl("button", { id: "add-rule" }, "Add rule");
  addBtn.addEventListener("click", () => {
    const p = (pat as HTMLElement & { value: string }).value.trim();
    if (p) api.postMessage({ type: "addRule", pattern: p, ruleType: s.baseType });
  });
  add.append(pat, addBtn);
  rulesSec.append(rt, add);
  root.append(rulesSec);

  const tensors = el("section");
  tensors.append(el("h3", {}, `Tensors (${s.tensorCount})`));
  const tt = el("table", { id: "tensors" });
  const hr = el("tr");
  hr.append(el("th", {}, "tensor"), el("th", {}, "shape"), el("th", {}, "source"), el("th", {}, "type"), el("th", {}, "why"), el("th", {}, "bytes"));
  const thead = el("thead");
  thead.append(hr);
  const tbody = el("tbody");
  tt.append(thead, tbody);
  renderRows(tbody);
  tensors.append(tt);
  if (rows.length < s.tensorCount) {
    const more = createControl("button", { id: "more-rows" }, "Show more tensors");
    more.addEventListener("click", () => api.postMessage({ type: "requestRows", offset: rows.length, count: RECIPE_ROWS_PAGE }));
    tensors.append(more);
  }
  root.append(tensors);
}

function mappingSection(m: NonNullable<State["layerMapping"]>): HTMLElement {
  const sec = el("section", { id: "layer-mapping" });
  sec.append(el("h3", {}, `Layer mapping: recipe made for ${m.fromLayerCount} layers, this model has ${m.toLayerCount} (by relative depth)`));
  const t = el("table", { id: "layer-mapping-table" });
  const head = el("tr");
  head.append(el("th", {}, "rule"), el("th", {}, "type"), el("th", {}, "layers in the recipe"), el("th", {}, "layers here"), el("th", {}, "tensors matched"));
  t.append(head);
  for (const r of m.rows) {
    const tr = el("tr", { class: r.matches === 0 ? "unmatched" : "" });
    tr.append(el("td", { class: "pattern" }, r.pattern), el("td", {}, r.type), el("td", {}, r.from), el("td", {}, r.to), el("td", { class: "num" }, r.matches === 0 ? "none: matches nothing" : String(r.matches)));
    t.append(tr);
  }
  sec.append(t);
  return sec;
}

let selection: TypeMapSelection | undefined;
let mapView: TypeMapView | undefined;

/** The tensor-type map of the recipe's result; drag over cells, pick a type, and a rule is written. */
function mapSection(s: State): HTMLElement {
  const sec = el("section", { id: "recipe-map" });
  sec.append(el("h3", {}, "Tensor-type map (drag over cells to select, then choose a type)"));
  mapView?.dispose();
  const status = el("span", { id: "map-selection" }, "nothing selected");
  const view = new TypeMapView({
    id: "recipe-typemap",
    onSelect: (sel) => {
      selection = sel;
      const parts = [sel.kinds.length ? `${sel.kinds.join(", ")} × ${sel.layers.length} layer${sel.layers.length === 1 ? "" : "s"}` : "", sel.names.join(", ")].filter(Boolean);
      status.textContent = parts.length ? parts.join(" + ") : "nothing selected";
    },
  });
  mapView = view;
  selection = undefined;
  const apply = typeDropdown("map-selection-type", "", ["", ...s.types], (v) => {
    if (selection && v) api.postMessage({ type: "setSelectionType", selection, ruleType: v });
  });
  const bar = el("div", { class: "map-bar" });
  bar.append("Set selection to ", apply, " ", status);
  sec.append(view.element, bar);
  requestAnimationFrame(() => view.setData(s.map));
  return sec;
}

window.addEventListener("message", (e: MessageEvent<RecipeToWebview>) => {
  const m = e.data;
  if (m.type === "state") render(m);
  else if (m.type === "rows" && state) {
    rows = [...rows.slice(0, m.offset), ...m.rows];
    const tbody = document.querySelector("#tensors tbody");
    if (tbody) renderRows(tbody as HTMLElement);
    if (rows.length >= state.tensorCount) document.getElementById("more-rows")?.remove();
  } else if (m.type === "error") {
    const box = document.getElementById("error") ?? el("div", { id: "error", class: "error" });
    box.textContent = m.message;
    root.prepend(box);
  }
});
api.postMessage({ type: "ready" });
