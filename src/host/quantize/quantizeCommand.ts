// "GGUF Studio: Quantize Model…": QuickPicks collect a QuantizeRequest, a dry run shows the size
// estimate and free space, then the shared core runner does the work under a cancellable progress
// notification. Every run (also failed or cancelled) lands in the run history.
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { llamaFileTypeName } from "../../core/gguf";
import { makeTempFolder, removeTempFolder } from "../../core/tempFiles";
import { probeToolVersion } from "../../core/native/toolLocator";
import type { ToolProgress } from "../../core/native/toolRunner";
import { resolveGpuLayers } from "../../core/quant/quantizeArgs";
import {
  checkQuantizeRequest, defaultImatrixOutput, estimateQuantizedSize, formatBytes, freeBytes, inspectSource, outputFiles, runQuantizeJob,
  type QuantizeDeps, type QuantizeRequest, type QuantizeResult, type QuantizeStage, type ToolInvoker,
} from "../../core/quant/quantizeJob";
import { loadRecipeFile, prepareRecipeQuantize, type RecipeQuantizeInputs } from "../../core/quant/recipeFile";
import { describeLayers } from "../../core/quant/layerPattern";
import { formatLayerMapping, type LayerMapping } from "../../core/quant/recipeRemap";
import type { RunHistoryStore } from "../../core/quant/runHistory";
import type { StudioContext } from "../context";
import { GgufInspectorProvider } from "../editors/ggufInspectorProvider";
import { isCancellation, reportError } from "../errors";
import { modelUriFromArgument } from "../views/modelNodes";
import {
  confirmOverwrite, confirmRequantize, confirmStart, editAdvancedOptions, pickImatrix, pickOutputPath, pickSourceModel, pickTargetType,
  type AdvancedOptions, type ImatrixChoice, type TargetChoice,
} from "./quantizePicks";

export interface QuantizeOutcome {
  readonly request: QuantizeRequest;
  /** The recipe file the run applied, if any. */
  readonly recipe?: string;
  readonly result?: QuantizeResult;
  readonly error?: string;
  readonly cancelled?: boolean;
}

/** What the QuickPicks collected: the request and, for a recipe run, the recipe file. */
interface CollectedRequest {
  readonly request: QuantizeRequest;
  readonly recipe?: string;
}

const RECIPE_FILE = /\.quant\.json$/i;

/** The recipe's own model (relative to the recipe file) when it names one that exists. */
async function recipeModel(recipeFile: string): Promise<string | undefined> {
  const { recipe } = await loadRecipeFile(recipeFile);
  if (!recipe.model) return undefined;
  const p = path.resolve(path.dirname(recipeFile), recipe.model);
  return fs.existsSync(p) ? p : undefined;
}

/** Compiles the recipe against the source into a temp tensor-type file (its folder goes on `cleanup`). */
async function prepareRecipe(ctx: StudioContext, recipeFile: string, source: string, cleanup: string[]): Promise<RecipeQuantizeInputs> {
  const dir = await makeTempFolder("recipe");
  cleanup.push(dir);
  const inputs = await prepareRecipeQuantize(recipeFile, source, path.join(dir, "tensor-types.txt"));
  for (const w of inputs.warnings) ctx.log.warn(`Recipe ${path.basename(recipeFile)}: ${w.message}`);
  return inputs;
}

/** A recipe made for another layer count: show what mapped to what (and what matches nothing) first. */
async function confirmLayerMapping(ctx: StudioContext, mapping: LayerMapping): Promise<boolean> {
  const table = formatLayerMapping(mapping, describeLayers);
  ctx.log.info(table);
  const go = "Quantize with Mapped Layers";
  const answer = await vscode.window.showWarningMessage(
    `This recipe was made for a ${mapping.fromLayerCount}-layer model; this one has ${mapping.toLayerCount}. Its layer ranges were mapped by relative depth.`,
    { modal: true, detail: table }, go);
  return answer === go;
}

