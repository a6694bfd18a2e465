// Messages between the recipe editor webview and the host. Types only.
import { isInteger, isString, type MessageSchema } from "./messageSchema";
import { isTypeMapSelection, type TypeMapData, type TypeMapSelection } from "./typeMapProtocol";

export interface RecipeRuleView {
  readonly index: number;
  readonly pattern: string;
  readonly type: string;
  readonly note?: string;
  /** Tensors this rule decides (last match wins). */
  readonly decides: number;
}

export interface TensorRowView {
  readonly name: string;
  readonly shape: string;
  readonly sourceType: string;
  readonly type: string;
  /** "rule 3: blk\.0\.ffn_down", "base type", "kept: norm". */
  readonly why: string;
  readonly ruleIndex?: number;
  readonly fallback?: string;
  readonly bytes: number;
}

export interface KindGroupView {
  /** Tensor kind ("ffn_down"), the unit a quick edit applies to. */
  readonly kind: string;
  readonly tensors: number;
  /** The single type all its tensors get, or "mixed". */
  readonly type: string;
  readonly bytes: number;
}

export interface RecipeTotalsView {
  readonly tensorBytes: number;
  readonly fileBytes: number;
  readonly sourceFileBytes: number;
  readonly bitsPerWeight: number;
  readonly fallbacks: number;
  readonly requiresImatrix: boolean;
}

export interface RecipeProblemView {
  readonly severity: "error" | "warning";
  readonly path: string;
  readonly message: string;
}

/** The recipe was made for another layer count: what each rule's layers map to in this model. */
export interface LayerMappingView {
  readonly fromLayerCount: number;
  readonly toLayerCount: number;
  readonly rows: readonly { readonly pattern: string; readonly type: string; readonly from: string; readonly to: string; readonly matches: number }[];
}

export type RecipeToWebview =
  | {
      readonly type: "state";
      readonly recipeName: string;
      readonly modelName: string;
      readonly baseType: string;
      readonly types: readonly string[];
      readonly rules: readonly RecipeRuleView[];
      readonly groups: readonly KindGroupView[];
      readonly totals: RecipeTotalsView;
      readonly problems: readonly RecipeProblemView[];
      readonly tensorCount: number;
      /** First page of rows; more come through "rows". */
      readonly rows: readonly TensorRowView[];
      /** Every tensor with the type the recipe gives it, for the tensor-type map. */
      readonly map: TypeMapData;
      readonly layerMapping?: LayerMappingView;
    }
  | { readonly type: "rows"; readonly offset: number; readonly rows: readonly TensorRowView[] }
  | { readonly type: "error"; readonly message: string };

export type RecipeFromWebview =
  | { readonly type: "ready" }
  | { readonly type: "requestRows"; readonly offset: number; readonly count: number }
  | { readonly type: "setBaseType"; readonly baseType: string }
  | { readonly type: "setRuleType"; readonly index: number; readonly ruleType: string }
  | { readonly type: "removeRule"; readonly index: number }
  | { readonly type: "addRule"; readonly pattern: string; readonly ruleType: string }
  /** Sets every tensor of a kind to a type (adds or updates a rule "\.<kind>\.weight$"). */
  | { readonly type: "setGroupType"; readonly kind: string; readonly groupType: string }
  /** Cells chosen on the tensor-type map get a type: one rule for the layers × kinds, one for non-layer tensors. */
  | { readonly type: "setSelectionType"; readonly selection: TypeMapSelection; readonly ruleType: string };

export const RECIPE_ROWS_PAGE = 400;

const TYPE_NAME = isString(64);

/** Run-time check of every RecipeFromWebview message (the host accepts nothing else). */
export const RECIPE_FROM_WEBVIEW_SCHEMA: MessageSchema<RecipeFromWebview> = {
  ready: {},
  requestRows: { offset: isInteger(), count: isInteger() },
  setBaseType: { baseType: TYPE_NAME },
  setRuleType: { index: isInteger(), ruleType: TYPE_NAME },
  removeRule: { index: isInteger() },
  addRule: { pattern: isString(), ruleType: TYPE_NAME },
  setGroupType: { kind: isString(256), groupType: TYPE_NAME },
  setSelectionType: { selection: isTypeMapSelection, ruleType: TYPE_NAME },
};
