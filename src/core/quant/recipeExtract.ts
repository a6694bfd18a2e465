// Turns a quantized GGUF's header back into a compact, readable recipe: a base type, then rules per
// tensor kind and layer range, such that resolving the recipe against the full-precision model
// reproduces every tensor's type. Types llama-quantize wrote as a block-size fallback map back to
// any type that produces them (a Q5_0 ffn_down with 96-wide rows is what "Q4_K" gives), kept
// tensors (norms, router, 1-D) are left to resolution, and token_embd/output are tensors like others.
// Reads headers only (no tensor data).
import path from "node:path";
import { ggmlTypeName, llamaFileTypeName } from "../gguf/ggmlTypes";
import { metadataNumber, metadataString } from "../gguf/metadata";
import { readGgufModel } from "../gguf/splitSet";
import { resolveForModel, type RecipeModel } from "./recipeFile";
import type { GgufMetadataEntry } from "../gguf/types";
import { literalPattern, ftypeForBaseType } from "./recipeCompile";
import { RECIPE_TYPES } from "./recipeParse";
import { fallbackType, keptReason } from "./recipeResolve";
import { RECIPE_FORMAT_VERSION, type QuantRecipe, type RecipeRule, type RecipeTensor } from "./recipeTypes";
import { describeLayers, layerAlternation } from "./layerPattern";

export type ExtractErrorCode = "nothing-to-extract" | "unsupported-type" | "internal";

export class ExtractError extends Error {
  constructor(readonly code: ExtractErrorCode, message: string) {
    super(message);
    this.name = "ExtractError";
  }
}

export interface ExtractSource {
  /** Shown in the recipe's provenance (the first shard's file name for split sets). */
  readonly fileName: string;
  readonly metadata: ReadonlyMap<string, GgufMetadataEntry>;
  readonly tensors: readonly RecipeTensor[];
}

export interface ImatrixProvenance {
  readonly file?: string;
  readonly dataset?: string;
  readonly entries?: number;
  readonly chunks?: number;
}

export interface ExtractResult {
  readonly recipe: QuantRecipe;
  readonly ruleCount: number;
  readonly tensorCount: number;
  /** Tensors llama-quantize may quantize (the ones the rules describe). */
  readonly quantizableCount: number;
  readonly keptCount: number;
  /** Tensors written in a block-size fallback type (described by the type that produces it). */
  readonly fallbackCount: number;
  readonly imatrix: ImatrixProvenance | undefined;
  readonly fileType: string | undefined;
  readonly quantizationVersion: number | undefined;
  readonly layerCount: number;
}

const FLOAT_TYPES = new Set(["F32", "F16", "BF16"]);
const LAYER_TOKEN = /(^|\.)blk\.(\d+)\./;

interface QuantizableTensor {
  readonly name: string;
  readonly type: string;
  /** Requested types that llama-quantize turns into `type` for this row length, `type` first. */
  readonly producers: readonly string[];
  readonly elements: number;
  /** Row length (ne[0]): what block-size fallbacks depend on. */
  readonly row: number;
  /** Layer tensors: the text before `blk.N.` and after it; undefined for non-layer tensors. */
  readonly prefix?: string;
  readonly suffix?: string;
  readonly layer?: number;
}

/** Every recipe type that resolves to `actual` at this row length, the actual type first. */
function producersOf(actual: string, rowLength: number, cache: Map<string, readonly string[]>): readonly string[] {
  const key = `${actual}/${rowLength}`;
  let hit = cache.get(key);
  if (!hit) {
    const others = RECIPE_TYPES.filter((t) => t !== actual && fallbackType(t, rowLength) === actual);
    hit = (RECIPE_TYPES as readonly string[]).includes(actual) && fallbackType(actual, rowLength) === actual ? [actual, ...others] : others;
    cache.set(key, hit);
  }
  return hit;
}