/** Collects a request through the QuickPicks; undefined when the user backs out. */
async function collectRequest(ctx: StudioContext, arg: unknown, deps: QuantizeDeps, cleanup: string[]): Promise<CollectedRequest | undefined> {
  const given = modelUriFromArgument(arg, () => GgufInspectorProvider.current?.active?.uri)?.fsPath;
  // A *.quant.json argument (explorer "Quantize with Recipe…") fixes the target; its model is the default source.
  const givenRecipe = given && RECIPE_FILE.test(given) ? given : undefined;
  const source = givenRecipe ? (await recipeModel(givenRecipe)) ?? (await pickSourceModel()) : given ?? (await pickSourceModel());
  if (!source) return undefined;
  const info = await inspectSource(source);
  let allowRequantize = false;
  if (info.quantized) {
    const name = info.fileType !== undefined ? llamaFileTypeName(info.fileType).replace(/^MOSTLY_/, "") : "a quantized type";
    if (!(await confirmRequantize(name))) return undefined;
    allowRequantize = true;
  }
  const target: TargetChoice | undefined = givenRecipe ? { kind: "recipe", path: givenRecipe } : await pickTargetType();
  if (!target) return undefined;
  const recipe = target.kind === "recipe" ? await prepareRecipe(ctx, target.path, info.shardPaths[0], cleanup) : undefined;
  if (recipe?.layerMapping && !(await confirmLayerMapping(ctx, recipe.layerMapping))) return undefined;
  const typeName = target.kind === "preset" ? target.preset.name : recipe?.type ?? "";
  // A recipe that names its imatrix uses it; otherwise the usual step, required when the recipe's types need one.
  const imatrix: ImatrixChoice | undefined = recipe?.imatrix
    ? { kind: "file", path: recipe.imatrix }
    : await pickImatrix(target.kind === "preset" ? target.preset : { name: path.basename(target.path), requiresImatrix: recipe?.resolution.requiresImatrix ?? false });
  if (!imatrix) return undefined;
  const output = target.kind === "preset"
    ? await pickOutputPath(info.shardPaths[0], info.shardPaths, typeName)
    : await pickOutputPath(info.shardPaths[0], info.shardPaths, typeName, path.join(path.dirname(info.shardPaths[0]), `${path.basename(target.path).replace(RECIPE_FILE, "")}.gguf`));
  if (!output) return undefined;
  const recipeFields = recipe ? { tensorTypeFile: recipe.tensorTypeFile } : {};

  let advanced: AdvancedOptions = { threads: ctx.config.threads > 0 ? ctx.config.threads : undefined };
  const imatrixTool = ctx.tools.locate().found["llama-imatrix"];
  for (;;) {
    const request: QuantizeRequest = {
      source: info.shardPaths[0], output, type: typeName, allowRequantize, ...recipeFields,
      ...(imatrix.kind === "file" ? { imatrix: imatrix.path } : imatrix.kind === "calibration" ? { calibration: imatrix.path } : {}),
      threads: advanced.threads,
      imatrixContext: advanced.imatrixContext,
      imatrixChunks: advanced.imatrixChunks,
      gpuLayers: resolveGpuLayers(ctx.config.gpuOffload, imatrixTool?.backend ?? "unknown", advanced.gpuLayers),
      outputTensorType: advanced.outputTensorType, tokenEmbeddingType: advanced.tokenEmbeddingType, pure: advanced.pure, keepSplit: advanced.keepSplit,
    };
    const existing = [...outputFiles(request, info.shardPaths.length), ...(request.calibration ? [defaultImatrixOutput(output)] : [])].filter((p) => fs.existsSync(p));
    const estimate = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "GGUF Studio: estimating the output size (dry run)…" },
      () => estimateQuantizedSize(request, info, deps),
    );
    const free = await freeBytes(path.dirname(output));
    const summary = `≈ ${formatBytes(estimate.bytes)} (${estimate.bitsPerWeight.toFixed(2)} bpw) from ${formatBytes(info.bytes)}; ${formatBytes(free)} free`;
    const detail = [
      target.kind === "recipe" ? `recipe ${path.basename(target.path)} (${recipe?.type ?? ""} base)` : undefined,
      request.calibration ? `imatrix from ${path.basename(request.calibration)}` : request.imatrix ? `imatrix ${path.basename(request.imatrix)}` : "no imatrix",
      estimate.toolSaysImatrixRequired && !request.imatrix && !request.calibration ? "llama-quantize says this needs an imatrix" : undefined,
      `→ ${path.basename(output)}`,
    ].filter((s) => s !== undefined).join(" · ");
    const choice = await confirmStart(summary, detail, free >= estimate.bytes);
    if (choice === undefined) return undefined;
    if (choice === "advanced") {
      advanced = await editAdvancedOptions(advanced, info.shardPaths.length > 1);
      continue;
    }
    if (existing.length > 0 && !(await confirmOverwrite(existing))) return undefined;
    return { request: { ...request, overwrite: existing.length > 0 }, ...(target.kind === "recipe" ? { recipe: target.path } : {}) };
  }
}

