// gguf_estimate_quant_size: the size a type or recipe would give, writing nothing. With llama.cpp
// tools allowed, llama-quantize's own --dry-run answers (it knows the presets' mixes); otherwise our
// resolver does, which needs no native code.
import path from "node:path";
import { formatBytes } from "../../shared/formatBytes";
import { displayName } from "../../shared/displayText";
import { findQuantPreset } from "../quant/presets";
import { estimateQuantizedSize, inspectSource, ownSizeEstimate, type SizeEstimate } from "../quant/quantizeJob";
import { estimateOutputFileBytes, loadRecipeFile, loadRecipeModel, recipeForModel, resolveForModel } from "../quant/recipeFile";
import { AgentToolRefusal, type AgentToolEnv } from "./agentToolEnv";
import { markdownTable } from "./boundedText";
import { allowedExistingFile } from "./pathPolicy";
import { asToolInput, optionalString, requiredString } from "./toolInput";

function typeTable(types: Iterable<string>): string {
  const counts = new Map<string, number>();
  for (const t of types) counts.set(t, (counts.get(t) ?? 0) + 1);
  return markdownTable(["type", "tensors"], [...counts].sort((a, b) => b[1] - a[1]).map(([t, n]) => [t, String(n)]), 30);
}

export async function estimateForAgent(rawInput: unknown, env: AgentToolEnv): Promise<string> {
  const input = asToolInput(rawInput, ["model", "type", "recipe"]);
  const model = allowedExistingFile(requiredString(input, "model"), env.roots, env.baseDir, "Model");
  const type = optionalString(input, "type", 40);
  const recipeArg = optionalString(input, "recipe");
  if ((type === undefined) === (recipeArg === undefined)) throw new AgentToolRefusal("bad-input", "give exactly one of `type` (e.g. Q4_K_M) or `recipe` (a *.quant.json file)");

  if (recipeArg !== undefined) {
    const recipeFile = allowedExistingFile(recipeArg, env.roots, env.baseDir, "Recipe");
    const loaded = await loadRecipeFile(recipeFile);
    const recipeModel = await loadRecipeModel(model);
    const { recipe, layerMapping } = await recipeForModel(loaded.recipe, path.dirname(recipeFile), recipeModel);
    const resolution = resolveForModel(recipe, recipeModel);
    const bytes = estimateOutputFileBytes(recipeModel, resolution);
    const problems = [...loaded.warnings, ...resolution.problems].slice(0, 10).map((p) => `- ${displayName(p.message, 300)}`);
    return [
      `Recipe ${displayName(path.basename(recipeFile))} on ${displayName(path.basename(model))}: about ${formatBytes(bytes)} (${((bytes * 8) / Math.max(1, resolution.elementCount)).toFixed(2)} bpw) from ${formatBytes(recipeModel.sourceFileBytes)}`,
      `needs an importance matrix: ${resolution.requiresImatrix ? "yes" : "no"}`,
      ...(layerMapping ? [`the recipe was made for ${layerMapping.fromLayerCount} layers; its ranges were mapped to this model's ${layerMapping.toLayerCount}`] : []),
      "method: GGUF Studio's recipe resolver (the rules llama-quantize applies)",
      "", "Resulting tensor types:", "", typeTable(resolution.tensors.map((t) => t.type)),
      ...(problems.length ? ["", "Recipe notes:", ...problems] : []),
    ].join("\n");
  }

  const preset = findQuantPreset(type ?? "");
  if (!preset) throw new AgentToolRefusal("bad-input", `"${displayName(type ?? "", 40)}" is not a llama-quantize type (e.g. Q4_K_M, Q8_0, IQ4_XS)`);
  const source = await inspectSource(model);
  const request = { source: model, output: path.join(path.dirname(model), `.gguf-studio-estimate-${preset.name}.gguf`), type: preset.name, allowRequantize: true };
  const quantize = env.nativeAllowed ? env.executables().quantize : undefined;
  const estimate: SizeEstimate = quantize
    ? await estimateQuantizedSize(request, source, { executables: { quantize }, invoke: env.invoke, signal: env.signal })
    : await ownSizeEstimate(request, source, "");
  const method = estimate.method === "dry-run"
    ? "llama-quantize --dry-run"
    : `GGUF Studio's resolver (preset mixes not modelled, so a floor a few percent under llama-quantize's number${env.nativeAllowed ? "" : "; llama.cpp tools do not run here"})`;
  return [
    `${preset.name} of ${displayName(path.basename(model))}: about ${formatBytes(estimate.bytes)} (${estimate.bitsPerWeight.toFixed(2)} bpw) from ${formatBytes(source.bytes)} (${(source.bytes / Math.max(1, estimate.bytes)).toFixed(2)}× smaller)`,
    `needs an importance matrix: ${estimate.toolSaysImatrixRequired || preset.requiresImatrix ? "yes" : "no"}`,
    ...(source.quantized ? ["the source is already quantized: quantizing it again loses quality"] : []),
    `method: ${method}`,
    "", "Resulting tensor types:", "", typeTable(estimate.tensorTypes.values()),
  ].join("\n");
}
