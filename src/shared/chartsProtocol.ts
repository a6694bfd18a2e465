// Messages between the KLD chart webview and the host. Types only.

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
