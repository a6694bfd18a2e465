// `gguf-studio recipe extract`: a quant's per-tensor types as a compact *.quant.json recipe.
// Reads headers only. With --base, checks that the recipe reproduces every type on that model.
import fs from "node:fs";
import path from "node:path";
import { writeFileAtomically } from "../../core/atomicWrite";
import { refuseExistingOutputs } from "../../core/tempFiles";
import { loadRecipeModel } from "../../core/quant/recipeFile";
import { checkReproduction, describeExtraction, extractRecipeFromFile, type ReproductionCheck } from "../../core/quant/recipeExtract";
import type { QuantRecipe } from "../../core/quant/recipeTypes";
import { serializeRecipe } from "../../core/quant/recipeParse";
import { readGgufModel } from "../../core/gguf/splitSet";
import { CliIo, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";

export const EXTRACT_USAGE = `usage: gguf-studio recipe extract QUANT.gguf [--out RECIPE.quant.json [--overwrite]] [--base BASE.gguf] [--json]

Reads QUANT's tensor types (any shard of a split set reads the whole set) and writes the smallest
readable recipe that reproduces them: a base type, then rules per tensor kind and layer range.
Block-size fallbacks map back to the type that produces them; norms and other kept tensors need no rule.
Records the source file, its file type, quantization version and imatrix use.

--out F       write the recipe to F (must end in .quant.json); without it the recipe goes to stdout
--overwrite   replace F when it exists
--base F      the full-precision model: check that the recipe gives every tensor QUANT's type on it
--json        print the summary as JSON
`;

export async function runRecipeExtract(args: readonly string[], io: CliIo): Promise<number> {
  const { flags, positional } = parseFlags(args, ["out", "base"]);
  rejectUnknownFlags(flags, ["out", "base", "overwrite", "json"]);
  const [quant, ...extra] = positional;
  if (!quant) throw new CliUsageError("give the QUANT model to extract from");
  if (extra.length > 0) throw new CliUsageError(`unexpected argument "${extra[0]}"`);
  const out = flags.get("out")?.at(-1);
  const base = flags.get("base")?.at(-1);
  if (out !== undefined && !out.endsWith(".quant.json")) throw new CliUsageError(`--out must end in .quant.json, got "${out}"`);
  const overwrite = flags.has("overwrite");
  if (out !== undefined) await refuseExistingOutputs([out], overwrite);
  if (!fs.existsSync(quant)) throw new Error(`file not found: ${quant}`);

  const started = performance.now();
  const result = await extractRecipeFromFile(quant);
  const ms = performance.now() - started;
  const check = base ? await checkOnBase(quant, base, result.recipe) : undefined;

  if (out !== undefined) {
    await fs.promises.mkdir(path.dirname(path.resolve(out)), { recursive: true });
    await writeFileAtomically(out, serializeRecipe(result.recipe), { overwrite });
  } else if (!flags.has("json")) {
    io.out(serializeRecipe(result.recipe));
  }
  const summary = {
    source: quant, out: out ?? null, rules: result.ruleCount, tensors: result.tensorCount, quantizable: result.quantizableCount,
    kept: result.keptCount, fallbacks: result.fallbackCount, baseType: result.recipe.baseType, fileType: result.fileType ?? null,
    quantizationVersion: result.quantizationVersion ?? null, imatrix: result.imatrix ?? false, layers: result.layerCount,
    ms: Math.round(ms), ...(check ? { base: check } : {}),
  };
  if (flags.has("json")) {
    io.out(JSON.stringify(out === undefined ? { ...summary, recipe: result.recipe } : summary, null, 2) + "\n");
  } else {
    const write = out !== undefined ? io.out : io.err;
    write(`${out !== undefined ? `wrote ${out}: ` : ""}${describeExtraction(result)}${result.fallbackCount ? `; ${result.fallbackCount} written as block-size fallbacks` : ""}\n`);
    write(result.imatrix ? `the source used an importance matrix${result.imatrix.file ? ` (${result.imatrix.file})` : ""}\n` : "the source used no importance matrix\n");
    if (check) {
      write(check.mismatches.length === 0
        ? `reproduces all ${check.compared} tensor types on ${base}\n`
        : `does NOT reproduce ${check.mismatches.length} of ${check.compared} tensors on ${base}: ${check.mismatches.slice(0, 5).map((m) => `${m.name} ${m.got} (quant has ${m.expected})`).join(", ")}\n`);
    }
  }
  return check && check.mismatches.length > 0 ? 1 : 0;
}

/** Resolves the extracted recipe on the base model and compares every tensor with the quant. */
async function checkOnBase(quant: string, base: string, recipe: QuantRecipe): Promise<ReproductionCheck> {
  if (!fs.existsSync(base)) throw new Error(`--base file not found: ${base}`);
  const [q, b] = await Promise.all([readGgufModel(quant), loadRecipeModel(base)]);
  return checkReproduction(recipe, q.tensors, b);
}
