// gguf_quantize: one quantization through the shared quantize job. Only where native tools may
// run (the host asks the user first); every path inside the roots; the source never changes.
import path from "node:path";
import { displayName } from "../../shared/displayText";
import { formatBytes } from "../../shared/formatBytes";
import { findQuantPreset } from "../quant/presets";
import { prepareRecipeQuantize } from "../quant/recipeFile";
import { QuantizeError, runQuantizeJob, type QuantizeRequest, type QuantizeResult } from "../quant/quantizeJob";
import { makeTempFolder, removeTempFolder } from "../tempFiles";
import { AgentToolRefusal, type AgentToolEnv } from "./agentToolEnv";
import { allowedExistingFile, allowedPath } from "./pathPolicy";
import { asToolInput, optionalBoolean, optionalString, requiredString, type ToolInput } from "./toolInput";

const FIELDS = ["model", "type", "recipe", "output", "imatrix", "overwrite", "allowRequantize"];

/** What a quantize call would do, checked (paths, type) but not run: the confirmation shows it. */
export interface QuantizePlan {
  readonly model: string;
  readonly output: string;
  /** The llama-quantize type, or the recipe file. */
  readonly type?: string;
  readonly recipe?: string;
  readonly imatrix?: string;
  readonly overwrite: boolean;
  readonly allowRequantize: boolean;
}

export function planQuantize(rawInput: unknown, env: Pick<AgentToolEnv, "roots" | "baseDir">): QuantizePlan {
  const input: ToolInput = asToolInput(rawInput, FIELDS);
  const model = allowedExistingFile(requiredString(input, "model"), env.roots, env.baseDir, "Model");
  const typeArg = optionalString(input, "type", 40);
  const recipeArg = optionalString(input, "recipe");
  if ((typeArg === undefined) === (recipeArg === undefined)) throw new AgentToolRefusal("bad-input", "give exactly one of `type` (e.g. Q4_K_M) or `recipe` (a *.quant.json file)");
  const preset = typeArg !== undefined ? findQuantPreset(typeArg) : undefined;
  if (typeArg !== undefined && !preset) throw new AgentToolRefusal("bad-input", `"${displayName(typeArg, 40)}" is not a llama-quantize type (e.g. Q4_K_M, Q8_0, IQ4_XS)`);
  const recipe = recipeArg !== undefined ? allowedExistingFile(recipeArg, env.roots, env.baseDir, "Recipe") : undefined;
  const stem = path.basename(model).replace(/(-\d{5}-of-\d{5})?\.gguf$/i, "");
  const suffix = preset ? preset.name : path.basename(recipe ?? "", ".quant.json");
  const outputArg = optionalString(input, "output") ?? path.join(path.dirname(model), `${stem}-${suffix}.gguf`);
  if (!outputArg.toLowerCase().endsWith(".gguf")) throw new AgentToolRefusal("bad-input", "`output` must end in .gguf");
  const output = allowedPath(outputArg, env.roots, env.baseDir, "Output");
  const imatrixArg = optionalString(input, "imatrix");
  const imatrix = imatrixArg !== undefined ? allowedExistingFile(imatrixArg, env.roots, env.baseDir, "Imatrix") : undefined;
  return {
    model, output, ...(preset ? { type: preset.name } : {}), ...(recipe ? { recipe } : {}), ...(imatrix ? { imatrix } : {}),
    overwrite: optionalBoolean(input, "overwrite"), allowRequantize: optionalBoolean(input, "allowRequantize"),
  };
}

/** One line for a confirmation dialog. */
export function describePlan(plan: QuantizePlan): string {
  return `Quantize ${path.basename(plan.model)} ${plan.type ? `to ${plan.type}` : `with recipe ${path.basename(plan.recipe ?? "")}`} into ${plan.output}` +
    `${plan.imatrix ? `, imatrix ${path.basename(plan.imatrix)}` : ""}${plan.overwrite ? " (replacing it if it exists)" : ""}${plan.allowRequantize ? " (requantizing)" : ""}.`;
}

export async function quantizeForAgent(rawInput: unknown, env: AgentToolEnv): Promise<string> {
  const plan = planQuantize(rawInput, env);
  // Checked before anything runs, and again by the host's tool runner.
  if (!env.nativeAllowed) throw new AgentToolRefusal("native-not-allowed", env.nativeRefusal);
  const { quantize, imatrix } = env.executables();
  if (!quantize) throw new AgentToolRefusal("tool-missing", "llama-quantize was not found: run Rebuild Native Tools, or set ggufStudio.llamaCppPath (gguf-studio mcp: --tools DIR)");
  const tempDir = plan.recipe ? await makeTempFolder("recipe") : undefined;
  try {
    const recipe = plan.recipe && tempDir ? await prepareRecipeQuantize(plan.recipe, plan.model, path.join(tempDir, "tensor-types.txt")) : undefined;
    const request: QuantizeRequest = {
      source: plan.model, output: plan.output, type: recipe ? recipe.type : plan.type ?? "",
      ...(recipe ? { tensorTypeFile: recipe.tensorTypeFile } : {}),
      ...(plan.imatrix ?? recipe?.imatrix ? { imatrix: plan.imatrix ?? recipe?.imatrix } : {}),
      overwrite: plan.overwrite, allowRequantize: plan.allowRequantize,
    };
    let result: QuantizeResult;
    try {
      result = await runQuantizeJob(request, {
        executables: { quantize, imatrix }, invoke: env.invoke, signal: env.signal,
        onStage: (_stage, p) => env.onProgress?.(p.message ?? "", p.fraction),
      });
    } catch (e) {
      // The job's own refusals (output exists, needs an imatrix, requantize) tell the agent what to change.
      if (e instanceof QuantizeError) throw new AgentToolRefusal("bad-input", `${e.message} (${e.code})`);
      throw e;
    }
    return [
      `Quantized ${displayName(path.basename(plan.model))} to ${result.outputs.map((o) => displayName(o, 300)).join(", ")}`,
      `- size: ${formatBytes(result.outputBytes)} from ${formatBytes(result.sourceBytes)} (${result.ratio.toFixed(2)}× smaller)`,
      `- type: ${request.type}${plan.recipe ? ` (recipe ${displayName(path.basename(plan.recipe))})` : ""}`,
      `- duration: ${(result.durationMs / 1000).toFixed(1)} s`,
      `- sha256: ${result.sha256}`,
      `- command: ${displayName(result.steps.at(-1)?.commandLine ?? "", 600)}`,
    ].join("\n");
  } finally {
    if (tempDir) await removeTempFolder(tempDir);
  }
}
