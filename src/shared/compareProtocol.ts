// Messages between the Compare Models panel and its webview, and the run-time check of what the webview posts.
import type { ModelDiff } from "./modelDiffTypes";
import { isOneOf, isString, type MessageSchema } from "./messageSchema";
import { MAX_TYPE_MAP_EXPORT_CHARS, type TypeMapData } from "./typeMapProtocol";

export interface CompareSideMap {
  readonly label: string;
  readonly map: TypeMapData;
  /** Tensor indices (into map) whose type or shape differs from the other side, or that it lacks. */
  readonly differing: readonly number[];
}

export type ToCompare = { readonly type: "data"; readonly diff: ModelDiff; readonly a: CompareSideMap; readonly b: CompareSideMap };

export type FromCompare =
  | { readonly type: "ready" }
  | { readonly type: "exportTypeMap"; readonly side: "a" | "b"; readonly format: "png" | "svg"; readonly data: string };

/** Run-time check of every FromCompare message (the host accepts nothing else). */
export const FROM_COMPARE_SCHEMA: MessageSchema<FromCompare> = {
  ready: {},
  exportTypeMap: { side: isOneOf("a", "b"), format: isOneOf("png", "svg"), data: isString(MAX_TYPE_MAP_EXPORT_CHARS) },
};
