// What a model is made of: totals, a type histogram, bits per weight by layer and by tensor kind,
// and the architecture facts from `<arch>.*` metadata.
import { llamaFileTypeName } from "./ggmlTypes";
import { metadataArrayLength, metadataNumber, metadataNumberArray, metadataString } from "./metadata";
import { GgufMetadataEntry, GgufModel, GgufTensorInfo } from "./types";

export interface GgufTypeCount {
  readonly typeName: string;
  readonly ggmlType: number;
  readonly tensorCount: number;
  readonly elementCount: number;
  /** 0 for unknown types (their size cannot be computed). */
  readonly bytes: number;
}

export interface GgufGroupStats {
  /** "blk.3", "non-layer", or a kind such as "ffn_down_exps". */
  readonly group: string;
  readonly layer?: number;
  readonly tensorCount: number;
  readonly elementCount: number;
  readonly bytes: number;
  /** Over tensors of known type; undefined when none. */
  readonly bitsPerWeight: number | undefined;
  /** Type name -> tensor count. */
  readonly types: Readonly<Record<string, number>>;
}

export interface GgufArchitectureFacts {
  readonly architecture?: string;
  readonly name?: string;
  readonly contextLength?: number;
  readonly embeddingLength?: number;
  readonly blockCount?: number;
  readonly feedForwardLength?: number | readonly number[];
  readonly headCount?: number | readonly number[];
  readonly headCountKv?: number | readonly number[];
  readonly expertCount?: number;
  readonly expertUsedCount?: number;
  readonly vocabSize?: number;
  readonly chatTemplatePresent: boolean;
  /** "default" for tokenizer.chat_template, else the suffix of tokenizer.chat_template.<name>. */
  readonly chatTemplateNames: readonly string[];
  /** general.file_type (llama_ftype), not a ggml tensor type. */
  readonly fileType?: number;
  readonly fileTypeName?: string;
}

export interface GgufSummary {
  readonly tensorCount: number;
  readonly parameterCount: number;
  readonly tensorBytes: number;
  readonly bitsPerWeight: number | undefined;
  readonly unknownTypeTensorCount: number;
  readonly typeHistogram: readonly GgufTypeCount[];
  /** Layer groups in layer order, then one "non-layer" group if any. */
  readonly byLayer: readonly GgufGroupStats[];
  readonly byKind: readonly GgufGroupStats[];
  readonly architecture: GgufArchitectureFacts;
  readonly shards: readonly { readonly path: string; readonly tensorCount: number; readonly tensorBytes: number; readonly fileSize: number }[];
}

class GroupAccumulator {
  tensorCount = 0;
  elementCount = 0;
  bytes = 0;
  knownElements = 0;
  types: Record<string, number> = {};
  constructor(readonly group: string, readonly layer?: number) {}
  add(t: GgufTensorInfo): void {
    this.tensorCount++;
    this.elementCount += t.elementCount;
    if (t.byteSize !== undefined) {
      this.bytes += t.byteSize;
      this.knownElements += t.elementCount;
    }
    this.types[t.typeName] = (this.types[t.typeName] ?? 0) + 1;
  }
  stats(): GgufGroupStats {
    const base = {
      group: this.group, tensorCount: this.tensorCount, elementCount: this.elementCount, bytes: this.bytes,
      bitsPerWeight: this.knownElements > 0 ? (this.bytes * 8) / this.knownElements : undefined, types: this.types,
    };
    return this.layer === undefined ? base : { ...base, layer: this.layer };
  }
}

function numberOrArray(metadata: ReadonlyMap<string, GgufMetadataEntry>, key: string): number | number[] | undefined {
  return metadataNumber(metadata, key) ?? metadataNumberArray(metadata, key);
}