/** Routes the core runner's tool calls through the extension's adapter (trust check, log channel, token). */
function hostInvoker(ctx: StudioContext, token?: vscode.CancellationToken): ToolInvoker {
  return (_tool, executable, args, o) =>
    ctx.tools.runExecutable(executable, args, { token, outputs: o.outputs, parseProgress: o.parseProgress, onProgress: o.onProgress, onLine: o.onLine });
}

/** Share of the notification's bar each stage takes. */
function stageSpan(stage: QuantizeStage, withImatrix: boolean): [number, number] {
  const spans: Record<QuantizeStage, [number, number]> = withImatrix
    ? { check: [0, 1], estimate: [1, 3], calibration: [3, 5], imatrix: [5, 45], quantize: [45, 93], verify: [93, 95], hash: [95, 100] }
    : { check: [0, 1], estimate: [1, 3], calibration: [3, 3], imatrix: [3, 3], quantize: [3, 93], verify: [93, 95], hash: [95, 100] };
  return spans[stage];
}

const toolVersions = new Map<string, string>();
async function toolVersion(executable: string): Promise<string | undefined> {
  if (!toolVersions.has(executable)) {
    const v = await probeToolVersion(executable).catch(() => undefined);
    if (v) toolVersions.set(executable, v.version);
  }
  return toolVersions.get(executable);
}

