// Messages between the KLD chart webview and the host. Types only.
import { isInteger, isOneOf, isString, type MessageSchema } from "./messageSchema";

export type ChartOrigin = "preset" | "recipe" | "optimizer" | "other";

export interface ChartPoint {
  readonly id: string;
  readonly label: string;
  readonly origin: ChartOrigin;
  readonly quantName: string;
  readonly bytes: number;
  readonly bitsPerWeight: number;
  /** NaN when the quant has accuracy or divergence results but no KLD result. */
  readonly meanKld: number;
  readonly meanKldError?: number;
  readonly kld99_9?: number;
  readonly sameTopP?: number;
  readonly pplRatio?: number;
  readonly chunks: number;
  readonly contextSize: number;
  readonly evalName: string;
  /** Multiple-choice accuracy, percent (latest run on the base's latest set). */
  readonly accuracy?: number;
  readonly accuracyError?: number;
  /** Flips against the base, percent of questions. */
  readonly flipsPercent?: number;
  /** (accuracy% − chance%) / GB. */
  readonly efficiency?: number;
  /** Greedy divergence: prompts whose N tokens all match the base's, percent. */
  readonly divergence?: number;
  readonly divergenceTokens?: number;
}

export interface ChartBaseView {
  readonly file: string;
  readonly name: string;
  readonly bytes: number;
}

export type ChartMetric = "meanKld" | "kld99_9" | "sameTopP" | "accuracy" | "flipsPercent" | "efficiency" | "divergence";
export type ChartAxis = "bytes" | "bitsPerWeight";
export type ExportFormat = "png" | "svg" | "csv";

export type ChartsToWebview =
  | {
    readonly type: "data"; readonly bases: readonly ChartBaseView[]; readonly selected: string | undefined; readonly points: readonly ChartPoint[];
    /** Switch to this metric (after Evaluate KLD: mean KLD; after Evaluate Accuracy: accuracy); else the persisted one stays. */
    readonly metric?: ChartMetric;
  }
  /** Asks the webview to render an export; it answers with "exported". */
  | { readonly type: "export"; readonly requestId: number; readonly format: ExportFormat };

export type ChartsFromWebview =
  | { readonly type: "ready" }
  | { readonly type: "selectBase"; readonly file: string }
  /** PNG is base64 (no data: prefix); SVG and CSV are text. */
  | { readonly type: "exported"; readonly requestId: number; readonly format: ExportFormat; readonly data: string }
  | { readonly type: "exportRequested"; readonly format: ExportFormat; readonly data: string };

const EXPORT_DATA_CHARS = 256 * 2 ** 20;

/** Run-time check of every ChartsFromWebview message (the host accepts nothing else). */
export const CHARTS_FROM_WEBVIEW_SCHEMA: MessageSchema<ChartsFromWebview> = {
  ready: {},
  selectBase: { file: isString() },
  exported: { requestId: isInteger(), format: isOneOf("png", "svg", "csv"), data: isString(EXPORT_DATA_CHARS) },
  exportRequested: { format: isOneOf("png", "svg", "csv"), data: isString(EXPORT_DATA_CHARS) },
};
