// Turns a parsed GGUF model into what the inspector shows: the overview, metadata rows, chat
// templates and tensor pages as compact columns. vscode-free so the benchmark and unit tests run
// it in plain Node.
import nodePath from "node:path";
import {
  GGUF_VALUE_TYPE_NAMES,
  GgufValueType,
  ggmlBitsPerWeight,
  isGgufError,
  readGgufFile,
  readGgufModel,
  summarizeGguf,
  type GgufMetadataEntry,
  type GgufModel,
  type ReadGgufOptions,
  type GgufSummary,
  type GgufTensorInfo,
  type GgufValue,
} from "../gguf";
import {
  METADATA_PREVIEW_CHARS,
  type ChatTemplateInfo,
  type InspectorErrorInfo,
  type InspectorModel,
  type InspectorOverview,
  type InspectorWarning,
  type MetadataRow,
  type TensorColumns,
} from "../../shared/inspectorProtocol";

/** A model as the inspector holds it: parsed once, then served in pages. */
export interface LoadedModel {
  readonly model: GgufModel;
  readonly summary: GgufSummary;
  readonly view: InspectorModel;
  /** Indexes into view.typeNames / view.kinds, per tensor (parallel to model.tensors). */
  readonly typeIndex: Int32Array;
  readonly kindIndex: Int32Array;
}

/**
 * Reads the model `path` belongs to (all shards of a split set). A split set with a missing shard
 * still opens, from the given file alone, with a "missing-shard" warning.
 */
export async function loadInspectorModel(path: string, options: ReadGgufOptions = {}): Promise<LoadedModel> {
  const warnings: InspectorWarning[] = [];
  let model: GgufModel;
  try {
    model = await readGgufModel(path, options);
  } catch (e) {
    if (!isGgufError(e) || e.code !== "missing-shard") throw e;
    warnings.push({ code: "missing-shard", message: e.message });
    const file = await readGgufFile(path, options);
    model = {
      path,
      shards: [{ path, index: 0, file, tensorCount: file.tensors.length, tensorBytes: sumBytes(file.tensors), fileSize: file.fileSize }],
      metadata: file.metadata,
      tensors: file.tensors,
      isSplit: false,
    };
  }
  return buildLoadedModel(path, model, warnings);
}

function sumBytes(tensors: readonly { byteSize: number | undefined }[]): number {
  let s = 0;
  for (const t of tensors) s += t.byteSize ?? 0;
  return s;
}

export function buildLoadedModel(openedPath: string, model: GgufModel, extraWarnings: readonly InspectorWarning[] = []): LoadedModel {
  const summary = summarizeGguf(model);
  const { typeNames, typeBits, kinds, typeIndex, kindIndex } = internTensorColumns(model.tensors);
  const view: InspectorModel = {
    overview: overviewOf(openedPath, model, summary, extraWarnings),
    metadata: metadataRows(model.metadata),
    chatTemplates: chatTemplates(model.metadata),
    typeNames,
    typeBits,
    kinds,
  };
  return { model, summary, view, typeIndex, kindIndex };
}

/** Type names and kinds numbered in order of first use, and each tensor's numbers. */
export function internTensorColumns(tensors: readonly GgufTensorInfo[]): {
  typeNames: string[];
  typeBits: (number | null)[];
  kinds: string[];
  typeIndex: Int32Array;
  kindIndex: Int32Array;
} {
  const typeNames: string[] = [];
  const typeBits: (number | null)[] = [];
  const typeByName = new Map<string, number>();
  const kinds: string[] = [];
  const kindByName = new Map<string, number>();
  const typeIndex = new Int32Array(tensors.length);
  const kindIndex = new Int32Array(tensors.length);
  tensors.forEach((t, i) => {
    let ti = typeByName.get(t.typeName);
    if (ti === undefined) {
      ti = typeNames.length;
      typeByName.set(t.typeName, ti);
      typeNames.push(t.typeName);
      typeBits.push(ggmlBitsPerWeight(t.ggmlType) ?? null);
    }
    let ki = kindByName.get(t.kind);
    if (ki === undefined) {
      ki = kinds.length;
      kindByName.set(t.kind, ki);
      kinds.push(t.kind);
    }
    typeIndex[i] = ti;
    kindIndex[i] = ki;
  });
  return { typeNames, typeBits, kinds, typeIndex, kindIndex };
}

function overviewOf(openedPath: string, model: GgufModel, s: GgufSummary, extra: readonly InspectorWarning[]): InspectorOverview {
  const a = s.architecture;
  const warnings: InspectorWarning[] = [...extra];
  if (!a.architecture) warnings.push({ code: "no-architecture", message: "general.architecture is missing: llama.cpp will refuse to load this file." });
  if (!a.chatTemplatePresent && model.tensors.length > 0) {
    warnings.push({ code: "no-chat-template", message: "No chat template (tokenizer.chat_template): servers fall back to a generic format." });
  }
  if (s.unknownTypeTensorCount > 0) {
    const names = [...new Set(model.tensors.filter((t) => !t.typeKnown).map((t) => t.typeName))].join(", ");
    warnings.push({ code: "unknown-tensor-type", message: `${s.unknownTypeTensorCount} tensor(s) have a type this version does not know (${names}); their size is not counted.` });
  }
  if (model.tensors.length === 0) warnings.push({ code: "vocab-only", message: "The file holds no tensors (vocabulary-only GGUF)." });
  return {
    fileName: nodePath.basename(openedPath),
    path: model.path,
    shardPaths: model.shards.map((sh) => sh.path),
    isSplit: model.isSplit,
    architecture: a.architecture,
    modelName: a.name,
    parameterCount: s.parameterCount,
    fileSize: s.shards.reduce((acc, sh) => acc + sh.fileSize, 0),
    tensorBytes: s.tensorBytes,
    fileTypeName: a.fileTypeName,
    bitsPerWeight: s.bitsPerWeight,
    contextLength: a.contextLength,
    layerCount: a.blockCount,
    expertCount: a.expertCount,
    expertUsedCount: a.expertUsedCount,
    vocabSize: a.vocabSize,
    tensorCount: s.tensorCount,
    ggufVersion: model.shards[0]?.file.version ?? 0,
    typeMix: s.typeHistogram.map((h) => ({
      typeName: h.typeName,
      bytes: h.bytes,
      tensorCount: h.tensorCount,
      typeBitsPerWeight: ggmlBitsPerWeight(h.ggmlType),
    })),
    warnings,
  };
}

