// Tensors tab: a virtualized table (only the rows in view exist in the DOM) with filter, sort,
// grouping with bits per weight per group, colour by type, and --tensor-type rules for the selection.
import type { InspectorModel } from "../../src/shared/inspectorProtocol";
import { createControl } from "../ui/toolkit";
import { clear, el } from "./dom";
import { formatBpw, formatBytes, formatCount, typeColour } from "./format";
import { buildTensorView, TensorData, type GroupBy, type SortKey, type TensorView } from "./tensorModel";
import { tensorTypeArguments, tensorTypeRules, type RuleTensor } from "./tensorRules";
import type { InspectorViewState } from "./state";

const ROW_HEIGHT = 22;
const OVERSCAN = 8;

const COLUMNS: readonly { key: SortKey; label: string; cls: string }[] = [
  { key: "name", label: "Name", cls: "c-name" },
  { key: "shape", label: "Shape", cls: "c-shape" },
  { key: "type", label: "Type", cls: "c-type" },
  { key: "bytes", label: "Bytes", cls: "c-bytes num" },
  { key: "bpw", label: "bpw", cls: "c-bpw num" },
  { key: "layer", label: "Layer", cls: "c-layer num" },
];

export interface TensorTabHost {
  readonly state: InspectorViewState;
  save(): void;
  copy(text: string, what: string): void;
}