function imatrixProvenance(metadata: ReadonlyMap<string, GgufMetadataEntry>): ImatrixProvenance | undefined {
  if (![...metadata.keys()].some((k) => k.startsWith("quantize.imatrix."))) return undefined;
  const file = metadataString(metadata, "quantize.imatrix.file");
  const dataset = metadataString(metadata, "quantize.imatrix.dataset");
  const entries = metadataNumber(metadata, "quantize.imatrix.entries_count");
  const chunks = metadataNumber(metadata, "quantize.imatrix.chunks_count");
  return {
    ...(file !== undefined ? { file } : {}), ...(dataset !== undefined ? { dataset } : {}),
    ...(entries !== undefined ? { entries } : {}), ...(chunks !== undefined ? { chunks } : {}),
  };
}

/** The quantized type covering the most elements (counting fallback producers): the recipe's base. */
function chooseBaseType(tensors: readonly QuantizableTensor[]): string | undefined {
  const covered = new Map<string, number>();
  const exact = new Map<string, number>();
  for (const t of tensors) {
    for (const p of t.producers) covered.set(p, (covered.get(p) ?? 0) + t.elements);
    exact.set(t.type, (exact.get(t.type) ?? 0) + t.elements);
  }
  let best: string | undefined;
  for (const [type, n] of covered) {
    if (FLOAT_TYPES.has(type) || !canBeBase(type)) continue;
    const b = best === undefined ? -1 : covered.get(best) ?? 0;
    if (n > b || (n === b && (exact.get(type) ?? 0) > (exact.get(best as string) ?? 0))) best = type;
  }
  return best;
}

function canBeBase(type: string): boolean {
  try {
    ftypeForBaseType(type);
    return true;
  } catch {
    return false;
  }
}

interface KindException {
  readonly layers: readonly number[];
  /** Types that produce every one of these layers' types (the greedy pick among them). */
  readonly feasible: ReadonlySet<string>;
  readonly targets: readonly string[];
}

interface KindChoice {
  /** Type for every layer of the kind, or undefined when the base type already is. */
  readonly kindType: string | undefined;
  /** Layers whose type differs from the kind's, grouped so that one type produces each group. */
  readonly exceptions: readonly KindException[];
}

/** Picks the kind-wide type and the fewest exception groups (greedy cover) for one tensor kind. */
function chooseForKind(entries: readonly QuantizableTensor[], baseType: string): KindChoice {
  const options = new Set<string>([baseType]);
  for (const e of entries) for (const p of e.producers) options.add(p);
  let best: { cost: number; exceptionLayers: number; choice: KindChoice } | undefined;
  for (const kindType of options) {
    let remaining = entries.filter((e) => !e.producers.includes(kindType));
    const exceptions: KindException[] = [];
    const exceptionLayers = remaining.length;
    while (remaining.length > 0) {
      const counts = new Map<string, number>();
      for (const e of remaining) for (const p of e.producers) counts.set(p, (counts.get(p) ?? 0) + 1);
      let pick = remaining[0].producers[0];
      for (const [p, n] of counts) if (n > (counts.get(pick) ?? 0)) pick = p;
      const covered = remaining.filter((e) => e.producers.includes(pick));
      const feasible = new Set(covered[0].producers.filter((p) => covered.every((e) => e.producers.includes(p))));
      exceptions.push({ layers: covered.map((e) => e.layer as number).sort((a, b) => a - b), feasible, targets: covered.map((e) => e.name) });
      remaining = remaining.filter((e) => !e.producers.includes(pick));
    }
    const cost = (kindType === baseType ? 0 : 1) + exceptions.length;
    const better = !best || cost < best.cost || (cost === best.cost && exceptionLayers < best.exceptionLayers);
    if (better) best = { cost, exceptionLayers, choice: { kindType: kindType === baseType ? undefined : kindType, exceptions } };
  }
  return (best as { choice: KindChoice }).choice;
}

const kindToken = (suffix: string) => (suffix.endsWith(".weight") ? suffix.slice(0, -".weight".length) : suffix);
const alternation = (parts: readonly string[]) => (parts.length === 1 ? parts[0] : `(${parts.join("|")})`);

/** A rule plus the exact set of tensor names it is meant to match (checked against the real names). */
interface PlannedRule {
  readonly readable: string;
  readonly anchored: string;
  readonly type: string;
  readonly targets: ReadonlySet<string>;
  readonly note?: string;
}

