// Loading a recipe file and the model it applies to, and the dry-run check against llama-quantize.
import fs from "node:fs";
import path from "node:path";
import { readGgufModel } from "../gguf/splitSet";
import { metadataNumber } from "../gguf/metadata";
import type { GgufModel } from "../gguf/types";
import { parseRecipe } from "./recipeParse";
import { compileRecipe, writeCompiledRecipe } from "./recipeCompile";
import { resolveRecipe } from "./recipeResolve";
import type { QuantRecipe, RecipeProblem, RecipeResolution, RecipeTensor } from "./recipeTypes";
import { modelLayerCount, recipeLayerCount, remapRecipeLayers, type LayerMapping } from "./recipeRemap";

export async function loadRecipeFile(file: string): Promise<{ recipe: QuantRecipe; warnings: RecipeProblem[] }> {
  const text = await fs.promises.readFile(file, "utf8");
  return parseRecipe(text, path.basename(file));
}

export interface RecipeModel {
  readonly path: string;
  readonly tensors: readonly RecipeTensor[];
  readonly alignment: number;
  /** Bytes of everything before tensor data in the source (header, metadata, tensor infos). */
  readonly headerBytes: number;
  readonly sourceFileBytes: number;
  readonly vocabSize: number | undefined;
  readonly architecture: string | undefined;
}

export async function loadRecipeModel(file: string): Promise<RecipeModel> {
  const model: GgufModel = await readGgufModel(file);
  const first = model.shards[0].file;
  const arch = model.metadata.get("general.architecture")?.value;
  const tokens = model.metadata.get("tokenizer.ggml.tokens")?.value;
  const vocabSize = typeof tokens === "object" && tokens !== null && "kind" in tokens
    ? tokens.kind === "lazy-array" ? tokens.count : tokens.values.length
    : undefined;
  return {
    path: file,
    tensors: model.tensors,
    alignment: metadataNumber(model.metadata, "general.alignment") ?? first.alignment ?? 32,
    headerBytes: model.shards.reduce((s, sh) => s + sh.file.tensorDataOffset, 0),
    sourceFileBytes: model.shards.reduce((s, sh) => s + sh.fileSize, 0),
    vocabSize,
    architecture: typeof arch === "string" ? arch : undefined,
  };
}

/**
 * Estimated output file size: the source header (metadata changes by a few hundred bytes:
 * general.file_type and quantize.* keys) plus padded tensor data.
 */
export function estimateOutputFileBytes(model: RecipeModel, resolution: RecipeResolution): number {
  return model.headerBytes + resolution.paddedTensorBytes;
}

export function resolveForModel(recipe: QuantRecipe, model: RecipeModel): RecipeResolution {
  return resolveRecipe(recipe, model.tensors, { alignment: model.alignment });
}

/** What the quantize job (QuantizeRequest) needs to run a recipe: its positional type, tensor-type file and imatrix. */
export interface RecipeQuantizeInputs {
  readonly type: string;
  readonly tensorTypeFile: string;
  readonly imatrix?: string;
  readonly resolution: RecipeResolution;
  readonly warnings: readonly RecipeProblem[];
  readonly estimatedFileBytes: number;
  /** Set when the recipe was made for another layer count and its layer ranges were mapped by relative depth. */
  readonly layerMapping?: LayerMapping;
}

/**
 * The layer count a recipe was made for: recorded in it (extracted recipes), else that of its
 * `model` when the file exists; undefined when neither says.
 */
export async function recipeSourceLayerCount(recipe: QuantRecipe, recipeDir: string): Promise<number | undefined> {
  const recorded = recipeLayerCount(recipe);
  if (recorded !== undefined || !recipe.model) return recorded;
  const modelPath = path.resolve(recipeDir, recipe.model);
  if (!fs.existsSync(modelPath)) return undefined;
  return modelLayerCount((await readGgufModel(modelPath)).tensors);
}

/** The recipe to apply to `model`: remapped by relative depth when it was made for another layer count. */
export async function recipeForModel(recipe: QuantRecipe, recipeDir: string, model: RecipeModel): Promise<{ recipe: QuantRecipe; layerMapping?: LayerMapping }> {
  const from = await recipeSourceLayerCount(recipe, recipeDir);
  const to = modelLayerCount(model.tensors);
  if (from === undefined || to === 0 || from === to) return { recipe };
  const layerMapping = remapRecipeLayers(recipe, from, model.tensors);
  return { recipe: layerMapping.recipe, layerMapping };
}

/**
 * Loads a recipe, resolves it against the source model and writes its tensor-type file to
 * `tensorTypeFile`. Spread the result's type/tensorTypeFile/imatrix into a QuantizeRequest.
 */
export async function prepareRecipeQuantize(recipeFile: string, sourcePath: string, tensorTypeFile: string): Promise<RecipeQuantizeInputs> {
  const loaded = await loadRecipeFile(recipeFile);
  const model = await loadRecipeModel(sourcePath);
  const { recipe, layerMapping } = await recipeForModel(loaded.recipe, path.dirname(recipeFile), model);
  const warnings = loaded.warnings;
  const resolution = resolveForModel(recipe, model);
  const written = await writeCompiledRecipe(compileRecipe(recipe, resolution, path.dirname(recipeFile)), tensorTypeFile);
  return {
    type: written.ftype, tensorTypeFile: written.tensorTypeFile, resolution,
    warnings: [...warnings, ...resolution.problems], estimatedFileBytes: estimateOutputFileBytes(model, resolution),
    ...(layerMapping ? { layerMapping } : {}),
    ...(written.imatrix ? { imatrix: written.imatrix } : {}),
  };
}