export async function runQuantizeWithProgress(ctx: StudioContext, request: QuantizeRequest, history: RunHistoryStore, recipe?: string): Promise<QuantizeOutcome> {
  const quantize = ctx.tools.require("llama-quantize");
  const imatrix = request.calibration ? ctx.tools.require("llama-imatrix") : ctx.tools.locate().found["llama-imatrix"];
  const started = new Date();
  let result: QuantizeResult | undefined;
  let failure: unknown;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Quantizing ${path.basename(request.source)} to ${request.type}`, cancellable: true },
    async (progress, token) => {
      const abort = new AbortController();
      const sub = token.onCancellationRequested(() => abort.abort());
      let shown = 0;
      const onStage = (stage: QuantizeStage, p: ToolProgress) => {
        const [from, to] = stageSpan(stage, request.calibration !== undefined);
        const at = from + (to - from) * (p.fraction ?? 0);
        progress.report({ message: p.message, increment: Math.max(0, at - shown) });
        shown = Math.max(shown, at);
      };
      try {
        result = await runQuantizeJob(request, {
          executables: { quantize: quantize.path, imatrix: imatrix?.path },
          invoke: hostInvoker(ctx, token),
          signal: abort.signal,
          onStage,
        });
      } catch (e) {
        failure = e;
      } finally {
        sub.dispose();
      }
    },
  );
  const cancelled = failure !== undefined && isCancellation(failure);
  const record = await history.append({
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    status: result ? "succeeded" : cancelled ? "cancelled" : "failed",
    source: request.source,
    output: request.output,
    type: request.type,
    ...(recipe ? { recipe } : {}),
    ...(request.imatrix ?? result?.imatrix ? { imatrix: request.imatrix ?? result?.imatrix } : {}),
    ...(request.calibration ? { calibration: request.calibration } : {}),
    options: Object.fromEntries(Object.entries({ threads: request.threads, gpuLayers: request.gpuLayers, outputTensorType: request.outputTensorType, tokenEmbeddingType: request.tokenEmbeddingType, pure: request.pure, keepSplit: request.keepSplit, allowRequantize: request.allowRequantize }).filter((e): e is [string, string | number | boolean] => e[1] !== undefined)),
    commands: (result?.steps ?? []).map((s) => ({ tool: s.tool, executable: s.executable, args: s.args, commandLine: s.commandLine, durationMs: s.durationMs })),
    toolVersion: await toolVersion(quantize.path),
    durationMs: result?.durationMs ?? Date.now() - started.getTime(),
    ...(result ? { sourceBytes: result.sourceBytes, outputBytes: result.outputBytes, estimatedBytes: result.estimate.bytes, sha256: result.sha256 } : {}),
    ...(failure !== undefined && !cancelled ? { error: failure instanceof Error ? failure.message : String(failure) } : {}),
  }).catch((e: unknown) => {
    ctx.log.error(`Could not record the run: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  });
  if (record) ctx.log.info(`Run ${record.id} recorded (${record.status})`);
  if (result) {
    announceSuccess(ctx, result);
    return { request, recipe, result };
  }
  if (cancelled) return { request, recipe, cancelled: true };
  const shown = await reportError("Quantize", failure, ctx.log);
  return { request, recipe, error: shown ?? (failure instanceof Error ? failure.message : String(failure)) };
}

function announceSuccess(ctx: StudioContext, r: QuantizeResult): void {
  const out = vscode.Uri.file(r.outputs[0]);
  const message = `Quantized ${path.basename(r.outputs[0])}: ${formatBytes(r.outputBytes)} (${r.ratio.toFixed(2)}× smaller) in ${(r.durationMs / 1000).toFixed(1)} s`;
  ctx.log.info(`${message}; sha256 ${r.sha256}`);
  void vscode.window.showInformationMessage(message, "Inspect", "Evaluate KLD…", "Reveal").then(async (action) => {
    try {
      if (action === "Inspect") await vscode.commands.executeCommand("ggufStudio.inspectModel", out);
      else if (action === "Evaluate KLD…") await vscode.commands.executeCommand("ggufStudio.evaluateKld", out);
      else if (action === "Reveal") await vscode.commands.executeCommand("revealFileInOS", out).then(undefined, () => vscode.commands.executeCommand("revealInExplorer", out));
    } catch (e) {
      await reportError(action ?? "Quantize", e, ctx.log);
    }
  });
}

/** The command: the QuickPick flow, then the run. Returns the outcome (tests read it). */
export async function quantizeModelCommand(ctx: StudioContext, history: RunHistoryStore, arg: unknown): Promise<QuantizeOutcome | undefined> {
  // Temp folders (a recipe's compiled tensor-type file) removed however the command ends.
  const cleanup: string[] = [];
  try {
    const quantize = ctx.tools.require("llama-quantize");
    const imatrix = ctx.tools.locate().found["llama-imatrix"];
    const deps: QuantizeDeps = { executables: { quantize: quantize.path, imatrix: imatrix?.path }, invoke: hostInvoker(ctx) };
    const collected = await collectRequest(ctx, arg, deps, cleanup);
    if (!collected) return undefined;
    // Fail fast on what needs no tool run (the runner checks again).
    await checkQuantizeRequest(collected.request);
    return await runQuantizeWithProgress(ctx, collected.request, history, collected.recipe);
  } catch (e) {
    const shown = await reportError("Quantize", e, ctx.log);
    return shown ? { request: { source: "", output: "", type: "" }, error: shown } : undefined;
  } finally {
    for (const dir of cleanup) await removeTempFolder(dir);
  }
}