/** Uses the readable pattern unless it would also catch a tensor it is not meant for. */
function finalizeRule(rule: PlannedRule, names: readonly string[]): RecipeRule {
  const re = new RegExp(rule.readable);
  let exact = true;
  for (const n of names) {
    if (re.test(n) !== rule.targets.has(n)) { exact = false; break; }
  }
  const pattern = exact ? rule.readable : rule.anchored;
  return rule.note ? { pattern, type: rule.type, note: rule.note } : { pattern, type: rule.type };
}

export function extractRecipe(source: ExtractSource): ExtractResult {
  const cache = new Map<string, readonly string[]>();
  const quantizable: QuantizableTensor[] = [];
  const unsupported: string[] = [];
  let kept = 0;
  let layerCount = 0;
  for (const t of source.tensors) {
    const m = LAYER_TOKEN.exec(t.name);
    if (m && m.index === 0) layerCount = Math.max(layerCount, Number(m[2]) + 1);
    if (keptReason(t.name, t.shape)) { kept++; continue; }
    const type = ggmlTypeName(t.ggmlType);
    const producers = producersOf(type, t.shape[0] ?? 1, cache);
    if (producers.length === 0) { unsupported.push(`${t.name} (${type})`); continue; }
    const layerParts = m ? { prefix: t.name.slice(0, m.index) + m[1], suffix: t.name.slice(m.index + m[0].length), layer: Number(m[2]) } : {};
    quantizable.push({ name: t.name, type, producers, elements: t.elementCount, row: t.shape[0] ?? 1, ...layerParts });
  }
  if (unsupported.length > 0) {
    throw new ExtractError("unsupported-type", `${unsupported.length} tensor${unsupported.length === 1 ? " has a type" : "s have types"} llama-quantize cannot write, so no recipe can reproduce ${unsupported.length === 1 ? "it" : "them"}: ${unsupported.slice(0, 5).join(", ")}${unsupported.length > 5 ? ", …" : ""}`);
  }
  const baseType = quantizable.some((t) => !FLOAT_TYPES.has(t.type)) ? chooseBaseType(quantizable) : undefined;
  if (!baseType) {
    const types = [...new Set(quantizable.map((t) => t.type))].join("/") || [...new Set(source.tensors.map((t) => ggmlTypeName(t.ggmlType)))].join("/");
    throw new ExtractError("nothing-to-extract", `nothing to extract: ${source.fileName} is not quantized (every tensor is at its source type, ${types})`);
  }

  const names = quantizable.map((t) => t.name);
  const planned = planRules(quantizable, baseType);
  const rules = planned.map((r) => finalizeRule(r, names));
  const metadata = source.metadata;
  const fileTypeId = metadataNumber(metadata, "general.file_type");
  const fileType = fileTypeId !== undefined ? llamaFileTypeName(fileTypeId).replace(/^MOSTLY_|^ALL_/, "") : undefined;
  const quantizationVersion = metadataNumber(metadata, "general.quantization_version");
  const imatrix = imatrixProvenance(metadata);
  const recipe: QuantRecipe = {
    version: RECIPE_FORMAT_VERSION,
    name: `Extracted from ${source.fileName}`,
    baseType,
    rules,
    notes: extractionNotes(source.fileName, fileType, quantizationVersion, imatrix),
    generatedBy: {
      tool: "gguf-studio recipe extract",
      source: source.fileName,
      ...(fileType !== undefined ? { fileType } : {}),
      ...(quantizationVersion !== undefined ? { quantizationVersion } : {}),
      imatrix: imatrix ?? false,
      layerCount,
      tensorCount: source.tensors.length,
    },
  };
  const fallbackCount = verifyReproduces(recipe, quantizable);
  return {
    recipe, ruleCount: rules.length, tensorCount: source.tensors.length, quantizableCount: quantizable.length, keptCount: kept,
    fallbackCount, imatrix, fileType, quantizationVersion, layerCount,
  };
}

