// The Overview's tensor-type map, drawn once every tensor page has arrived (after the first paint,
// so it never delays it). A click on a cell filters the Tensors tab to that cell's tensors.
import type { InspectorModel } from "../../src/shared/inspectorProtocol";
import { TypeMapView } from "../typemap/typeMapView";
import { el } from "./dom";
import type { TensorData } from "./tensorModel";
import { post } from "./state";

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

let current: TypeMapView | undefined;

/** The section the map goes in; placed by the Overview, filled later by showOverviewMap. */
export function typeMapSection(): HTMLElement {
  return el("section", { class: "typemap-section", id: "overview-typemap" }, el("h3", {}, "Tensor-type map"), el("div", { class: "typemap-slot" }, "Drawn when all tensors are loaded…"));
}

export function showOverviewMap(model: InspectorModel, data: TensorData, filterTensors: (names: readonly string[]) => void): void {
  const slot = document.querySelector<HTMLElement>("#overview-typemap .typemap-slot");
  if (!slot) return;
  current?.dispose();
  const view = new TypeMapView({
    id: "inspector-typemap",
    onCellClick: (cell) => filterTensors(cell.tensors.map((i) => data.names[i])),
    onExport: (format, d) => post({ type: "exportTypeMap", format, data: d }),
  });
  current = view;
  slot.textContent = "";
  slot.append(view.element);
  view.setData({
    names: data.names, typeIndex: data.typeIndex, kindIndex: data.kindIndex, layer: data.layer, bytes: data.bytes, elements: data.elements,
    typeNames: model.typeNames, typeBits: model.typeBits, kinds: model.kinds,
  });
}

/** An anchored regex naming exactly these tensors. */
export function namesRegex(names: readonly string[]): string {
  return names.length === 1 ? `^${escapeRegex(names[0])}$` : `^(${names.map(escapeRegex).join("|")})$`;
}
