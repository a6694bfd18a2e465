// GGUF inspector webview: tabs over one model the host parsed once. The host streams it: a preview
// (metadata and the first screen of rows), the model, then the remaining rows in chunks.
import { markOnce, OPEN_MARKS } from "./timing";
import type { FileState, InspectorErrorInfo, InspectorModel, TensorColumns, ToInspector } from "../../src/shared/inspectorProtocol";
import { createControl } from "../ui/toolkit";
import { clear, el } from "./dom";
import { renderExportTab } from "./exportTab";
import { MetadataTab } from "./metadataTab";
import { namesRegex, showOverviewMap } from "./overviewMap";
import { renderOverview, setEvalSummary } from "./overviewTab";
import { settleReply } from "./requests";
import { loadViewState, post, saveViewState, TAB_IDS, type TabId } from "./state";
import { StreamGate, type StreamMessage } from "./streamGate";
import { TensorTab } from "./tensorTab";
import { renderTemplateTab } from "./templateTab";
import "./inspector.css";

const state = loadViewState();
const save = (): void => saveViewState(state);
const app = document.getElementById("app") ?? document.body;
const root = el("div", { id: "inspector", "data-state": "loading" });
const banner = el("div", { id: "file-banner", class: "banner", hidden: "" });
const notice = el("div", { id: "notice", class: "notice", role: "status" });
app.append(root);
root.append(el("div", { class: "loading" }, createControl("progressRing"), " Reading GGUF header…"));

const TAB_LABELS: Record<TabId, string> = { overview: "Overview", metadata: "Metadata", tensors: "Tensors", template: "Chat template", export: "Export" };
const body = (t: TabId): HTMLElement => el("div", { class: "tab-body", id: `body-${t}` });
const views: Record<TabId, HTMLElement> = { overview: body("overview"), metadata: body("metadata"), tensors: body("tensors"), template: body("template"), export: body("export") };

const copy = (text: string, what: string): void => post({ type: "copyText", text, what });
const tensorTab = new TensorTab(views.tensors, { state, save, copy });
const metadataTab = new MetadataTab(views.metadata, { state, save, copy, copyKey: (key) => post({ type: "copyMetadataValue", key }) });

let panels: HTMLElement | undefined;

/** The tab strip and one view per tab, built once per webview (a reload keeps them). */
function buildPanels(): HTMLElement {
  const p = createControl("panels", { id: "tabs", activeid: `tab-${state.tab}` });
  for (const t of TAB_IDS) p.append(createControl("panelTab", { id: `tab-${t}` }, TAB_LABELS[t]));
  for (const t of TAB_IDS) {
    const view = createControl("panelView", { id: `view-${t}` });
    view.append(views[t]);
    p.append(view);
  }
  p.addEventListener("change", () => {
    // The property, not the attribute: the toolkit reflects attributes after the event.
    const id = ((p as HTMLElement & { activeid?: string }).activeid ?? "").replace(/^tab-/, "");
    if (!TAB_IDS.includes(id as TabId)) return;
    state.tab = id as TabId;
    root.dataset.tab = id;
    renderTab(state.tab);
    save();
    if (state.tab === "tensors") requestAnimationFrame(() => tensorTab.shown());
  });
  return p;
}

/** The model the tabs show, and which tabs have been built for it. */
let shown: InspectorModel | undefined;
const built = new Set<TabId>();

/** Builds a tab's content on first need: the active one at once, the others after the first frame. */
function renderTab(t: TabId): void {
  if (!shown || built.has(t)) return;
  built.add(t);
  if (t === "overview") {
    renderOverview(views.overview, shown);
    maybeShowMap();
  }
  else if (t === "metadata") metadataTab.init(shown);
  else if (t === "template") renderTemplateTab(views.template, shown, state, save);
  else if (t === "export") renderExportTab(views.export);
  // The tensor tab is built with every model: it collects the rows as they stream in.
}

/** Shows a preview (partial: tensor-derived figures pending) or the whole model. */
function showModel(model: InspectorModel, firstTensors: TensorColumns, partial: boolean): void {
  if (!panels || !panels.isConnected) {
    clear(root);
    panels ??= buildPanels();
    root.append(banner, panels, notice);
  }
  root.dataset.state = partial ? "preview" : "ready";
  root.dataset.file = model.overview.fileName;
  root.dataset.tab = state.tab;
  delete root.dataset.tensorsLoaded;
  shown = model;
  built.clear();
  tensorTab.init(model);
  tensorTab.addPage(0, firstTensors);
  renderTab(state.tab);
  if (state.tab === "tensors") requestAnimationFrame(() => tensorTab.shown());
  requestAnimationFrame(() => setTimeout(() => {
    if (shown === model) for (const t of TAB_IDS) renderTab(t);
  }));
  if (!partial && firstTensors.names.length >= model.overview.tensorCount) {
    root.dataset.tensorsLoaded = "true";
    maybeShowMap();
  }
}

