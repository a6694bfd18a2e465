// GGUF inspector webview: tabs over one model the host parsed once; data arrives in pages.
import type { FileState, InspectorErrorInfo, InspectorModel, TensorColumns, ToInspector } from "../../src/shared/inspectorProtocol";
import { TENSOR_PAGE_SIZE } from "../../src/shared/inspectorProtocol";
import { createControl, registerToolkit } from "../ui/toolkit";
import { clear, el } from "./dom";
import { renderExportTab } from "./exportTab";
import { MetadataTab } from "./metadataTab";
import { renderOverview } from "./overviewTab";
import { requestTensors, settleReply } from "./requests";
import { loadViewState, post, saveViewState, TAB_IDS, type TabId } from "./state";
import { TensorTab } from "./tensorTab";
import { renderTemplateTab } from "./templateTab";
import "./inspector.css";

registerToolkit();

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

function showModel(model: InspectorModel, firstTensors: TensorColumns): void {
  clear(root);
  root.dataset.state = "ready";
  root.dataset.file = model.overview.fileName;
  const panels = createControl("panels", { id: "tabs", activeid: `tab-${state.tab}` });
  for (const t of TAB_IDS) panels.append(createControl("panelTab", { id: `tab-${t}` }, TAB_LABELS[t]));
  for (const t of TAB_IDS) {
    const view = createControl("panelView", { id: `view-${t}` });
    view.append(views[t]);
    panels.append(view);
  }
  panels.addEventListener("change", () => {
    // The property, not the attribute: the toolkit reflects attributes after the event.
    const id = ((panels as HTMLElement & { activeid?: string }).activeid ?? "").replace(/^tab-/, "");
    if (!TAB_IDS.includes(id as TabId)) return;
    state.tab = id as TabId;
    root.dataset.tab = id;
    save();
    if (state.tab === "tensors") requestAnimationFrame(() => tensorTab.shown());
  });
  root.dataset.tab = state.tab;
  root.append(banner, panels, notice);
  renderOverview(views.overview, model);
  metadataTab.init(model);
  tensorTab.init(model);
  renderTemplateTab(views.template, model, state, save);
  renderExportTab(views.export);
  tensorTab.addPage(0, firstTensors);
  if (state.tab === "tensors") requestAnimationFrame(() => tensorTab.shown());
  void loadTensors(firstTensors.names.length, model.overview.tensorCount);
}

/** Pages in the rows after the ones that came with the model. */
let generation = 0;
async function loadTensors(from: number, total: number): Promise<void> {
  const mine = ++generation; // a reload starts a new model; stale pages are dropped
  for (let offset = from; offset < total; offset += TENSOR_PAGE_SIZE) {
    try {
      const page = await requestTensors(offset, TENSOR_PAGE_SIZE);
      if (mine !== generation) return;
      tensorTab.addPage(page.offset, page.columns);
    } catch (e) {
      showNotice(`Could not load tensors: ${e instanceof Error ? e.message : String(e)}`);
      return;
    }
  }
  root.dataset.tensorsLoaded = "true";
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
  if (settleReply(m)) return;
  switch (m.type) {
    case "model":
      showModel(m.model, m.firstTensors);
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