export function architectureFacts(metadata: ReadonlyMap<string, GgufMetadataEntry>): GgufArchitectureFacts {
  const arch = metadataString(metadata, "general.architecture");
  const a = (k: string): string => `${arch ?? ""}.${k}`;
  const templates = [...metadata.keys()].filter((k) => k === "tokenizer.chat_template" || k.startsWith("tokenizer.chat_template."));
  const fileType = metadataNumber(metadata, "general.file_type");
  const facts: Record<string, unknown> = {
    architecture: arch,
    name: metadataString(metadata, "general.name"),
    contextLength: metadataNumber(metadata, a("context_length")),
    embeddingLength: metadataNumber(metadata, a("embedding_length")),
    blockCount: metadataNumber(metadata, a("block_count")),
    feedForwardLength: numberOrArray(metadata, a("feed_forward_length")),
    headCount: numberOrArray(metadata, a("attention.head_count")),
    headCountKv: numberOrArray(metadata, a("attention.head_count_kv")),
    expertCount: metadataNumber(metadata, a("expert_count")),
    expertUsedCount: metadataNumber(metadata, a("expert_used_count")),
    vocabSize: metadataArrayLength(metadata, "tokenizer.ggml.tokens") ?? metadataNumber(metadata, a("vocab_size")),
    chatTemplatePresent: templates.length > 0,
    chatTemplateNames: templates.map((k) => (k === "tokenizer.chat_template" ? "default" : k.slice("tokenizer.chat_template.".length))),
    fileType,
    fileTypeName: fileType === undefined ? undefined : llamaFileTypeName(fileType),
  };
  for (const k of Object.keys(facts)) if (facts[k] === undefined) delete facts[k];
  return facts as unknown as GgufArchitectureFacts;
}

export function summarizeGguf(model: GgufModel): GgufSummary {
  const total = new GroupAccumulator("total");
  const layers = new Map<number, GroupAccumulator>();
  const nonLayer = new GroupAccumulator("non-layer");
  const kinds = new Map<string, GroupAccumulator>();
  const types = new Map<number, { typeName: string; tensorCount: number; elementCount: number; bytes: number }>();
  let unknown = 0;
  for (const t of model.tensors) {
    total.add(t);
    if (t.layer === undefined) nonLayer.add(t);
    else {
      let g = layers.get(t.layer);
      if (!g) layers.set(t.layer, (g = new GroupAccumulator(`blk.${t.layer}`, t.layer)));
      g.add(t);
    }
    let k = kinds.get(t.kind);
    if (!k) kinds.set(t.kind, (k = new GroupAccumulator(t.kind)));
    k.add(t);
    const h = types.get(t.ggmlType) ?? { typeName: t.typeName, tensorCount: 0, elementCount: 0, bytes: 0 };
    h.tensorCount++;
    h.elementCount += t.elementCount;
    h.bytes += t.byteSize ?? 0;
    types.set(t.ggmlType, h);
    if (!t.typeKnown) unknown++;
  }
  const byLayer = [...layers.values()].sort((x, y) => (x.layer ?? 0) - (y.layer ?? 0)).map((g) => g.stats());
  if (nonLayer.tensorCount > 0) byLayer.push(nonLayer.stats());
  const totals = total.stats();
  return {
    tensorCount: totals.tensorCount,
    parameterCount: totals.elementCount,
    tensorBytes: totals.bytes,
    bitsPerWeight: totals.bitsPerWeight,
    unknownTypeTensorCount: unknown,
    typeHistogram: [...types.entries()].map(([ggmlType, h]) => ({ ggmlType, ...h })).sort((x, y) => y.bytes - x.bytes || x.ggmlType - y.ggmlType),
    byLayer,
    // Plain code-unit order (not localeCompare): stable across locales and fast for 60k groups.
    byKind: [...kinds.values()].map((g) => g.stats()).sort((x, y) => y.bytes - x.bytes || (x.group < y.group ? -1 : x.group > y.group ? 1 : 0)),
    architecture: architectureFacts(model.metadata),
    shards: model.shards.map((s) => ({ path: s.path, tensorCount: s.tensorCount, tensorBytes: s.tensorBytes, fileSize: s.fileSize })),
  };
}