/** The Overview's tensor-type map, once every row is in and the Overview exists (never before the first paint). */
function maybeShowMap(): void {
  const model = shown;
  const data = tensorTab.tensorData;
  if (!model || !data || root.dataset.tensorsLoaded !== "true" || !built.has("overview")) return;
  setTimeout(() => {
    if (shown === model) showOverviewMap({ ...model, kinds: data.kinds }, data, showTensorsNamed);
  }, 0);
}

/** A click on the map: the Tensors tab, filtered to those tensors. */
function showTensorsNamed(names: readonly string[]): void {
  tensorTab.applyFilter({ nameRegex: namesRegex(names) });
  if (panels) (panels as HTMLElement & { activeid?: string }).activeid = "tab-tensors";
  state.tab = "tensors";
  root.dataset.tab = "tensors";
  save();
  requestAnimationFrame(() => tensorTab.shown());
}

const gate = new StreamGate();

function onStream(m: StreamMessage): void {
  const action = gate.admit(m);
  if (m.type !== "tensorChunk") {
    if (action !== "drop") showModel(m.model, m.firstTensors, action === "show-preview");
  } else if (action === "append") {
    tensorTab.addChunk(m.offset, m.columns, m.newKinds);
    if (gate.received >= m.total) {
      root.dataset.tensorsLoaded = "true";
      maybeShowMap();
    }
  }
}

function showError(error: InspectorErrorInfo): void {
  clear(root);
  root.dataset.state = "error";
  root.dataset.errorCode = error.code;
  const rows: [string, string, string][] = [
    ["problem", "Problem", error.code],
    ["message", "Details", error.message],
    ["offset", "Offset", error.offset === undefined ? "—" : `byte ${error.offset.toLocaleString("en-US")} (0x${error.offset.toString(16)})`],
    ["path", "File", error.path],
  ];
  const dl = el("dl", { class: "error-facts" });
  for (const [id, label, value] of rows) dl.append(el("dt", {}, label), el("dd", { "data-error": id }, value));
  const reload = createControl("button", { id: "error-reload", appearance: "secondary" }, "Reload");
  reload.addEventListener("click", () => post({ type: "reload" }));
  root.append(el("div", { class: "error-view", id: "error-view" }, el("h2", {}, "This file cannot be opened as GGUF"), dl, reload));
}

function showFileState(s: FileState): void {
  root.dataset.fileState = s;
  clear(banner);
  if (s === "present") {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  banner.dataset.state = s;
  if (s === "deleted") banner.append("The file was deleted from disk. What you see was read before it went away.");
  else {
    banner.append("The file changed on disk. ");
    const reload = createControl("button", { id: "banner-reload", appearance: "secondary" }, "Reload");
    reload.addEventListener("click", () => post({ type: "reload" }));
    banner.append(reload);
  }
  // The error view has no banner slot; keep the state visible there too.
  if (!banner.isConnected) root.prepend(banner);
}

let noticeTimer: number | undefined;
function showNotice(message: string): void {
  notice.textContent = message;
  window.clearTimeout(noticeTimer);
  noticeTimer = window.setTimeout(() => (notice.textContent = ""), 6000);
}

window.addEventListener("message", (event: MessageEvent<ToInspector>) => {
  const m = event.data;
  markOnce(OPEN_MARKS.firstMessage);
  if (settleReply(m)) return;
  switch (m.type) {
    case "preview":
    case "model":
    case "tensorChunk":
      onStream(m);
      if (m.type !== "tensorChunk") markOnce(OPEN_MARKS.firstRendered);
      break;
    case "error":
      showError(m.error);
      break;
    case "fileState":
      showFileState(m.state);
      break;
    case "notice":
      showNotice(m.message);
      break;
    case "evalResults":
      setEvalSummary(m.summary);
      break;
    case "tensorPage":
    case "arrayPage":
    case "requestFailed":
      break; // replies, routed by settleReply
    default: {
      const unexpected: never = m;
      console.warn("unknown message", unexpected);
    }
  }
});

post({ type: "ready" });
markOnce(OPEN_MARKS.readyPosted);
