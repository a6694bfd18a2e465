// `inspect --json`, streamed: the document is written in pieces of about 64 KiB, objects and arrays
// near the top laid out one member per line and everything deeper as one compact line (one line
// per metadata entry, per tensor, per summary group). A header with millions of tensors therefore
// never becomes one string (V8 caps a string at ~512 MiB: "Invalid string length").
import { GGUF_VALUE_TYPE_NAMES, GgufModel, GgufSummary } from "../core/gguf";
import { valueToJson } from "./inspectFormat";

const PIECE = 64 * 1024;
/** Depth below which containers are laid out member by member; deeper ones are one compact line. */
const EXPANDED_DEPTH = 2;

type Lazy = { readonly lazy: true; readonly length: number; readonly at: (i: number) => unknown };

/** An array whose elements are made one at a time while writing (no second copy of 2M records). */
function lazyArray(length: number, at: (i: number) => unknown): Lazy {
  return { lazy: true, length, at };
}

function isLazy(v: unknown): v is Lazy {
  return typeof v === "object" && v !== null && (v as Lazy).lazy === true;
}

export function streamModelJson(model: GgufModel, summary: GgufSummary, write: (text: string) => void): void {
  let buf = "";
  const emit = (s: string): void => {
    buf += s;
    if (buf.length >= PIECE) {
      write(buf);
      buf = "";
    }
  };
  const first = model.shards[0].file;
  const entries = [...model.metadata.values()];
  const tensors = model.tensors;
  const doc = {
    path: model.path,
    isSplit: model.isSplit,
    version: first.version,
    littleEndian: first.littleEndian,
    alignment: first.alignment,
    shards: model.shards.map((s) => ({ path: s.path, tensorCount: s.tensorCount, tensorBytes: s.tensorBytes, fileSize: s.fileSize })),
    summary: { ...summary, shards: undefined },
    metadata: lazyArray(entries.length, (i) => ({ key: entries[i].key, type: GGUF_VALUE_TYPE_NAMES[entries[i].type], value: valueToJson(entries[i].value) })),
    tensors: lazyArray(tensors.length, (i) => {
      const t = tensors[i];
      return {
        name: t.name, shape: t.shape, ggmlType: t.ggmlType, type: t.typeName, shard: t.shardIndex, offset: t.offset,
        bytes: t.byteSize ?? null, bitsPerWeight: t.bitsPerWeight ?? null, layer: t.layer ?? null, kind: t.kind,
      };
    }),
  };
  writeValue(doc, 0, emit);
  emit("\n");
  if (buf.length > 0) write(buf);
}

function writeValue(v: unknown, depth: number, emit: (s: string) => void): void {
  const pad = "  ".repeat(depth + 1);
  const close = "  ".repeat(depth);
  if (isLazy(v) || Array.isArray(v)) {
    const n = isLazy(v) ? v.length : v.length;
    const at = isLazy(v) ? v.at : (i: number) => (v as unknown[])[i];
    if (n === 0) return emit("[]");
    // Arrays one level deeper than objects: a summary's 60k-entry byKind list is one line per group.
    if (depth > EXPANDED_DEPTH && !isLazy(v)) return emit(JSON.stringify(v));
    emit("[");
    for (let i = 0; i < n; i++) {
      emit(`${i === 0 ? "" : ","}\n${pad}`);
      writeValue(at(i), depth + 1, emit);
    }
    return emit(`\n${close}]`);
  }
  if (typeof v === "object" && v !== null) {
    if (depth >= EXPANDED_DEPTH) return emit(JSON.stringify(v));
    const keys = Object.keys(v).filter((k) => (v as Record<string, unknown>)[k] !== undefined);
    if (keys.length === 0) return emit("{}");
    emit("{");
    keys.forEach((k, i) => {
      emit(`${i === 0 ? "" : ","}\n${pad}${JSON.stringify(k)}: `);
      writeValue((v as Record<string, unknown>)[k], depth + 1, emit);
    });
    return emit(`\n${close}}`);
  }
  emit(JSON.stringify(v) ?? "null");
}