/** Type name as the inspector shows it: "str", "arr[str]", "arr[arr[i32]]". */
export function metadataTypeName(entry: GgufMetadataEntry): string {
  return valueTypeName(entry.type, entry.value);
}

function valueTypeName(type: GgufValueType, value: GgufValue): string {
  if (type !== GgufValueType.ARRAY || typeof value !== "object") return GGUF_VALUE_TYPE_NAMES[type];
  const first = value.kind === "array" ? value.values[0] : undefined;
  const inner = value.elementType === GgufValueType.ARRAY && first !== undefined ? valueTypeName(GgufValueType.ARRAY, first) : GGUF_VALUE_TYPE_NAMES[value.elementType];
  return `arr[${inner}]`;
}

/** Full text of a value, as copied to the clipboard (arrays as JSON). */
export function formatMetadataValue(value: GgufValue): string {
  if (typeof value === "string") return value;
  if (typeof value === "bigint" || typeof value === "number" || typeof value === "boolean") return String(value);
  if (value.kind === "lazy-array") return `[${value.count} items]`;
  return JSON.stringify(value.values.map(jsonValue));
}

/** A value as plain JSON (bigints that fit become numbers, else strings). */
export function jsonValue(value: GgufValue): unknown {
  if (typeof value === "bigint") return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value !== "object") return value;
  if (value.kind === "lazy-array") return { lazyArray: true, count: value.count };
  return value.values.map(jsonValue);
}

export function metadataRows(metadata: ReadonlyMap<string, GgufMetadataEntry>): MetadataRow[] {
  const rows: MetadataRow[] = [];
  for (const e of metadata.values()) {
    const v = e.value;
    const arrayLength = typeof v === "object" ? (v.kind === "array" ? v.values.length : v.count) : undefined;
    let preview: string;
    let truncated = false;
    if (typeof v === "object" && v.kind === "lazy-array") {
      preview = `[${v.count.toLocaleString("en-US")} items]`;
      truncated = true;
    } else {
      const full = formatMetadataValue(v);
      truncated = full.length > METADATA_PREVIEW_CHARS;
      preview = truncated ? `${full.slice(0, METADATA_PREVIEW_CHARS)}…` : full;
    }
    rows.push({ key: e.key, typeName: metadataTypeName(e), preview, truncated, arrayLength, offset: e.offset });
  }
  return rows;
}

export function chatTemplates(metadata: ReadonlyMap<string, GgufMetadataEntry>): ChatTemplateInfo[] {
  const out: ChatTemplateInfo[] = [];
  for (const e of metadata.values()) {
    if (typeof e.value !== "string") continue;
    if (e.key === "tokenizer.chat_template") out.push({ name: "default", key: e.key, text: e.value });
    else if (e.key.startsWith("tokenizer.chat_template.")) out.push({ name: e.key.slice("tokenizer.chat_template.".length), key: e.key, text: e.value });
  }
  return out;
}

/** What tensorColumns reads: the tensors and their interned type and kind numbers. */
export interface TensorRowSource {
  readonly model: { readonly tensors: readonly GgufTensorInfo[] };
  readonly typeIndex: Int32Array;
  readonly kindIndex: Int32Array;
}

/** Rows [offset, offset+count) as parallel columns. */
export function tensorColumns(loaded: TensorRowSource, offset: number, count: number): TensorColumns {
  const tensors = loaded.model.tensors;
  const start = Math.max(0, Math.min(offset, tensors.length));
  const end = Math.max(start, Math.min(tensors.length, start + Math.max(0, count)));
  const n = end - start;
  const names = new Array<string>(n);
  const shapes = new Array<string>(n);
  const typeIndex = new Array<number>(n);
  const kindIndex = new Array<number>(n);
  const bytes = new Array<number>(n);
  const elements = new Array<number>(n);
  const layer = new Array<number>(n);
  const shard = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t = tensors[start + i];
    names[i] = t.name;
    shapes[i] = t.shape.join("×");
    typeIndex[i] = loaded.typeIndex[start + i];
    kindIndex[i] = loaded.kindIndex[start + i];
    bytes[i] = t.byteSize ?? -1;
    elements[i] = t.elementCount;
    layer[i] = t.layer ?? -1;
    shard[i] = t.shardIndex;
  }
  return { names, shapes, typeIndex, kindIndex, bytes, elements, layer, shard };
}

/** The error view's content for anything loadInspectorModel threw. */
export function inspectorErrorOf(path: string, e: unknown): InspectorErrorInfo {
  if (isGgufError(e)) {
    // The core appends "(at byte N)" to the message; the view shows the offset on its own line.
    const message = e.offset === undefined ? e.message : e.message.replace(/ \(at byte \d+\)$/, "");
    return { code: e.code, message, offset: e.offset, path: e.path ?? path };
  }
  const errno = e as NodeJS.ErrnoException;
  if (errno && typeof errno.code === "string") return { code: "io", message: errno.message, path };
  return { code: "unexpected", message: e instanceof Error ? e.message : String(e), path };
}
