// Compares two GGUF models from their headers: metadata (long arrays summarized, lazy ones compared
// byte for byte on disk), tensors whose type or shape differs, and bytes / bits per weight per kind
// and per layer for each side with the delta. Models of different architectures still get the
// metadata diff; their tensors are reported as not alignable.
import fs from "node:fs";
import { GGUF_VALUE_TYPE_NAMES, GgufValueType, type GgufMetadataEntry, type GgufModel, type GgufTensorInfo, type GgufValue } from "../gguf/types";
import { metadataNumber, metadataString } from "../gguf/metadata";
import { buildTensorScheme, OTHER_ROW, rowLabel } from "../../shared/tensorScheme";
import type { MetadataDiffEntry, ModelDiff, ModelSide, SizeRow, TensorDiffEntry } from "../../shared/modelDiffTypes";

/** Arrays longer than this are shown as "[type × n]" plus a content fingerprint, not element by element. */
const ARRAY_PREVIEW = 8;

export type { MetadataDiffEntry, ModelDiff, ModelSide, SizeRow, TensorDiffEntry } from "../../shared/modelDiffTypes";

function side(model: GgufModel): ModelSide {
  let bytes = 0;
  let known = 0;
  const layers = new Set<number>();
  for (const t of model.tensors) {
    if (t.byteSize !== undefined) { bytes += t.byteSize; known += t.elementCount; }
    if (t.layer !== undefined && /^blk\./.test(t.name)) layers.add(t.layer);
  }
  return {
    path: model.path, architecture: metadataString(model.metadata, "general.architecture"), layerCount: layers.size,
    tensorCount: model.tensors.length, tensorBytes: bytes, bitsPerWeight: known > 0 ? (bytes * 8) / known : undefined,
    fileType: metadataNumber(model.metadata, "general.file_type"), shards: model.shards.length,
  };
}

const typeName = (t: GgufValueType) => GGUF_VALUE_TYPE_NAMES[t] ?? String(t);

/** Display text of a value; long arrays summarized. */
export function describeValue(entry: GgufMetadataEntry): string {
  return describe(entry.value);
}

function describe(v: GgufValue): string {
  if (typeof v === "string") return JSON.stringify(v.length > 200 ? `${v.slice(0, 200)}…` : v) + (v.length > 200 ? ` (${v.length} chars)` : "");
  if (typeof v === "bigint" || typeof v === "number" || typeof v === "boolean") return String(v);
  if (v.kind === "lazy-array") return `[${typeName(v.elementType)} × ${v.count}]`;
  if (v.values.length > ARRAY_PREVIEW) {
    return `[${typeName(v.elementType)} × ${v.values.length}: ${v.values.slice(0, 3).map(describe).join(", ")}, …]`;
  }
  return `[${v.values.map(describe).join(", ")}]`;
}

function sameValue(x: GgufValue, y: GgufValue): boolean | "lazy" {
  if (typeof x !== "object" || typeof y !== "object") return x === y;
  if (x.kind === "lazy-array" || y.kind === "lazy-array") {
    if (x.kind !== "lazy-array" || y.kind !== "lazy-array") return false;
    return x.elementType === y.elementType && x.count === y.count && x.byteLength === y.byteLength ? "lazy" : false;
  }
  if (x.elementType !== y.elementType || x.values.length !== y.values.length) return false;
  for (let i = 0; i < x.values.length; i++) if (sameValue(x.values[i], y.values[i]) !== true) return false;
  return true;
}

/** Compares two on-disk byte ranges (lazy arrays such as the vocabulary) in 1 MiB steps. */
async function sameBytes(fileA: string, offA: number, fileB: string, offB: number, length: number): Promise<boolean> {
  const [ha, hb] = await Promise.all([fs.promises.open(fileA, "r"), fs.promises.open(fileB, "r")]);
  try {
    const step = 1 << 20;
    const ba = Buffer.alloc(Math.min(step, length));
    const bb = Buffer.alloc(Math.min(step, length));
    for (let done = 0; done < length; done += step) {
      const n = Math.min(step, length - done);
      await Promise.all([ha.read(ba, 0, n, offA + done), hb.read(bb, 0, n, offB + done)]);
      if (ba.compare(bb, 0, n, 0, n) !== 0) return false;
    }
    return true;
  } finally {
    await Promise.all([ha.close(), hb.close()]);
  }
}

async function diffMetadata(a: GgufModel, b: GgufModel): Promise<{ entries: MetadataDiffEntry[]; same: number }> {
  const entries: MetadataDiffEntry[] = [];
  let same = 0;
  const fileA = a.shards[0].path;
  const fileB = b.shards[0].path;
  for (const [key, ea] of a.metadata) {
    const eb = b.metadata.get(key);
    if (!eb) { entries.push({ key, status: "removed", a: describeValue(ea) }); continue; }
    let equal = ea.type === eb.type ? sameValue(ea.value, eb.value) : false;
    if (equal === "lazy" && typeof ea.value === "object" && ea.value.kind === "lazy-array" && typeof eb.value === "object" && eb.value.kind === "lazy-array") {
      equal = await sameBytes(fileA, ea.value.byteOffset, fileB, eb.value.byteOffset, ea.value.byteLength);
    }
    if (equal) same++;
    else {
      const da = describeValue(ea);
      const db = describeValue(eb);
      entries.push({ key, status: "changed", a: da, b: da === db ? `${db} (contents differ)` : db });
    }
  }
  for (const [key, eb] of b.metadata) if (!a.metadata.has(key)) entries.push({ key, status: "added", b: describeValue(eb) });
  return { entries, same };
}

