// Applies a recipe made for one layer count to a model with another (a 32-layer recipe on a
// 48-layer fine-tune of the family) by relative depth: target layer t of T follows source layer
// round(t · (S − 1) / (T − 1)) of S. Every target layer follows exactly one source layer, the first
// and last stay first and last, and growing a model reaches every source layer (shrinking skips some).
// Rules without a layer part (`\.attn_v\.`, `^output\.weight$`) apply as written.
import { layerAlternation } from "./layerPattern";
import type { QuantRecipe, RecipeRule, RecipeTensor } from "./recipeTypes";
import { resolveRecipe } from "./recipeResolve";

export interface LayerMappingRow {
  readonly ruleIndex: number;
  readonly pattern: string;
  readonly type: string;
  /** Source layers the rule names (undefined: no layer part, applied as written). */
  readonly fromLayers?: readonly number[];
  readonly toLayers?: readonly number[];
  /** The rewritten pattern (equal to `pattern` when nothing changed; "" when the rule was dropped). */
  readonly mappedPattern: string;
  /** Tensors of the target model the mapped rule matches. */
  readonly matches: number;
}

export interface LayerMapping {
  readonly fromLayerCount: number;
  readonly toLayerCount: number;
  readonly recipe: QuantRecipe;
  readonly rows: readonly LayerMappingRow[];
  /** Rules that match no quantizable tensor of the target after mapping. */
  readonly unmatched: readonly LayerMappingRow[];
}

/** Where the layer expression sits in a pattern: the text between `blk\.` and the next `\.`. */
export function findLayerExpression(pattern: string): { start: number; end: number; expression: string } | undefined {
  const at = pattern.indexOf("blk\\.");
  if (at < 0) return undefined;
  const start = at + "blk\\.".length;
  let end = start;
  if (pattern[start] === "(") {
    let depth = 0;
    for (; end < pattern.length; end++) {
      if (pattern[end] === "\\") { end++; continue; }
      if (pattern[end] === "(") depth++;
      else if (pattern[end] === ")" && --depth === 0) { end++; break; }
    }
  } else {
    while (end < pattern.length && !pattern.startsWith("\\.", end)) end++;
  }
  if (!pattern.startsWith("\\.", end)) return undefined;
  const expression = pattern.slice(start, end);
  return expression.length > 0 ? { start, end, expression } : undefined;
}

/** The layers 0..count-1 a layer expression matches, or undefined when it is not one. */
export function layersOfExpression(expression: string, count: number): number[] | undefined {
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${expression})$`);
  } catch {
    return undefined;
  }
  const layers: number[] = [];
  for (let l = 0; l < count; l++) if (re.test(String(l))) layers.push(l);
  return layers;
}

/** The source layer a target layer follows at the same relative depth. */
export function sourceLayerFor(target: number, fromCount: number, toCount: number): number {
  return toCount <= 1 ? 0 : Math.round((target * (fromCount - 1)) / (toCount - 1));
}

/** Target layers whose relative depth falls in one of `layers` of the source. */
export function mapLayers(layers: readonly number[], fromCount: number, toCount: number): number[] {
  const wanted = new Set(layers);
  const out: number[] = [];
  for (let t = 0; t < toCount; t++) if (wanted.has(sourceLayerFor(t, fromCount, toCount))) out.push(t);
  return out;
}

/** Highest `blk.N` + 1 among tensors named `blk.N.…` (the model's layer count as recipes see it). */
export function modelLayerCount(tensors: readonly Pick<RecipeTensor, "name" | "layer">[]): number {
  let n = 0;
  for (const t of tensors) if (t.layer !== undefined && t.name.startsWith("blk.")) n = Math.max(n, t.layer + 1);
  return n;
}

/** The layer count a recipe was written for, when it says so (extracted recipes record it). */
export function recipeLayerCount(recipe: QuantRecipe): number | undefined {
  const n = recipe.generatedBy?.layerCount;
  return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined;
}

/**
 * Rewrites every rule's layer part for a model of `toCount` layers and tells what mapped to what.
 * A rule whose layers all fall between target layers is left out of the mapped recipe and
 * reported as matching nothing, with every other rule that matches no tensor of the target.
 */
export function remapRecipeLayers(recipe: QuantRecipe, fromCount: number, target: readonly RecipeTensor[]): LayerMapping {
  const toCount = modelLayerCount(target);
  const rules: RecipeRule[] = [];
  /** Index in `rules` of each original rule; -1 when its layers all vanished (dropped, reported). */
  const kept: number[] = [];
  const partial: Omit<LayerMappingRow, "matches">[] = recipe.rules.map((rule, ruleIndex) => {
    const found = findLayerExpression(rule.pattern);
    const from = found ? layersOfExpression(found.expression, Math.max(fromCount, 1)) : undefined;
    if (!found || !from || fromCount === toCount) {
      kept.push(rules.push(rule) - 1);
      return { ruleIndex, pattern: rule.pattern, type: rule.type, mappedPattern: rule.pattern, ...(from ? { fromLayers: from, toLayers: from } : {}) };
    }
    const to = mapLayers(from, fromCount, toCount);
    const expression = to.length === toCount ? "\\d+" : layerAlternation(to);
    const mappedPattern = to.length > 0 ? rule.pattern.slice(0, found.start) + expression + rule.pattern.slice(found.end) : "";
    kept.push(to.length > 0 ? rules.push({ ...rule, pattern: mappedPattern }) - 1 : -1);
    return { ruleIndex, pattern: rule.pattern, type: rule.type, fromLayers: from, toLayers: to, mappedPattern };
  });
  const mapped: QuantRecipe = {
    ...recipe, rules,
    generatedBy: { ...(recipe.generatedBy ?? {}), layerCount: toCount, mappedFromLayerCount: fromCount },
  };
  const counts = resolveRecipe(mapped, target).ruleMatchCounts;
  const rows = partial.map((r, i) => ({ ...r, matches: kept[i] >= 0 ? counts[kept[i]] : 0 }));
  return { fromLayerCount: fromCount, toLayerCount: toCount, recipe: mapped, rows, unmatched: rows.filter((r) => r.matches === 0) };
}

/** Plain-text table for logs, the CLI and the confirmation before quantizing. */
export function formatLayerMapping(m: LayerMapping, describe: (layers: readonly number[]) => string): string {
  const lines = [`recipe made for ${m.fromLayerCount} layers, model has ${m.toLayerCount}: layers mapped by relative depth`];
  for (const r of m.rows) {
    const what = r.fromLayers === undefined ? "all layers (no layer part)" : `layers ${describe(r.fromLayers) || "none"} → ${describe(r.toLayers ?? []) || "none"}`;
    lines.push(`  ${r.type.padEnd(7)} ${r.pattern}: ${what}${r.matches === 0 ? " — matches nothing" : ""}`);
  }
  if (m.unmatched.length > 0) lines.push(`${m.unmatched.length} rule${m.unmatched.length === 1 ? "" : "s"} match nothing in this model`);
  return lines.join("\n");
}
