// The inspector's open path, host side and vscode-free (the custom editor and `npm run
// bench:inspector` both run it): a preview from the metadata and the first tensor infos, then the
// whole model, then the remaining tensor rows pushed in chunks. See ToInspector for the order.
import nodePath from "node:path";
import { metadataNumber, readGgufPrefix, type GgufHeaderPrefix } from "../gguf";
import { architectureFacts } from "../gguf/summary";
import {
  FIRST_TENSOR_PAGE,
  TENSOR_CHUNK_ROWS,
  type InspectorModel,
  type TensorColumns,
  type ToInspector,
} from "../../shared/inspectorProtocol";
import { chatTemplates, internTensorColumns, metadataRows, tensorColumns, type LoadedModel } from "./inspectorData";

type PreviewMessage = Extract<ToInspector, { type: "preview" }>;
type ModelMessage = Extract<ToInspector, { type: "model" }>;
type ChunkMessage = Extract<ToInspector, { type: "tensorChunk" }>;

/** What the preview message carries (without its generation). */
export interface InspectorPreview {
  readonly model: InspectorModel;
  readonly firstTensors: TensorColumns;
}

/** Parse slices of the full read, in ms: the host serves the webview between them. */
export const PARSE_SLICE_MS = 8;

/** Reads the metadata and the first screen of tensor infos of `path` (a few ms even for 60k tensors). */
export async function loadInspectorPreview(path: string): Promise<InspectorPreview> {
  return previewOf(path, await readGgufPrefix(path, FIRST_TENSOR_PAGE, { yieldEveryMs: PARSE_SLICE_MS }));
}

export function previewOf(openedPath: string, prefix: GgufHeaderPrefix): InspectorPreview {
  const a = architectureFacts(prefix.metadata);
  const interned = internTensorColumns(prefix.tensors);
  const isSplit = (metadataNumber(prefix.metadata, "split.count") ?? 1) > 1;
  const model: InspectorModel = {
    overview: {
      fileName: nodePath.basename(openedPath),
      path: prefix.path,
      shardPaths: [prefix.path],
      isSplit,
      architecture: a.architecture,
      modelName: a.name,
      parameterCount: 0,
      fileSize: prefix.fileSize,
      tensorBytes: 0,
      fileTypeName: a.fileTypeName,
      contextLength: a.contextLength,
      layerCount: a.blockCount,
      expertCount: a.expertCount,
      expertUsedCount: a.expertUsedCount,
      vocabSize: a.vocabSize,
      tensorCount: isSplit ? prefix.tensors.length : prefix.tensorCount,
      ggufVersion: prefix.version,
      typeMix: [],
      warnings: [],
      partial: true,
    },
    metadata: metadataRows(prefix.metadata),
    chatTemplates: chatTemplates(prefix.metadata),
    typeNames: interned.typeNames,
    typeBits: interned.typeBits,
    kinds: interned.kinds,
  };
  const rows = { model: { tensors: prefix.tensors }, typeIndex: interned.typeIndex, kindIndex: interned.kindIndex };
  return { model, firstTensors: tensorColumns(rows, 0, prefix.tensors.length) };
}

export function previewMessage(preview: InspectorPreview, generation: number): PreviewMessage {
  return { type: "preview", generation, ...preview };
}

/** Number of distinct kinds among tensors [0, end): kinds are numbered in order of first use. */
function kindsUpTo(loaded: LoadedModel, end: number): number {
  let max = -1;
  for (let i = 0; i < end; i++) if (loaded.kindIndex[i] > max) max = loaded.kindIndex[i];
  return max + 1;
}

/** The model with its first FIRST_TENSOR_PAGE rows and only the kinds those rows use. */
export function modelMessage(loaded: LoadedModel, generation: number): ModelMessage {
  const firstTensors = tensorColumns(loaded, 0, FIRST_TENSOR_PAGE);
  const kinds = loaded.view.kinds.slice(0, kindsUpTo(loaded, firstTensors.names.length));
  return { type: "model", generation, model: { ...loaded.view, kinds }, firstTensors };
}

/** The rows after the first page, as tensorChunk messages in order. */
export function* tensorChunks(loaded: LoadedModel, generation: number, chunkRows = TENSOR_CHUNK_ROWS): Generator<ChunkMessage> {
  const total = loaded.model.tensors.length;
  let offset = Math.min(FIRST_TENSOR_PAGE, total);
  let kindsSent = kindsUpTo(loaded, offset);
  while (offset < total) {
    const columns = tensorColumns(loaded, offset, chunkRows);
    let max = kindsSent - 1;
    for (const k of columns.kindIndex) if (k > max) max = k;
    yield { type: "tensorChunk", generation, offset, total, columns, newKinds: loaded.view.kinds.slice(kindsSent, max + 1) };
    kindsSent = max + 1;
    offset += columns.names.length;
  }
}

/**
 * Sends every chunk through `send` (awaiting each, so a slow webview holds the stream back) and
 * gives the event loop a turn between chunks. Stops as soon as `current()` turns false (a reload,
 * a new webview, a closed editor). Returns whether every chunk was sent.
 */
export async function streamTensorChunks(
  loaded: LoadedModel,
  generation: number,
  send: (m: ChunkMessage) => unknown,
  current: () => boolean,
  chunkRows = TENSOR_CHUNK_ROWS,
): Promise<boolean> {
  for (const chunk of tensorChunks(loaded, generation, chunkRows)) {
    if (!current()) return false;
    await send(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return current();
}
