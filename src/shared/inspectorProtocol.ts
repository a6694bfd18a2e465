// Messages between the GGUF inspector (custom editor, host side) and its webview. Type-only: the
// host and webview/inspector both import it. One union per direction; requests that expect a
// reply carry a `requestId` echoed back.
import { isInteger, isOneOf, isString, type MessageSchema } from "./messageSchema";
import { MAX_TYPE_MAP_EXPORT_CHARS } from "./typeMapProtocol";

/** What the Overview tab shows; computed once per document by the host from the core summary. */
export interface InspectorOverview {
  readonly fileName: string;
  readonly path: string;
  /** Every shard path (one entry for single files). */
  readonly shardPaths: readonly string[];
  readonly isSplit: boolean;
  readonly architecture?: string;
  readonly modelName?: string;
  readonly parameterCount: number;
  /** Sum of the sizes of all shards on disk. */
  readonly fileSize: number;
  readonly tensorBytes: number;
  readonly fileTypeName?: string;
  readonly bitsPerWeight?: number;
  readonly contextLength?: number;
  readonly layerCount?: number;
  readonly expertCount?: number;
  readonly expertUsedCount?: number;
  readonly vocabSize?: number;
  readonly tensorCount: number;
  readonly ggufVersion: number;
  /** Bytes per ggml type, largest first: the quant-mix bar. */
  readonly typeMix: readonly TypeMixEntry[];
  readonly warnings: readonly InspectorWarning[];
  /**
   * True in a `preview`: read from the metadata and the first tensor infos only. The figures that
   * need every tensor (parameterCount, tensorBytes, bitsPerWeight, typeMix, warnings, and fileSize
   * of a split set) are placeholders (0 / empty) until the `model` message.
   */
  readonly partial?: boolean;
}

export interface TypeMixEntry {
  readonly typeName: string;
  readonly bytes: number;
  readonly tensorCount: number;
  /** Bits per weight of the type itself (undefined for unknown types). */
  readonly typeBitsPerWeight?: number;
}

export type InspectorWarningCode = "no-chat-template" | "unknown-tensor-type" | "missing-shard" | "vocab-only" | "no-architecture";

export interface InspectorWarning {
  readonly code: InspectorWarningCode;
  readonly message: string;
}

/** One metadata key; arrays show their length and are paged on request. */
export interface MetadataRow {
  readonly key: string;
  /** "str", "u32", "arr[str]" … */
  readonly typeName: string;
  /** Display text, cut at a few hundred characters (the full value is copied through the host). */
  readonly preview: string;
  readonly truncated: boolean;
  /** Element count for arrays. */
  readonly arrayLength?: number;
  readonly offset: number;
}

export interface ChatTemplateInfo {
  /** "default" for tokenizer.chat_template, else the suffix of tokenizer.chat_template.<name>. */
  readonly name: string;
  readonly key: string;
  readonly text: string;
}

/** Everything but the tensor rows and array contents, sent once after the webview says it is ready. */
export interface InspectorModel {
  readonly overview: InspectorOverview;
  readonly metadata: readonly MetadataRow[];
  readonly chatTemplates: readonly ChatTemplateInfo[];
  /** Type names indexed by TensorColumns.typeIndex, with their nominal bits per weight. */
  readonly typeNames: readonly string[];
  readonly typeBits: readonly (number | null)[];
  /**
   * Tensor kinds indexed by TensorColumns.kindIndex ("attn_q", "ffn_down_exps", "token_embd"): in
   * `preview` and `model` those of the rows sent with it; each tensorChunk appends the kinds its rows
   * introduce (kinds are numbered in tensor order, so a 60k-kind file is not sent up front).
   */
  readonly kinds: readonly string[];
}

/** A page of tensor rows as parallel columns (compact to post, fast to filter). */
export interface TensorColumns {
  readonly names: readonly string[];
  /** Shapes joined with "×", ne[0] first as ggml stores them. */
  readonly shapes: readonly string[];
  readonly typeIndex: readonly number[];
  readonly kindIndex: readonly number[];
  /** -1 when the type is unknown. */
  readonly bytes: readonly number[];
  readonly elements: readonly number[];
  /** -1 for non-layer tensors. */
  readonly layer: readonly number[];
  readonly shard: readonly number[];
}

export interface InspectorErrorInfo {
  /** GgufError code ("truncated", "bad-magic" …) or "io" / "unexpected". */
  readonly code: string;
  readonly message: string;
  /** Byte offset of the problem, when the core knows it. */
  readonly offset?: number;
  readonly path: string;
}

export interface ArrayEntry {
  readonly index: number;
  readonly value: string;
}

export type ExportTable = "summary" | "tensors" | "metadata" | "layers" | "kinds";
export type ExportFormat = "json" | "markdown" | "csv";

export type FileState = "present" | "deleted" | "changed";

/**
 * Host → webview. Opening streams: `preview` (as soon as the metadata and the first screen of tensor
 * infos are read; skipped when the whole header is already parsed), then `model` (everything), then
 * `tensorChunk`s with the remaining rows, pushed without being asked. All three carry the document's
 * load `generation`: a reload starts a new one, and the webview drops messages of an older one.
 */