function extractionNotes(fileName: string, fileType: string | undefined, version: number | undefined, imatrix: ImatrixProvenance | undefined): string {
  const parts = [`Extracted from ${fileName}${fileType ? ` (file type ${fileType}` : ""}${fileType && version !== undefined ? `, quantization version ${version})` : fileType ? ")" : ""}.`];
  if (imatrix) {
    const details = [imatrix.file && `file ${imatrix.file}`, imatrix.dataset && `dataset ${imatrix.dataset}`, imatrix.chunks !== undefined && `${imatrix.chunks} chunks`].filter(Boolean).join(", ");
    parts.push(`The source was quantized with an importance matrix${details ? ` (${details})` : ""}; use one too for comparable quality.`);
  } else {
    parts.push("The source was quantized without an importance matrix.");
  }
  return parts.join(" ");
}

/** Kind-wide rules first, then non-layer tensors, then per-layer exceptions (last match wins). */
function planRules(quantizable: readonly QuantizableTensor[], baseType: string): PlannedRule[] {
  const kinds = new Map<string, QuantizableTensor[]>();
  const nonLayer: QuantizableTensor[] = [];
  for (const t of quantizable) {
    if (t.layer === undefined) { nonLayer.push(t); continue; }
    const key = `${t.prefix}\u0000${t.suffix}`;
    const list = kinds.get(key);
    if (list) list.push(t);
    else kinds.set(key, [t]);
  }
  // (prefix, type) → kinds for kind-wide rules; (prefix, layers) → kinds' exceptions, merged below
  // into one rule per type that several kinds can share.
  const kindWide = new Map<string, { prefix: string; type: string; suffixes: string[]; targets: string[] }>();
  const byLayers = new Map<string, { prefix: string; layers: readonly number[]; members: { suffix: string; exception: KindException }[] }>();
  for (const entries of kinds.values()) {
    const { prefix = "", suffix = "" } = entries[0];
    const choice = chooseForKind(entries, baseType);
    if (choice.kindType) {
      const key = `${prefix}\u0000${choice.kindType}`;
      const g = kindWide.get(key) ?? { prefix, type: choice.kindType, suffixes: [], targets: [] };
      g.suffixes.push(suffix);
      g.targets.push(...entries.map((e) => e.name));
      kindWide.set(key, g);
    }
    for (const exception of choice.exceptions) {
      const key = `${prefix}\u0000${exception.layers.join(",")}`;
      const g = byLayers.get(key) ?? { prefix, layers: exception.layers, members: [] };
      g.members.push({ suffix, exception });
      byLayers.set(key, g);
    }
  }
  const exceptions: { prefix: string; type: string; layers: readonly number[]; suffixes: string[]; targets: string[] }[] = [];
  for (const g of byLayers.values()) {
    let members = g.members;
    while (members.length > 0) {
      // The type most of these kinds can take; ties go to the first kind's own (actual) type.
      const counts = new Map<string, number>();
      for (const m of members) for (const t of m.exception.feasible) counts.set(t, (counts.get(t) ?? 0) + 1);
      let pick = [...members[0].exception.feasible][0];
      for (const [t, n] of counts) if (n > (counts.get(pick) ?? 0)) pick = t;
      const taking = members.filter((m) => m.exception.feasible.has(pick));
      exceptions.push({ prefix: g.prefix, type: pick, layers: g.layers, suffixes: taking.map((m) => m.suffix), targets: taking.flatMap((m) => m.exception.targets) });
      members = members.filter((m) => !m.exception.feasible.has(pick));
    }
  }
  const rules: PlannedRule[] = [];
  for (const g of kindWide.values()) {
    const kindsAlt = alternation(g.suffixes.map((s) => literalPattern(kindToken(s))));
    const p = literalPattern(g.prefix);
    rules.push({
      readable: g.prefix ? `^${p}blk\\.\\d+\\.${kindsAlt}\\.` : `\\.${kindsAlt}\\.`,
      anchored: `^${p}blk\\.\\d+\\.${alternation(g.suffixes.map(literalPattern))}$`,
      type: g.type, targets: new Set(g.targets),
    });
  }
  const nonLayerByType = new Map<string, QuantizableTensor[]>();
  for (const t of nonLayer) {
    if (t.producers.includes(baseType)) continue;
    const list = nonLayerByType.get(t.producers[0]) ?? [];
    list.push(t);
    nonLayerByType.set(t.producers[0], list);
  }
  for (const [type, list] of nonLayerByType) {
    const exact = `^${alternation(list.map((t) => literalPattern(t.name)))}$`;
    const allWeights = list.every((t) => t.name.endsWith(".weight"));
    rules.push({
      readable: allWeights ? `^${alternation(list.map((t) => literalPattern(kindToken(t.name))))}\\.weight$` : exact,
      anchored: exact, type, targets: new Set(list.map((t) => t.name)),
    });
  }
  const sortedExceptions = [...exceptions].sort((a, b) => a.layers[0] - b.layers[0] || a.layers.length - b.layers.length);
  for (const g of sortedExceptions) {
    const p = literalPattern(g.prefix);
    const layers = layerAlternation(g.layers);
    rules.push({
      readable: `^${p}blk\\.${layers}\\.${alternation(g.suffixes.map((s) => literalPattern(kindToken(s))))}\\.`,
      anchored: `^${p}blk\\.${layers}\\.${alternation(g.suffixes.map(literalPattern))}$`,
      type: g.type, targets: new Set(g.targets),
      note: `layer${g.layers.length === 1 ? "" : "s"} ${describeLayers(g.layers)}`,
    });
  }
  return rules;
}