export class TensorTab {
  private data: TensorData | undefined;
  private view: TensorView = { rows: new Int32Array(0), groups: [], tensorCount: 0 };
  private readonly selected = new Set<number>();
  private anchor = -1;
  private readonly scroll = el("div", { class: "tscroll", id: "tensor-scroll", tabindex: "0" });
  private readonly spacer = el("div", { class: "tspacer" });
  private readonly rowsBox = el("div", { class: "trows" });
  private readonly header = el("div", { class: "trow thead", role: "row" });
  private readonly countLabel = el("span", { id: "tensor-count", class: "count" });
  private readonly regexError = el("span", { id: "tensor-regex-error", class: "error-text" });
  private readonly table = el("div", { class: "ttable", id: "tensor-table", role: "grid" });
  private pool: HTMLElement[] = [];
  private typeColours: string[] = [];
  private paintScheduled = false;
  private firstPaintRecorded = false;
  private resizeHooked = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: TensorTabHost,
  ) {}

  private get s(): InspectorViewState["tensors"] {
    return this.host.state.tensors;
  }

  /** Builds the toolbar and empty table once the model (type names, kinds) is known. */
  init(model: InspectorModel): void {
    clear(this.root);
    clear(this.header);
    clear(this.rowsBox);
    this.pool = [];
    this.selected.clear();
    this.anchor = -1;
    this.data = new TensorData(model.overview.tensorCount, model.typeNames, model.kinds);
    this.typeColours = model.typeNames.map((t, i) => typeColour(t, model.typeBits[i]));
    const nameField = createControl("textField", { id: "tensor-filter-name", placeholder: "regex, e.g. ffn_down|attn_v", value: this.s.nameRegex }, "Name");
    const layerField = createControl("textField", { id: "tensor-filter-layer", placeholder: "0-3,7 or none", value: this.s.layers }, "Layers");
    const typeDrop = createControl("dropdown", { id: "tensor-filter-type" });
    typeDrop.append(createControl("option", { value: "" }, "All types"));
    for (const t of [...model.typeNames].sort()) typeDrop.append(createControl("option", { value: t }, t));
    const groupDrop = createControl("dropdown", { id: "tensor-group" });
    for (const [v, label] of [["none", "No grouping"], ["layer", "Group by layer"], ["kind", "Group by kind"]]) groupDrop.append(createControl("option", { value: v }, label));
    const selectAll = createControl("button", { id: "tensor-select-all", appearance: "secondary" }, "Select all shown");
    const copyRules = createControl("button", { id: "tensor-copy-rules" }, "Copy as llama-quantize --tensor-type rules");

    const onInput = (apply: (v: string) => void) => (e: Event) => {
      apply((e.target as HTMLInputElement).value ?? "");
      this.refilter();
    };
    nameField.addEventListener("input", onInput((v) => (this.s.nameRegex = v)));
    layerField.addEventListener("input", onInput((v) => (this.s.layers = v)));
    typeDrop.addEventListener("change", onInput((v) => (this.s.typeName = v)));
    groupDrop.addEventListener("change", onInput((v) => (this.s.groupBy = v as GroupBy)));
    selectAll.addEventListener("click", () => this.selectAllShown());
    copyRules.addEventListener("click", () => this.copyRules());
    // Dropdown values can only be set once the options are upgraded.
    requestAnimationFrame(() => {
      (typeDrop as HTMLInputElement).value = this.s.typeName;
      (groupDrop as HTMLInputElement).value = this.s.groupBy;
    });

    for (const c of COLUMNS) {
      const h = el("div", { class: `cell ${c.cls} sortable`, "data-sort": c.key, role: "columnheader" }, c.label);
      h.addEventListener("click", () => this.sortBy(c.key));
      this.header.append(h);
    }
    this.scroll.append(this.spacer, this.rowsBox);
    this.scroll.addEventListener("scroll", () => {
      this.s.scrollTop = this.scroll.scrollTop;
      this.host.save();
      this.schedulePaint();
    });
    this.scroll.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "a") {
        e.preventDefault();
        this.selectAllShown();
      }
    });
    this.rowsBox.addEventListener("click", (e) => this.onRowClick(e));
    this.table.append(this.header, this.scroll);
    const toolbar = el("div", { class: "toolbar" }, nameField, typeDrop, layerField, groupDrop, selectAll, copyRules, this.countLabel, this.regexError);
    this.root.append(toolbar, this.table);
    if (!this.resizeHooked) window.addEventListener("resize", () => this.fitHeight());
    this.resizeHooked = true;
    this.updateHeader();
  }

  /** The loaded columns (the Overview's tensor-type map is drawn from them). */
  get tensorData(): TensorData | undefined {
    return this.data;
  }

  /** Sets the filters from elsewhere (a click on the tensor-type map) and shows the result. */
  applyFilter(filter: { nameRegex: string; layers?: string; typeName?: string }): void {
    this.s.nameRegex = filter.nameRegex;
    this.s.layers = filter.layers ?? "";
    this.s.typeName = filter.typeName ?? "";
    for (const [id, value] of [["tensor-filter-name", this.s.nameRegex], ["tensor-filter-layer", this.s.layers], ["tensor-filter-type", this.s.typeName]]) {
      const field = this.root.querySelector<HTMLInputElement>(`#${id}`);
      if (field) field.value = value;
    }
    this.refilter();
  }

  /** A page of rows arrived from the host. */
  addPage(offset: number, columns: Parameters<TensorData["add"]>[1]): void {
    if (!this.data) return;
    this.data.add(offset, columns);
    this.refilter(true);
  }

  /** A tensorChunk pushed by the host. */
  addChunk(offset: number, columns: Parameters<TensorData["add"]>[1], newKinds: readonly string[]): void {
    if (!this.data) return;
    this.data.addChunk(offset, columns, newKinds);
    this.refilter(true);
  }

  get loaded(): boolean {
    return this.data?.complete ?? false;
  }

  /** Called when the tab becomes visible: layout is only measurable then. */
  shown(): void {
    this.fitHeight();
    this.scroll.scrollTop = this.s.scrollTop;
    this.schedulePaint();
  }

  private fitHeight(): void {
    const top = this.scroll.getBoundingClientRect().top;
    if (top <= 0 && this.scroll.offsetParent === null) return;
    this.scroll.style.height = `${Math.max(120, window.innerHeight - top - 12)}px`;
  }

  private refilter(keepScroll = false): void {
    if (!this.data) return;
    const t0 = performance.now();
    this.view = buildTensorView(this.data, this.s, this.s.sortKey, this.s.descending, this.s.groupBy);
    this.spacer.style.height = `${this.view.rows.length * ROW_HEIGHT}px`;
    if (!keepScroll) this.scroll.scrollTop = 0;
    this.regexError.textContent = this.view.regexError ? `Invalid regex (matching as text): ${this.view.regexError}` : "";
    const loading = this.data.complete ? "" : ` (loading ${formatCount(this.data.length)}/${formatCount(this.data.total)})`;
    this.countLabel.textContent = `${formatCount(this.view.tensorCount)} of ${formatCount(this.data.total)} tensors${this.selected.size ? `, ${formatCount(this.selected.size)} selected` : ""}${loading}`;
    this.countLabel.dataset.visible = String(this.view.tensorCount);
    this.countLabel.dataset.total = String(this.data.total);
    this.countLabel.dataset.loaded = String(this.data.length);
    this.table.dataset.rowCount = String(this.view.tensorCount);
    this.table.dataset.groupCount = String(this.view.groups.length);
    this.paint();
    this.table.dataset.filterMs = (performance.now() - t0).toFixed(2);
    this.host.save();
  }

  private sortBy(key: SortKey): void {
    if (this.s.sortKey === key) {
      if (!this.s.descending) this.s.descending = true;
      else {
        this.s.sortKey = "index"; // third click: back to file order
        this.s.descending = false;
      }
    } else {
      this.s.sortKey = key;
      this.s.descending = key === "bytes" || key === "bpw";
    }
    this.updateHeader();
    this.refilter();
  }

  private updateHeader(): void {
    for (const h of this.header.querySelectorAll<HTMLElement>("[data-sort]")) {
      const active = h.dataset.sort === this.s.sortKey;
      h.classList.toggle("sorted", active);
      h.dataset.direction = active ? (this.s.descending ? "desc" : "asc") : "";
      h.setAttribute("aria-sort", active ? (this.s.descending ? "descending" : "ascending") : "none");
    }
  }

  private schedulePaint(): void {
    if (this.paintScheduled) return;
    this.paintScheduled = true;
    requestAnimationFrame(() => {
      this.paintScheduled = false;
      this.paint();
    });
  }

  /** Renders only the rows in (and just around) the scrolled window. */
  private paint(): void {
    const d = this.data;
    if (!d) return;
    const height = this.scroll.clientHeight || 600;
    const first = Math.max(0, Math.floor(this.scroll.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.view.rows.length, Math.ceil((this.scroll.scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
    const needed = last - first;
    while (this.pool.length < needed) {
      const r = el("div", { class: "trow", role: "row" });
      for (const c of COLUMNS) r.append(el("div", { class: `cell ${c.cls}` }));
      this.pool.push(r);
    }
    this.rowsBox.style.transform = `translateY(${first * ROW_HEIGHT}px)`;
    const frag = document.createDocumentFragment();
    for (let k = 0; k < needed; k++) {
      const row = this.pool[k];
      this.fillRow(row, this.view.rows[first + k], first + k);
      if (row.parentNode !== this.rowsBox) frag.append(row);
    }
    this.rowsBox.append(frag);
    for (let k = needed; k < this.pool.length; k++) this.pool[k].remove();
    if (!this.firstPaintRecorded && needed > 0 && this.scroll.offsetParent !== null) {
      this.firstPaintRecorded = true;
      // Epoch milliseconds of the first frame with rows, read by tests and the benchmark.
      requestAnimationFrame(() => (document.documentElement.dataset.firstTablePaint = (performance.timeOrigin + performance.now()).toFixed(1)));
    }
  }

  private fillRow(row: HTMLElement, item: number, position: number): void {
    const d = this.data as TensorData;
    const cells = row.children as HTMLCollectionOf<HTMLElement>;
    row.dataset.position = String(position);
    if (item < 0) {
      const g = this.view.groups[-item - 1];
      row.className = "trow group";
      row.dataset.index = "";
      row.dataset.group = g.label;
      cells[0].textContent = `${g.label}  (${g.count})`;
      cells[1].textContent = `${formatCount(g.elements)} params`;
      cells[2].textContent = "";
      cells[2].style.borderLeftColor = "transparent";
      cells[3].textContent = formatBytes(g.bytes);
      cells[4].textContent = formatBpw(g.bpw);
      cells[5].textContent = "";
      return;
    }
    const ti = d.typeIndex[item];
    const typeName = d.typeNames[ti];
    row.className = this.selected.has(item) ? "trow selected" : "trow";
    row.dataset.index = String(item);
    delete row.dataset.group;
    cells[0].textContent = d.names[item];
    cells[0].title = d.names[item];
    cells[1].textContent = d.shapes[item];
    cells[2].textContent = typeName;
    cells[2].style.borderLeftColor = this.typeColours[ti] ?? "transparent";
    cells[3].textContent = d.bytes[item] < 0 ? "?" : formatBytes(d.bytes[item]);
    cells[3].dataset.value = String(d.bytes[item]);
    cells[4].textContent = formatBpw(d.bpw(item));
    cells[5].textContent = d.layer[item] < 0 ? "" : String(d.layer[item]);
  }


  private onRowClick(e: MouseEvent): void {
    const row = (e.target as HTMLElement).closest<HTMLElement>(".trow");
    if (!row || row.dataset.position === undefined) return;
    const position = Number(row.dataset.position);
    const item = this.view.rows[position];
    if (item < 0) {
      // A group header selects its members.
      if (!(e.ctrlKey || e.metaKey)) this.selected.clear();
      for (let p = position + 1; p < this.view.rows.length && this.view.rows[p] >= 0; p++) this.selected.add(this.view.rows[p]);
    } else if (e.shiftKey && this.anchor >= 0) {
      const [a, b] = this.anchor < position ? [this.anchor, position] : [position, this.anchor];
      if (!(e.ctrlKey || e.metaKey)) this.selected.clear();
      for (let p = a; p <= b; p++) if (this.view.rows[p] >= 0) this.selected.add(this.view.rows[p]);
    } else if (e.ctrlKey || e.metaKey) {
      if (this.selected.has(item)) this.selected.delete(item);
      else this.selected.add(item);
      this.anchor = position;
    } else {
      this.selected.clear();
      this.selected.add(item);
      this.anchor = position;
    }
    this.refilter(true);
  }

  private selectAllShown(): void {
    for (const i of this.view.rows) if (i >= 0) this.selected.add(i);
    this.refilter(true);
  }

  private ruleTensor(i: number): RuleTensor {
    const d = this.data as TensorData;
    return { name: d.names[i], layer: d.layer[i], typeName: d.typeNames[d.typeIndex[i]] };
  }

  private copyRules(): void {
    const d = this.data;
    if (!d) return;
    const picked = this.selected.size > 0 ? [...this.selected].sort((a, b) => a - b) : Array.from(this.view.rows).filter((i) => i >= 0);
    const all: RuleTensor[] = [];
    for (let i = 0; i < d.length; i++) all.push(this.ruleTensor(i));
    const rules = tensorTypeRules(picked.map((i) => this.ruleTensor(i)), all);
    this.host.copy(tensorTypeArguments(rules), `${rules.length} --tensor-type rule(s) for ${picked.length} tensor(s)`);
  }
}