export type ToInspector =
  | {
      readonly type: "preview";
      readonly generation: number;
      /** overview.partial is true. */
      readonly model: InspectorModel;
      /** The first FIRST_TENSOR_PAGE rows (or all, when fewer). */
      readonly firstTensors: TensorColumns;
    }
  | {
      readonly type: "model";
      readonly generation: number;
      readonly model: InspectorModel;
      /** The first FIRST_TENSOR_PAGE rows, so the table paints without another round trip. */
      readonly firstTensors: TensorColumns;
    }
  | {
      readonly type: "tensorChunk";
      readonly generation: number;
      /** Index of the first row; chunks arrive in order, right after the rows sent before. */
      readonly offset: number;
      readonly total: number;
      readonly columns: TensorColumns;
      /** Kinds first used by these rows, to append to InspectorModel.kinds. */
      readonly newKinds: readonly string[];
    }
  | { readonly type: "error"; readonly error: InspectorErrorInfo }
  | {
      readonly type: "tensorPage";
      readonly requestId: number;
      readonly offset: number;
      readonly total: number;
      readonly columns: TensorColumns;
    }
  | {
      readonly type: "arrayPage";
      readonly requestId: number;
      readonly key: string;
      readonly offset: number;
      /** Entries matching the query (or the array length without one). */
      readonly total: number;
      readonly arrayLength: number;
      readonly query: string;
      readonly entries: readonly ArrayEntry[];
    }
  | { readonly type: "requestFailed"; readonly requestId: number; readonly message: string }
  | { readonly type: "fileState"; readonly state: FileState }
  | { readonly type: "notice"; readonly message: string }
  /** The model's latest KLD / accuracy / divergence results against its base, from the results store. */
  | { readonly type: "evalResults"; readonly summary: QuantEvalSummary | undefined };

/** Webview → host. */
export type FromInspector =
  | { readonly type: "ready" }
  /** Re-reads rows on demand (the open path pushes them as tensorChunks instead). */
  | { readonly type: "requestTensors"; readonly requestId: number; readonly offset: number; readonly count: number }
  | {
      readonly type: "requestArrayPage";
      readonly requestId: number;
      readonly key: string;
      readonly offset: number;
      readonly count: number;
      /** Case-insensitive substring; "" lists everything. */
      readonly query: string;
    }
  | { readonly type: "copyText"; readonly text: string; readonly what: string }
  | { readonly type: "copyMetadataValue"; readonly key: string }
  | { readonly type: "editChatTemplate"; readonly key: string }
  | { readonly type: "export"; readonly table: ExportTable; readonly format: ExportFormat }
  /** The tensor-type map rendered for saving: PNG as base64 (no data: prefix), SVG as text. */
  | { readonly type: "exportTypeMap"; readonly format: "png" | "svg"; readonly data: string }
  /** Runs "Extract Recipe from Model…" on this file. */
  | { readonly type: "extractRecipe" }
  | { readonly type: "reload" };

/** Rows sent with the preview and model messages: more than one screen of the table. */
export const FIRST_TENSOR_PAGE = 256;
/** Rows per tensorChunk the host pushes after the model message. */
export const TENSOR_CHUNK_ROWS = 8192;
/** Characters of a metadata value shown inline. */
export const METADATA_PREVIEW_CHARS = 300;

/** Run-time check of every FromInspector message (the host accepts nothing else). */
export const FROM_INSPECTOR_SCHEMA: MessageSchema<FromInspector> = {
  ready: {},
  requestTensors: { requestId: isInteger(), offset: isInteger(), count: isInteger() },
  requestArrayPage: { requestId: isInteger(), key: isString(65_536), offset: isInteger(), count: isInteger(), query: isString() },
  // The tensor-type rules of a 60k-tensor model are a few MB.
  copyText: { text: isString(64 * 2 ** 20), what: isString(200) },
  copyMetadataValue: { key: isString(65_536) },
  editChatTemplate: { key: isString(65_536) },
  export: { table: isOneOf("summary", "tensors", "metadata", "layers", "kinds"), format: isOneOf("json", "markdown", "csv") },
  exportTypeMap: { format: isOneOf("png", "svg"), data: isString(MAX_TYPE_MAP_EXPORT_CHARS) },
  extractRecipe: {},
  reload: {},
};

/** A quant's latest results against its base, for the inspector's Overview. */
export interface QuantEvalSummary {
  readonly baseName: string;
  readonly isBase: boolean;
  readonly meanKld?: number;
  readonly sameTopP?: number;
  readonly accuracy?: number;
  readonly accuracyError?: number;
  readonly baseAccuracy?: number;
  readonly flipsPercent?: number;
  readonly efficiency?: number;
  readonly baseEfficiency?: number;
  readonly divergence?: number;
  readonly divergenceTokens?: number;
  readonly measuredAt: string;
}
