// Turns a recipe resolved against its model into what the editor webview shows. No vscode import.
import path from "node:path";
import { RECIPE_TYPES } from "../../core/quant/recipeParse";
import { estimateOutputFileBytes, resolveForModel, type RecipeModel } from "../../core/quant/recipeFile";
import type { QuantRecipe, RecipeResolution, TensorAssignment } from "../../core/quant/recipeTypes";
import { literalPattern } from "../../core/quant/recipeCompile";
import type { KindGroupView, LayerMappingView, RecipeRuleView, RecipeToWebview, TensorRowView } from "../../shared/recipeProtocol";
import type { TypeMapSelection } from "../../shared/typeMapProtocol";
import { ggmlTypeByName } from "../../core/gguf/ggmlTypes";
import { typeMapData } from "../../core/models/typeMapData";
import { describeLayers, layerAlternation } from "../../core/quant/layerPattern";
import { modelLayerCount, type LayerMapping } from "../../core/quant/recipeRemap";
import type { RecipeRule } from "../../core/quant/recipeTypes";
import { RECIPE_ROWS_PAGE } from "../../shared/recipeProtocol";

export function rowView(recipe: QuantRecipe, a: TensorAssignment): TensorRowView {
  const why = a.source.by === "rule"
    ? `rule ${a.source.ruleIndex + 1}: ${recipe.rules[a.source.ruleIndex].pattern}`
    : a.source.by === "base" ? `base type ${recipe.baseType}` : `kept: ${a.source.reason}`;
  return {
    name: a.name, shape: a.shape.join("×"), sourceType: a.sourceType, type: a.type, why, bytes: a.bytes,
    ...(a.source.by === "rule" ? { ruleIndex: a.source.ruleIndex } : {}),
    ...(a.fallback ? { fallback: `${a.fallback.from} → ${a.fallback.to}: ${a.fallback.reason}` } : {}),
  };
}

export function kindGroups(resolution: RecipeResolution): KindGroupView[] {
  const byKind = new Map<string, { tensors: number; types: Set<string>; bytes: number }>();
  for (const a of resolution.tensors) {
    if (a.source.by === "kept") continue;
    const g = byKind.get(a.kind) ?? { tensors: 0, types: new Set<string>(), bytes: 0 };
    g.tensors++;
    g.types.add(a.type);
    g.bytes += a.bytes;
    byKind.set(a.kind, g);
  }
  return [...byKind].map(([kind, g]) => ({ kind, tensors: g.tensors, type: g.types.size === 1 ? [...g.types][0] : "mixed", bytes: g.bytes }));
}

/** The pattern a kind-group edit writes: every tensor of that kind, in any layer. */
export function kindPattern(kind: string): string {
  return `(^|\\.)${literalPattern(kind)}\\.weight$`;
}

/** Rules for cells chosen on the map: `^blk\.(layers)\.(kinds)\.` (any layer when all are chosen) and `^(names)$`. */
export function selectionRules(selection: TypeMapSelection, type: string, model: RecipeModel): RecipeRule[] {
  const rules: RecipeRule[] = [];
  if (selection.layers.length > 0 && selection.kinds.length > 0) {
    const kinds = selection.kinds.map(literalPattern);
    const kindPart = kinds.length === 1 ? kinds[0] : `(${kinds.join("|")})`;
    const all = selection.layers.length >= modelLayerCount(model.tensors);
    rules.push({ pattern: `^blk\\.${all ? "\\d+" : layerAlternation(selection.layers)}\\.${kindPart}\\.`, type, note: `${selection.kinds.join(", ")} in layers ${describeLayers(selection.layers)} (set on the map)` });
  }
  if (selection.names.length > 0) {
    const names = selection.names.map(literalPattern);
    rules.push({ pattern: `^${names.length === 1 ? names[0] : `(${names.join("|")})`}$`, type, note: "set on the map" });
  }
  return rules;
}

export function mappingView(m: LayerMapping): LayerMappingView {
  return {
    fromLayerCount: m.fromLayerCount, toLayerCount: m.toLayerCount,
    rows: m.rows.map((r) => ({ pattern: r.pattern, type: r.type, from: r.fromLayers ? describeLayers(r.fromLayers) || "none" : "all", to: r.toLayers ? describeLayers(r.toLayers) || "none" : "all", matches: r.matches })),
  };
}

export function buildState(recipe: QuantRecipe, model: RecipeModel, recipeFile: string, layerMapping?: LayerMapping): { message: RecipeToWebview; resolution: RecipeResolution } {
  const resolution = resolveForModel(recipe, model);
  const decides = new Array<number>(recipe.rules.length).fill(0);
  for (const a of resolution.tensors) if (a.source.by === "rule") decides[a.source.ruleIndex]++;
  const rules: RecipeRuleView[] = recipe.rules.map((r, index) => ({ index, pattern: r.pattern, type: r.type, decides: decides[index], ...(r.note ? { note: r.note } : {}) }));
  const message: RecipeToWebview = {
    type: "state",
    recipeName: recipe.name ?? path.basename(recipeFile),
    modelName: path.basename(model.path),
    baseType: recipe.baseType,
    types: [...RECIPE_TYPES],
    rules,
    groups: kindGroups(resolution),
    totals: {
      tensorBytes: resolution.tensorBytes,
      fileBytes: estimateOutputFileBytes(model, resolution),
      sourceFileBytes: model.sourceFileBytes,
      bitsPerWeight: resolution.bitsPerWeight,
      fallbacks: resolution.fallbacks.length,
      requiresImatrix: resolution.requiresImatrix,
    },
    problems: resolution.problems.map((p) => ({ severity: p.severity, path: p.path, message: p.message })),
    tensorCount: resolution.tensors.length,
    rows: resolution.tensors.slice(0, RECIPE_ROWS_PAGE).map((a) => rowView(recipe, a)),
    map: typeMapData(model.tensors.map((t, i) => ({ name: t.name, kind: t.kind, layer: t.layer, elementCount: t.elementCount, ggmlType: t.ggmlType, typeName: resolution.tensors[i].type, byteSize: resolution.tensors[i].bytes })),
      (t) => ({ name: t.typeName, id: ggmlTypeByName(t.typeName)?.id ?? -1, bytes: t.byteSize })),
    ...(layerMapping ? { layerMapping: mappingView(layerMapping) } : {}),
  };
  return { message, resolution };
}
