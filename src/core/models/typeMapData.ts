// A model's tensors as the tensor-type map's columns (see shared/typeMapProtocol).
import { ggmlBitsPerWeight } from "../gguf/ggmlTypes";
import type { GgufTensorInfo } from "../gguf/types";
import type { TypeMapData } from "../../shared/typeMapProtocol";

type MapTensor = Pick<GgufTensorInfo, "name" | "ggmlType" | "typeName" | "kind" | "layer" | "byteSize" | "elementCount">;

export function typeMapData(tensors: readonly MapTensor[], typeOf: (t: MapTensor, i: number) => { name: string; id: number; bytes?: number } = (t) => ({ name: t.typeName, id: t.ggmlType, bytes: t.byteSize })): TypeMapData {
  const typeNames: string[] = [];
  const typeBits: (number | null)[] = [];
  const typeAt = new Map<string, number>();
  const kinds: string[] = [];
  const kindAt = new Map<string, number>();
  const n = tensors.length;
  const names = new Array<string>(n);
  const typeIndex = new Array<number>(n);
  const kindIndex = new Array<number>(n);
  const layer = new Array<number>(n);
  const bytes = new Array<number>(n);
  const elements = new Array<number>(n);
  tensors.forEach((t, i) => {
    const type = typeOf(t, i);
    let ti = typeAt.get(type.name);
    if (ti === undefined) {
      ti = typeNames.push(type.name) - 1;
      typeAt.set(type.name, ti);
      typeBits.push(ggmlBitsPerWeight(type.id) ?? null);
    }
    let ki = kindAt.get(t.kind);
    if (ki === undefined) {
      ki = kinds.push(t.kind) - 1;
      kindAt.set(t.kind, ki);
    }
    names[i] = t.name;
    typeIndex[i] = ti;
    kindIndex[i] = ki;
    layer[i] = t.layer ?? -1;
    bytes[i] = type.bytes ?? -1;
    elements[i] = t.elementCount;
  });
  return { names, typeIndex, kindIndex, layer, bytes, elements, typeNames, typeBits, kinds };
}
