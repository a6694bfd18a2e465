// What the inspector remembers across hide/show and window reloads (vscode getState/setState).
import { vscodeApi } from "../ui/vscodeApi";
import type { FromInspector } from "../../src/shared/inspectorProtocol";
import type { GroupBy, SortKey } from "./tensorModel";

export type TabId = "overview" | "metadata" | "tensors" | "template" | "export";
export const TAB_IDS: readonly TabId[] = ["overview", "metadata", "tensors", "template", "export"];

export interface InspectorViewState {
  tab: TabId;
  tensors: {
    nameRegex: string;
    typeName: string;
    layers: string;
    sortKey: SortKey;
    descending: boolean;
    groupBy: GroupBy;
    scrollTop: number;
  };
  metadata: { filter: string; arrayKey: string; arrayQuery: string; arrayOffset: number };
  templateKey: string;
}

export function defaultViewState(): InspectorViewState {
  return {
    tab: "overview",
    tensors: { nameRegex: "", typeName: "", layers: "", sortKey: "index", descending: false, groupBy: "none", scrollTop: 0 },
    metadata: { filter: "", arrayKey: "", arrayQuery: "", arrayOffset: 0 },
    templateKey: "",
  };
}

const api = vscodeApi<InspectorViewState, FromInspector>();

export function loadViewState(): InspectorViewState {
  const saved = api.getState();
  const base = defaultViewState();
  if (!saved || typeof saved !== "object") return base;
  return {
    tab: TAB_IDS.includes(saved.tab) ? saved.tab : base.tab,
    tensors: { ...base.tensors, ...saved.tensors },
    metadata: { ...base.metadata, ...saved.metadata },
    templateKey: typeof saved.templateKey === "string" ? saved.templateKey : "",
  };
}

let pending = false;
/** Saves at most once per frame (scrolling calls this often). */
export function saveViewState(state: InspectorViewState): void {
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    api.setState(state);
  });
}

export function post(message: FromInspector): void {
  api.postMessage(message);
}
