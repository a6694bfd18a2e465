// The tensor-type map's input: a model's tensors as parallel columns (the inspector's TensorColumns
// shape plus the type and kind tables), compact to post and fast to lay out for 60k tensors.
// Hosts build it with core/models/typeMapData, the inspector from its own pages.
import type { FieldCheck } from "./messageSchema";

export interface TypeMapData {
  readonly names: ArrayLike<string>;
  readonly typeIndex: ArrayLike<number>;
  readonly kindIndex: ArrayLike<number>;
  /** -1 for non-layer tensors. */
  readonly layer: ArrayLike<number>;
  /** -1 when the type is unknown. */
  readonly bytes: ArrayLike<number>;
  readonly elements: ArrayLike<number>;
  readonly typeNames: readonly string[];
  /** Nominal bits per weight of each type (null when unknown). */
  readonly typeBits: readonly (number | null)[];
  readonly kinds: readonly string[];
}

/** A rectangle of the map chosen in the recipe editor: these layers × these kinds. */
export interface TypeMapSelection {
  readonly layers: readonly number[];
  readonly kinds: readonly string[];
  /** Non-layer tensors selected by name (token_embd, output, ...). */
  readonly names: readonly string[];
}

const isBoundedArray = <T>(v: unknown, max: number, item: (x: unknown) => x is T): v is T[] => Array.isArray(v) && v.length <= max && v.every(item);
const isLayer = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0 && x < 1_000_000;
const isName = (x: unknown): x is string => typeof x === "string" && x.length <= 1024;

/** Run-time check of a selection posted by a webview (a whole 60k-tensor map at most). */
export const isTypeMapSelection: FieldCheck<TypeMapSelection> = (v): v is TypeMapSelection => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  return Object.keys(o).every((k) => k === "layers" || k === "kinds" || k === "names")
    && isBoundedArray(o.layers, 1_000_000, isLayer) && isBoundedArray(o.kinds, 10_000, isName) && isBoundedArray(o.names, 100_000, isName);
};

/** Largest map export accepted from a webview (base64 PNG of a 16k-pixel map, or its SVG). */
export const MAX_TYPE_MAP_EXPORT_CHARS = 512 * 2 ** 20;
