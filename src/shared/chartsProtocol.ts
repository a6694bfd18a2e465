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
  readonly meanKld: number;
  readonly meanKldError?: number;
  readonly kld99_9?: number;
  readonly sameTopP?: number;
  readonly pplRatio?: number;
  readonly chunks: number;
  readonly contextSize: number;
  readonly evalName: string;
}

export interface ChartBaseView {
  readonly file: string;
  readonly name: string;
  readonly bytes: number;
}

export type ChartMetric = "meanKld" | "kld99_9" | "sameTopP";
export type ChartAxis = "bytes" | "bitsPerWeight";
export type ExportFormat = "png" | "svg" | "csv";

export type ChartsToWebview =
  | { readonly type: "data"; readonly bases: readonly ChartBaseView[]; readonly selected: string | undefined; readonly points: readonly ChartPoint[] }
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
