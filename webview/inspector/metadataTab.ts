// Metadata: every key with its type; arrays open in a paged, searchable browser (the vocabulary
// can hold 262k entries, so pages come from the host on demand).
import type { InspectorModel, MetadataRow } from "../../src/shared/inspectorProtocol";
import { createControl } from "../ui/toolkit";
import { clear, el } from "./dom";
import { formatCount } from "./format";
import { requestArrayPage } from "./requests";
import type { InspectorViewState } from "./state";

export const ARRAY_PAGE_SIZE = 200;

export interface MetadataTabHost {
  readonly state: InspectorViewState;
  save(): void;
  copyKey(key: string): void;
  copy(text: string, what: string): void;
}

export class MetadataTab {
  private rows: readonly MetadataRow[] = [];
  private readonly list = el("table", { class: "meta-table", id: "metadata-table" });
  private readonly browser = el("section", { class: "array-browser", id: "array-browser" });
  private arrayRequest = 0;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: MetadataTabHost,
  ) {}

  private get s(): InspectorViewState["metadata"] {
    return this.host.state.metadata;
  }

  init(model: InspectorModel): void {
    clear(this.root);
    this.rows = model.metadata;
    const filter = createControl("textField", { id: "metadata-filter", placeholder: "filter keys and values", value: this.s.filter }, "Filter");
    filter.addEventListener("input", (e) => {
      this.s.filter = (e.target as HTMLInputElement).value ?? "";
      this.host.save();
      this.renderList();
    });
    const count = el("span", { class: "count" }, `${formatCount(this.rows.length)} keys`);
    this.root.append(el("div", { class: "toolbar" }, filter, count), el("div", { class: "meta-split" }, el("div", { class: "meta-list" }, this.list), this.browser));
    this.renderList();
    if (this.s.arrayKey && this.rows.some((r) => r.key === this.s.arrayKey)) void this.openArray(this.s.arrayKey, this.s.arrayQuery, this.s.arrayOffset);
  }

  private renderList(): void {
    clear(this.list);
    const q = this.s.filter.trim().toLowerCase();
    this.list.append(el("tr", {}, el("th", {}, "Key"), el("th", {}, "Type"), el("th", {}, "Value"), el("th", {}, "")));
    for (const r of this.rows) {
      if (q && !r.key.toLowerCase().includes(q) && !r.preview.toLowerCase().includes(q)) continue;
      const actions = el("td", { class: "actions" });
      const copy = createControl("button", { appearance: "secondary", title: `Copy the value of ${r.key}`, "data-copy": r.key }, "Copy");
      copy.addEventListener("click", () => this.host.copyKey(r.key));
      actions.append(copy);
      if (r.arrayLength !== undefined && r.arrayLength > 0) {
        const browse = createControl("button", { appearance: "secondary", "data-browse": r.key }, `Browse ${formatCount(r.arrayLength)}`);
        browse.addEventListener("click", () => void this.openArray(r.key, "", 0));
        actions.append(browse);
      }
      this.list.append(
        el(
          "tr",
          { "data-key": r.key },
          el("td", { class: "key" }, r.key),
          el("td", { class: "type" }, r.typeName),
          el("td", { class: "value" }, el("pre", {}, r.preview)),
          actions,
        ),
      );
    }
  }

  private async openArray(key: string, query: string, offset: number): Promise<void> {
    this.s.arrayKey = key;
    this.s.arrayQuery = query;
    this.s.arrayOffset = offset;
    this.host.save();
    const id = ++this.arrayRequest;
    if (!this.browser.querySelector("#array-search") || this.browser.dataset.key !== key) this.buildBrowser(key, query);
    const status = this.browser.querySelector<HTMLElement>(".array-status");
    if (status) status.textContent = "Loading…";
    try {
      const page = await requestArrayPage(key, offset, ARRAY_PAGE_SIZE, query);
      if (id !== this.arrayRequest) return; // a newer request superseded this one
      this.renderPage(page.offset, page.total, page.arrayLength, page.entries);
    } catch (e) {
      if (status) status.textContent = e instanceof Error ? e.message : String(e);
    }
  }

  private buildBrowser(key: string, query: string): void {
    clear(this.browser);
    this.browser.dataset.key = key;
    const search = createControl("textField", { id: "array-search", placeholder: "search entries", value: query }, "Search");
    let timer: number | undefined;
    search.addEventListener("input", (e) => {
      const v = (e.target as HTMLInputElement).value ?? "";
      window.clearTimeout(timer);
      // The host scans the whole array for a query; wait for a pause in typing.
      timer = window.setTimeout(() => void this.openArray(key, v, 0), 150);
    });
    const prev = createControl("button", { id: "array-prev", appearance: "secondary" }, "‹ Prev");
    const next = createControl("button", { id: "array-next", appearance: "secondary" }, "Next ›");
    const copyPage = createControl("button", { id: "array-copy-page", appearance: "secondary" }, "Copy page");
    const close = createControl("button", { id: "array-close", appearance: "icon", "aria-label": "Close" }, "✕");
    prev.addEventListener("click", () => void this.openArray(key, this.s.arrayQuery, Math.max(0, this.s.arrayOffset - ARRAY_PAGE_SIZE)));
    next.addEventListener("click", () => void this.openArray(key, this.s.arrayQuery, this.s.arrayOffset + ARRAY_PAGE_SIZE));
    copyPage.addEventListener("click", () => {
      const lines = [...this.browser.querySelectorAll<HTMLElement>(".array-entry")].map((r) => `${r.dataset.index}\t${r.dataset.value ?? ""}`);
      this.host.copy(lines.join("\n"), `${lines.length} entries of ${key}`);
    });
    close.addEventListener("click", () => {
      this.s.arrayKey = "";
      this.host.save();
      clear(this.browser);
      delete this.browser.dataset.key;
    });
    this.browser.append(
      el("div", { class: "array-head" }, el("h3", {}, key), close),
      el("div", { class: "toolbar" }, search, prev, next, copyPage, el("span", { class: "array-status", id: "array-status" })),
      el("table", { class: "array-entries", id: "array-entries" }),
    );
  }

  private renderPage(offset: number, total: number, length: number, entries: readonly { index: number; value: string }[]): void {
    const table = this.browser.querySelector<HTMLElement>("#array-entries");
    const status = this.browser.querySelector<HTMLElement>("#array-status");
    if (!table || !status) return;
    clear(table);
    for (const e of entries) {
      table.append(el("tr", { class: "array-entry", "data-index": String(e.index), "data-value": e.value }, el("td", { class: "num" }, String(e.index)), el("td", {}, el("pre", {}, visible(e.value)))));
    }
    const filtered = this.s.arrayQuery ? ` matching "${this.s.arrayQuery}" (of ${formatCount(length)})` : "";
    status.textContent = total === 0 ? `No entries${filtered}` : `${formatCount(offset + 1)}–${formatCount(offset + entries.length)} of ${formatCount(total)}${filtered}`;
    status.dataset.total = String(total);
  }
}

/** Makes whitespace in tokens visible (a vocabulary is full of spaces and newlines). */
function visible(s: string): string {
  return s.replace(/\n/g, "↵").replace(/\t/g, "⇥").replace(/^ | $/g, "·");
}
