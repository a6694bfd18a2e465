// Turns a resolved recipe into what llama-quantize takes: a --tensor-type-file and flags.
//
// Format (tools/quantize/quantize.cpp parse_tensor_type_file): whitespace-separated `pattern=type`
// tokens; the pattern is lowercased and cut at the first '='; no comments. In the bundled source
// the FIRST matching pattern wins, while older/newer builds have differed. So the compiler does not
// replay the recipe's ordered rules: it emits one anchored pattern per (tensor template, type),
// which no two tensors' patterns overlap, so the order of the lines cannot matter, and every
// quantizable tensor is named (nothing falls through to the stock mix's own choices).
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "../atomicWrite";
import { QUANT_PRESETS } from "./presets";
import type { QuantRecipe, RecipeResolution } from "./recipeTypes";

export interface CompiledRecipe {
  /** Contents of the --tensor-type-file. */
  readonly tensorTypeFileText: string;
  /** Number of pattern lines. */
  readonly lineCount: number;
  /** The positional llama-quantize type (ftype) matching the recipe's base type. */
  readonly ftype: string;
  /** Absolute imatrix path, when the recipe names one. */
  readonly imatrix?: string;
}

export interface WrittenRecipe extends CompiledRecipe {
  /** Path of the written tensor-type file. */
  readonly tensorTypeFile: string;
  /** Flags for llama-quantize, before `in out TYPE`: --tensor-type-file F [--imatrix F]. */
  readonly extraArgs: readonly string[];
}

/** ggml base type → llama-quantize positional type whose default type it is. */
export function ftypeForBaseType(baseType: string): string {
  const exact = QUANT_PRESETS.find((p) => p.name === baseType && p.quantizes);
  if (exact) return exact.name;
  const byBase = QUANT_PRESETS.find((p) => p.baseType === baseType && p.quantizes && !p.requiresImatrix)
    ?? QUANT_PRESETS.find((p) => p.baseType === baseType && p.quantizes);
  if (byBase) return byBase.name;
  throw new Error(`no llama-quantize type has ${baseType} as its base type`);
}

/** Escapes a literal for std::regex (ECMAScript) in a file that llama-quantize lowercases. */
export function literalPattern(s: string): string {
  return s
    .replace(/[.*+?^${}()|[\]\\/-]/g, (c) => `\\${c}`)
    // Upper-case letters would be lowercased by the tool, whitespace would split the token and '='
    // would end the pattern: match those characters with '.' (the pattern stays anchored).
    .replace(/[A-Z\s=]/g, ".");
}

const LAYER_TOKEN = /(^|\.)blk\.(\d+)\./;

/** Compiles per-tensor choices into order-independent, anchored pattern lines. */
export function compileRecipe(recipe: QuantRecipe, resolution: RecipeResolution, recipeDir?: string): CompiledRecipe {
  // (template, type) -> layers; non-layer tensors keep their full name as template.
  const groups = new Map<string, { prefix: string; suffix: string; type: string; layers: number[]; whole?: string }>();
  for (const t of resolution.tensors) {
    if (t.source.by === "kept") continue;
    const m = LAYER_TOKEN.exec(t.name);
    if (m) {
      const prefix = t.name.slice(0, m.index) + m[1];
      const suffix = t.name.slice(m.index + m[0].length);
      const key = `${prefix}\u0000${suffix}\u0000${t.requestedType}`;
      const g = groups.get(key) ?? { prefix, suffix, type: t.requestedType, layers: [] };
      g.layers.push(Number(m[2]));
      groups.set(key, g);
    } else {
      groups.set(`${t.name}\u0000${t.requestedType}`, { prefix: "", suffix: "", type: t.requestedType, layers: [], whole: t.name });
    }
  }
  const lines: string[] = [];
  for (const g of groups.values()) {
    // The requested type is written (not the fallback): llama-quantize applies the same fallback
    // itself and reports it, so its log matches what the editor showed.
    const type = g.type.toLowerCase();
    if (g.whole !== undefined) {
      lines.push(`^${literalPattern(g.whole)}$=${type}`);
    } else {
      const layers = [...new Set(g.layers)].sort((a, b) => a - b);
      const alt = layers.length === 1 ? String(layers[0]) : `(${layers.join("|")})`;
      lines.push(`^${literalPattern(g.prefix)}blk\\.${alt}\\.${literalPattern(g.suffix)}$=${type}`);
    }
  }
  const imatrix = recipe.imatrix ? (recipeDir ? path.resolve(recipeDir, recipe.imatrix) : recipe.imatrix) : undefined;
  return {
    tensorTypeFileText: lines.join("\n") + "\n",
    lineCount: lines.length,
    ftype: ftypeForBaseType(recipe.baseType),
    ...(imatrix ? { imatrix } : {}),
  };
}

/** Writes the tensor-type file (temp name, then rename) and returns the flags for llama-quantize. */
export async function writeCompiledRecipe(compiled: CompiledRecipe, file: string): Promise<WrittenRecipe> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomically(file, compiled.tensorTypeFileText);
  const extraArgs = ["--tensor-type-file", file, ...(compiled.imatrix ? ["--imatrix", compiled.imatrix] : [])];
  return { ...compiled, tensorTypeFile: file, extraArgs };
}