const sameShape = (x: readonly number[], y: readonly number[]) => x.length === y.length && x.every((v, i) => v === y[i]);

class SizeAcc {
  bytes = 0;
  known = 0;
  add(t: GgufTensorInfo) {
    if (t.byteSize !== undefined) { this.bytes += t.byteSize; this.known += t.elementCount; }
  }
  get bpw() { return this.known > 0 ? (this.bytes * 8) / this.known : undefined; }
}

/** Bytes per kind and per layer (scheme rows: layers, non-layer, other) of one model. */
function sizeGroups(model: GgufModel): { byKind: Map<string, SizeAcc>; byLayer: Map<string, SizeAcc>; layerOrder: string[]; kindOrder: string[] } {
  const scheme = buildTensorScheme(model.tensors);
  const byKind = new Map<string, SizeAcc>();
  const perRow = new Map<number, SizeAcc>();
  const { rowOf, columnOf } = scheme;
  for (let i = 0; i < model.tensors.length; i++) {
    const t = model.tensors[i];
    const row = rowOf[i];
    const kindKey = row === OTHER_ROW ? "other" : columnOf[i];
    let k = byKind.get(kindKey);
    if (!k) byKind.set(kindKey, (k = new SizeAcc()));
    k.add(t);
    let l = perRow.get(row);
    if (!l) perRow.set(row, (l = new SizeAcc()));
    l.add(t);
  }
  const byLayer = new Map([...perRow].map(([row, acc]) => [rowLabel(row), acc]));
  const layerOrder = [...scheme.layers.map((n) => `blk.${n}`), "non-layer", "other"];
  const kindOrder = [...scheme.kinds, ...scheme.nonLayerKinds, "other"];
  return { byKind, byLayer, layerOrder, kindOrder };
}

function sizeRows(ga: Map<string, SizeAcc>, gb: Map<string, SizeAcc>, orderA: readonly string[], orderB: readonly string[]): SizeRow[] {
  const keys = [...new Set([...orderA, ...orderB])].filter((k) => ga.has(k) || gb.has(k));
  return keys.map((group) => {
    const x = ga.get(group);
    const y = gb.get(group);
    return { group, bytesA: x?.bytes ?? 0, bytesB: y?.bytes ?? 0, bpwA: x?.bpw, bpwB: y?.bpw, deltaBytes: (y?.bytes ?? 0) - (x?.bytes ?? 0) };
  });
}

export async function diffModels(a: GgufModel, b: GgufModel): Promise<ModelDiff> {
  const sa = side(a);
  const sb = side(b);
  const { entries, same } = await diffMetadata(a, b);
  const alignable = sa.architecture === sb.architecture;
  const base = { a: sa, b: sb, metadata: entries, metadataSame: same, alignable };
  if (!alignable) {
    return {
      ...base, notAlignableReason: `the architectures differ (${sa.architecture ?? "none"} vs ${sb.architecture ?? "none"}), so their tensors cannot be aligned`,
      tensors: [], tensorsSame: 0, byKind: [], byLayer: [],
    };
  }
  const tensors: TensorDiffEntry[] = [];
  let tensorsSame = 0;
  const inB = new Map<string, GgufTensorInfo>();
  for (const t of b.tensors) inB.set(t.name, t);
  const inA = new Set<string>();
  for (const ta of a.tensors) {
    inA.add(ta.name);
    const tb = inB.get(ta.name);
    if (!tb) {
      tensors.push({ name: ta.name, status: "only-a", typeA: ta.typeName, shapeA: ta.shape, bytesA: ta.byteSize });
      continue;
    }
    const typeDiffers = ta.ggmlType !== tb.ggmlType;
    const shapeDiffers = !sameShape(ta.shape, tb.shape);
    if (!typeDiffers && !shapeDiffers) { tensorsSame++; continue; }
    tensors.push({
      name: ta.name, status: typeDiffers && shapeDiffers ? "type+shape" : typeDiffers ? "type" : "shape",
      typeA: ta.typeName, typeB: tb.typeName, shapeA: ta.shape, shapeB: tb.shape, bytesA: ta.byteSize, bytesB: tb.byteSize,
    });
  }
  for (const tb of b.tensors) {
    if (!inA.has(tb.name)) tensors.push({ name: tb.name, status: "only-b", typeB: tb.typeName, shapeB: tb.shape, bytesB: tb.byteSize });
  }
  const ga = sizeGroups(a);
  const gb = sizeGroups(b);
  return {
    ...base, tensors, tensorsSame,
    byKind: sizeRows(ga.byKind, gb.byKind, ga.kindOrder, gb.kindOrder),
    byLayer: sizeRows(ga.byLayer, gb.byLayer, ga.layerOrder, gb.layerOrder),
  };
}
