// Renders a read model for `inspect`: JSON (machine-readable), Markdown (gguf_dump --markdown, with
// groups and facts) and a short plain-text overview.
import { GGUF_VALUE_TYPE_NAMES, GgufModel, GgufSummary, GgufValue, GgufValueType } from "../core/gguf";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };

export function valueToJson(v: GgufValue): JsonValue {
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "number") return Number.isFinite(v) ? v : String(v);
  if (typeof v !== "object") return v;
  if (v.kind === "array") return v.values.map(valueToJson);
  return { lazyArray: true, elementType: GGUF_VALUE_TYPE_NAMES[v.elementType], count: v.count };
}

export function modelToJson(model: GgufModel, summary: GgufSummary): JsonValue {
  const first = model.shards[0].file;
  return {
    path: model.path,
    isSplit: model.isSplit,
    version: first.version,
    littleEndian: first.littleEndian,
    alignment: first.alignment,
    shards: model.shards.map((s) => ({ path: s.path, tensorCount: s.tensorCount, tensorBytes: s.tensorBytes, fileSize: s.fileSize })),
    summary: JSON.parse(JSON.stringify({ ...summary, shards: undefined })) as JsonValue,
    metadata: [...model.metadata.values()].map((e) => ({ key: e.key, type: GGUF_VALUE_TYPE_NAMES[e.type], value: valueToJson(e.value) })),
    tensors: model.tensors.map((t) => ({
      name: t.name, shape: t.shape as number[], ggmlType: t.ggmlType, type: t.typeName, shard: t.shardIndex, offset: t.offset,
      bytes: t.byteSize ?? null, bitsPerWeight: t.bitsPerWeight ?? null, layer: t.layer ?? null, kind: t.kind,
    })),
  };
}

function shortValue(v: GgufValue, type: GgufValueType, max = 60): string {
  if (typeof v === "object") {
    const n = v.kind === "array" ? v.values.length : v.count;
    const head = v.kind === "array" ? v.values.slice(0, 4).map((x) => shortValue(x, v.elementType, 16)).join(", ") : "…";
    return `[${n} × ${GGUF_VALUE_TYPE_NAMES[v.elementType]}] ${v.kind === "array" ? `[${head}${n > 4 ? ", …" : ""}]` : "(not loaded)"}`;
  }
  let s = type === GgufValueType.STRING ? JSON.stringify(v) : String(v);
  if (s.length > max) s = `${s.slice(0, max - 1)}…`;
  return s;
}

const fmtBytes = (n: number): string => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(2)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`);
const fmtBpw = (b: number | undefined): string => (b === undefined ? "?" : b.toFixed(2));
const fmtCount = (n: number): string => n.toLocaleString("en-US");
const esc = (s: string): string => s.replace(/\|/g, "\\|").replace(/\n/g, "\\n");

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

function factRows(s: GgufSummary): string[][] {
  const a = s.architecture;
  const rows: [string, unknown][] = [
    ["architecture", a.architecture], ["name", a.name], ["file type", a.fileTypeName && `${a.fileTypeName} (${a.fileType})`],
    ["context length", a.contextLength], ["embedding size", a.embeddingLength], ["layers", a.blockCount],
    ["feed-forward size", a.feedForwardLength], ["heads", a.headCount], ["kv heads", a.headCountKv],
    ["experts", a.expertCount], ["experts used", a.expertUsedCount], ["vocab size", a.vocabSize],
    ["chat template", a.chatTemplatePresent ? a.chatTemplateNames.join(", ") : "none"],
    ["parameters", fmtCount(s.parameterCount)], ["tensor bytes", `${fmtBytes(s.tensorBytes)} (${fmtCount(s.tensorBytes)})`],
    ["bits per weight", fmtBpw(s.bitsPerWeight)], ["tensors", fmtCount(s.tensorCount)],
  ];
  if (s.unknownTypeTensorCount > 0) rows.push(["tensors of unknown type", s.unknownTypeTensorCount]);
  return rows.filter(([, v]) => v !== undefined).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]);
}

export function modelToMarkdown(model: GgufModel, s: GgufSummary): string {
  const first = model.shards[0].file;
  const out: string[] = [`# ${model.path}`, "", `GGUF v${first.version}, ${first.littleEndian ? "little" : "big"}-endian, alignment ${first.alignment}`, ""];
  out.push("## Model", "", table(["fact", "value"], factRows(s)), "");
  if (model.isSplit) {
    out.push("## Shards", "", table(["#", "file", "tensors", "tensor bytes", "file size"], model.shards.map((x) => [String(x.index + 1), x.path, fmtCount(x.tensorCount), fmtBytes(x.tensorBytes), fmtBytes(x.fileSize)])), "");
  }
  out.push("## Tensor types", "", table(["type", "tensors", "elements", "bytes"], s.typeHistogram.map((h) => [h.typeName, fmtCount(h.tensorCount), fmtCount(h.elementCount), fmtBytes(h.bytes)])), "");
  const groupRows = (gs: GgufSummary["byLayer"]): string[][] => gs.map((g) => [g.group, fmtCount(g.tensorCount), fmtCount(g.elementCount), fmtBytes(g.bytes), fmtBpw(g.bitsPerWeight), Object.entries(g.types).map(([t, n]) => `${t}×${n}`).join(" ")]);
  out.push("## Bits per weight by layer", "", table(["layer", "tensors", "elements", "bytes", "bpw", "types"], groupRows(s.byLayer)), "");
  out.push("## Bits per weight by tensor kind", "", table(["kind", "tensors", "elements", "bytes", "bpw", "types"], groupRows(s.byKind)), "");
  out.push("## Metadata", "", table(["#", "key", "type", "value"], [...model.metadata.values()].map((e, i) => [String(i + 1), e.key, GGUF_VALUE_TYPE_NAMES[e.type], shortValue(e.value, e.type)])), "");
  out.push("## Tensors", "", table(["#", "name", "shape", "type", "bytes", "bpw", "shard"], model.tensors.map((t, i) => [String(i + 1), t.name, t.shape.join("×"), t.typeName, t.byteSize === undefined ? "?" : fmtCount(t.byteSize), fmtBpw(t.bitsPerWeight), String(t.shardIndex + 1)])), "");
  return out.join("\n");
}

export function modelToText(model: GgufModel, s: GgufSummary): string {
  const rows = factRows(s);
  const w = Math.max(...rows.map((r) => r[0].length));
  const lines = [model.path, ...rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`)];
  if (model.isSplit) for (const x of model.shards) lines.push(`  shard ${x.index + 1}/${model.shards.length}: ${x.tensorCount} tensors, ${fmtBytes(x.tensorBytes)}  ${x.path}`);
  lines.push(`  types: ${s.typeHistogram.map((h) => `${h.typeName}×${h.tensorCount}`).join(" ")}`);
  return lines.join("\n") + "\n";
}