/**
 * The extraction's own proof: replaying resolution (last matching rule, else the base type, then
 * llama-quantize's block-size fallback) gives back every quantizable tensor's type. Returns how
 * many of them the recipe reaches through a fallback. Kept tensors never consult the rules.
 */
function verifyReproduces(recipe: QuantRecipe, tensors: readonly QuantizableTensor[]): number {
  const regexes = recipe.rules.map((r) => new RegExp(r.pattern));
  const written = new Map<string, string>();
  let fallbacks = 0;
  for (const t of tensors) {
    let requested = recipe.baseType;
    for (let i = regexes.length - 1; i >= 0; i--) {
      if (regexes[i].test(t.name)) { requested = recipe.rules[i].type; break; }
    }
    const key = `${requested}/${t.row}`;
    let type = written.get(key);
    if (type === undefined) written.set(key, (type = fallbackType(requested, t.row)));
    if (type !== t.type) throw new ExtractError("internal", `extracted recipe would give ${t.name} ${type} instead of ${t.type} (please report this)`);
    if (type !== requested) fallbacks++;
  }
  return fallbacks;
}

/** Reads a quant's header (any shard of a split set: the whole set) and extracts its recipe. */
export async function extractRecipeFromFile(file: string): Promise<ExtractResult> {
  const model = await readGgufModel(file);
  return extractRecipe({ fileName: path.basename(model.shards[0].path), metadata: model.metadata, tensors: model.tensors });
}

export interface ReproductionCheck {
  /** Tensors of the quant compared. */
  readonly compared: number;
  /** Tensors whose resolved type differs, or that the base lacks (got "absent"). */
  readonly mismatches: readonly { readonly name: string; readonly expected: string; readonly got: string }[];
}

/** Resolves `recipe` on the base model and compares every tensor's type with the quant's. */
export function checkReproduction(recipe: QuantRecipe, quantTensors: readonly RecipeTensor[], base: RecipeModel): ReproductionCheck {
  const byName = new Map(resolveForModel(recipe, base).tensors.map((t) => [t.name, t.type]));
  const mismatches: { name: string; expected: string; got: string }[] = [];
  for (const t of quantTensors) {
    const expected = ggmlTypeName(t.ggmlType);
    const got = byName.get(t.name) ?? "absent";
    if (got !== expected) mismatches.push({ name: t.name, expected, got });
  }
  return { compared: quantTensors.length, mismatches };
}

/** A one-line summary: "12 rules for 291 tensors (201 quantizable, 90 kept at their type)". */
export function describeExtraction(r: ExtractResult): string {
  return `${r.ruleCount} rule${r.ruleCount === 1 ? "" : "s"} for ${r.tensorCount} tensors (${r.quantizableCount} quantizable, ${r.keptCount} kept at their type), base ${r.recipe.baseType}`;
}
