// Commands: New Recipe…, Open Recipe Editor, Find Recipe for Size… (the optimizer).
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { writeFileAtomically } from "../../core/atomicWrite";
import { confirmOverwrite } from "../confirmOverwrite";
import { LogitsCache } from "../../core/eval/logitsCache";
import { parseBudget } from "../../core/quant/optimizer";
import { optimizeRecipe, planOptimization, type OptimizeResult } from "../../core/quant/optimizerRun";
import { serializeRecipe } from "../../core/quant/recipeParse";
import { loadRecipeModel } from "../../core/quant/recipeFile";
import { buildStartingRecipe, STARTING_POINTS, type StartingPoint } from "../../core/quant/recipeStarts";
import { probeToolVersion } from "../../core/native/toolLocator";
import { resolveGpuLayers } from "../../core/quant/quantizeArgs";
import type { Feature, StudioContext } from "../context";
import { reportError } from "../errors";
import { hostToolRun, tokenSignal } from "../kld/hostRunner";
import { kldCacheDir, evaluateAndStore } from "../kld/kldFeature";
import { askImatrix, askMeasurementBudget } from "./optimizePrompts";
import { RecipeEditorPanel } from "./recipeEditorPanel";
import { extractRecipeCommand } from "./extractCommand";
import { compareModels } from "../compare/comparePanel";

const BASE_TYPES = ["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0", "IQ2_XXS", "IQ2_S", "IQ3_XXS"];

export interface NewRecipeArgs {
  readonly model?: string;
  readonly startingPoint?: StartingPoint["id"];
  readonly baseType?: string;
  readonly out?: string;
  /** Open the editor afterwards (default true). */
  readonly open?: boolean;
}

async function pickGguf(title: string): Promise<string | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  const picked = await vscode.window.showOpenDialog({ title, canSelectMany: false, filters: { GGUF: ["gguf"] }, defaultUri: active });
  return picked?.[0]?.fsPath;
}

async function newRecipe(ctx: StudioContext, raw?: unknown): Promise<string | undefined> {
  const args = (raw instanceof vscode.Uri ? { model: raw.fsPath } : (raw ?? {})) as NewRecipeArgs;
  try {
    const modelPath = args.model ?? (await pickGguf("Base model for the recipe (F16/BF16/F32 GGUF)"));
    if (!modelPath) return undefined;
    const model = await loadRecipeModel(modelPath);
    const start = args.startingPoint ?? (await vscode.window.showQuickPick(
      STARTING_POINTS.map((s) => ({ label: s.label, description: s.id, detail: s.description, id: s.id })),
      { title: "Starting point" }))?.id;
    if (!start) return undefined;
    const baseType = args.baseType ?? (await vscode.window.showQuickPick(BASE_TYPES, { title: "Base type (routed experts / most tensors)" }));
    if (!baseType) return undefined;
    const stem = path.basename(modelPath).replace(/\.gguf$/i, "").replace(/[-_.](F32|F16|BF16)$/i, "");
    const out = args.out ?? (await vscode.window.showSaveDialog({
      title: "Save recipe", defaultUri: vscode.Uri.file(path.join(path.dirname(modelPath), `${stem}-${start}-${baseType}.quant.json`)),
      filters: { "Quantization recipe": ["quant.json"] },
    }))?.fsPath;
    if (!out) return undefined;
    if (args.out && !(await confirmOverwrite([out]))) return undefined;
    const recipe = {
      ...buildStartingRecipe(start, model.tensors, baseType, { hasImatrix: baseType.startsWith("IQ") && baseType !== "IQ4_XS" }),
      model: path.relative(path.dirname(out), modelPath) || path.basename(modelPath),
    };
    await writeFileAtomically(out, serializeRecipe(recipe));
    if (args.open !== false) await RecipeEditorPanel.show(ctx, out, modelPath);
    return out;
  } catch (e) {
    await reportError("New recipe", e, ctx.log);
    return undefined;
  }
}

async function openRecipeEditor(ctx: StudioContext, raw?: unknown): Promise<RecipeEditorPanel | undefined> {
  try {
    const arg = raw as { recipe?: string; model?: string } | vscode.Uri | undefined;
    let file = arg instanceof vscode.Uri ? arg.fsPath : arg?.recipe;
    file ??= vscode.window.activeTextEditor?.document.fileName.endsWith(".quant.json") ? vscode.window.activeTextEditor.document.fileName : undefined;
    file ??= (await vscode.window.showOpenDialog({ title: "Open recipe", filters: { "Quantization recipe": ["json"] } }))?.[0]?.fsPath;
    if (!file) return undefined;
    return await RecipeEditorPanel.show(ctx, file, arg instanceof vscode.Uri ? undefined : arg?.model);
  } catch (e) {
    await reportError("Open recipe editor", e, ctx.log);
    return undefined;
  }
}

export interface OptimizeArgs {
  readonly model?: string;
  readonly budget?: string;
  readonly evalText?: string;
  /** Text the sensitivity probes measure on (default: asked; "eval" uses the eval text). */
  readonly calibText?: string;
  /** An imatrix file, null for none; undefined: asked. */
  readonly imatrix?: string | null;
  readonly out?: string;
  readonly maxEvaluations?: number;
  /** Measurement limits; with neither given, asked. */
  readonly maxMinutes?: number;
  readonly probeChunks?: number;
  readonly verifyChunks?: number;
  readonly candidateTypes?: readonly string[];
  readonly design?: "sparse" | "grid";
}

async function optimize(ctx: StudioContext, raw?: unknown): Promise<OptimizeResult | undefined> {
  const args = (raw instanceof vscode.Uri ? { model: raw.fsPath } : (raw ?? {})) as OptimizeArgs;
  try {
    const modelPath = args.model ?? (await pickGguf("Base model to find a recipe for"));
    if (!modelPath) return undefined;
    const budgetText = args.budget ?? (await vscode.window.showInputBox({
      title: "Size budget", prompt: "bytes (4326656), size (3.5GB, 3.2GiB) or bits per weight (4.5bpw)",
      validateInput: (v) => { try { parseBudget(v); return undefined; } catch (e) { return e instanceof Error ? e.message : String(e); } },
    }));
    if (!budgetText) return undefined;
    const budget = parseBudget(budgetText);
    const evalText = args.evalText ?? (await vscode.window.showOpenDialog({ title: "Held-out evaluation text (not the calibration text)", filters: { Text: ["txt", "md", "jsonl"] } }))?.[0]?.fsPath;
    if (!evalText) return undefined;
    let probeText = args.calibText === "eval" ? undefined : args.calibText;
    if (args.calibText === undefined) {
      const how = await vscode.window.showQuickPick(
        [{ label: "Calibration text…", detail: "probes measure sensitivity on a different held-out text than the final evaluation (recommended)" },
          { label: "Evaluation text", detail: "probes use the first chunks of the evaluation text (faster to set up; tunes on the test text)" }],
        { title: "Text for the sensitivity probes" });
      if (!how) return undefined;
      if (how.label.startsWith("Calibration")) {
        probeText = (await vscode.window.showOpenDialog({ title: "Calibration text for the probes", filters: { Text: ["txt", "md"] } }))?.[0]?.fsPath;
        if (!probeText) return undefined;
      }
    }
    const imatrix = args.imatrix !== undefined ? args.imatrix : await askImatrix();
    if (imatrix === undefined) return undefined;
    // The plan checks the budget now, before any tool runs, and sizes the measurement step.
    // With the probe engine the sparse design runs (G + 2·T + 10 in-memory evaluations); without it, file probes.
    const engine = ctx.tools.locate().found["gguf-studio-probe"];
    const design = engine ? (args.design ?? "sparse") : "files";
    const plan = planOptimization(await loadRecipeModel(modelPath), budget, { hasImatrix: imatrix !== null, candidateTypes: args.candidateTypes, design });
    const limits = args.maxEvaluations !== undefined || args.maxMinutes !== undefined
      ? { maxEvaluations: args.maxEvaluations, maxMs: args.maxMinutes !== undefined ? args.maxMinutes * 60_000 : undefined }
      : await askMeasurementBudget(plan);
    if (!limits) return undefined;
    const out = args.out ?? path.join(path.dirname(modelPath), `${path.basename(modelPath).replace(/\.gguf$/i, "")}-optimized.quant.json`);
    const quantOut = out.replace(/\.quant\.json$/, ".gguf");
    // Both names are derived, not picked in a save dialog: ask before the long run, not after it.
    if (!(await confirmOverwrite([out, quantOut]))) return undefined;
    const quantize = ctx.tools.require("llama-quantize");
    const perplexity = ctx.tools.require("llama-perplexity");
    const gpuLayers = resolveGpuLayers(ctx.config.gpuOffload, perplexity.backend);
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: "Finding a recipe for the budget", cancellable: true },
      async (progress, token) => {
        const sig = tokenSignal(token);
        let last = 0;
        try {
          return await optimizeRecipe({
            quantize: quantize.path, perplexity: perplexity.path, basePath: modelPath, budget, evalPath: evalText,
            ...(probeText ? { probeTextPath: probeText } : {}),
            ...(imatrix ? { imatrix } : {}),
            probeChunks: args.probeChunks, verifyChunks: args.verifyChunks, maxEvaluations: limits.maxEvaluations, maxMs: limits.maxMs,
            ...(args.candidateTypes ? { candidateTypes: args.candidateTypes } : {}),
            ...(engine && design !== "files" ? { engine: engine.path, design, imatrixTool: ctx.tools.locate().found["llama-imatrix"]?.path } : {}),
            workDir: path.join(ctx.storageDir, "optimizer"), cache: new LogitsCache(kldCacheDir(ctx), ctx.config.kldCacheMaxGiB * 1024 ** 3),
            threads: ctx.config.threads || undefined, gpuLayers, signal: sig.signal, run: hostToolRun(ctx, token),
            onProgress: (p) => {
              const pct = (p.done / Math.max(1, p.total)) * 100;
              const rate = p.rate ? ` · ${p.rate.toFixed(2)} probes/s, about ${formatEta(p.etaMs ?? 0)} left` : "";
              progress.report({ message: `${p.phase}: ${p.message} (${p.done}/${p.total}${rate})`, increment: Math.max(0, pct - last) });
              last = pct;
            },
          });
        } finally {
          sig.dispose();
        }
      },
    );
    const recipe = { ...result.recipe, model: path.relative(path.dirname(out), modelPath) || path.basename(modelPath) };
    await writeFileAtomically(out, serializeRecipe(recipe));
    await fs.promises.rename(result.verified.quantPath, quantOut);
    const version = (await probeToolVersion(perplexity.path)).version;
    await evaluateAndStore(ctx, { base: modelPath, quants: [{ path: quantOut, label: path.basename(out, ".quant.json"), origin: "optimizer", recipePath: out }], evalText, chunks: args.verifyChunks ?? 24, contextSize: 256, toolVersion: version });
    void vscode.window.showInformationMessage(
      `Recipe saved: ${path.basename(out)} — ${result.verified.fileBytes} bytes (budget ${result.budgetBytes}), mean KLD ${result.verified.meanKld.toFixed(5)} (predicted ${result.predictedKld.toFixed(5)}), ${result.evaluations} probe and ${result.refinement.evaluations} in-context evaluations. ${formatCosts(result)}`,
      "Open Recipe", "Open Chart",
    ).then((a) => {
      if (a === "Open Recipe") void RecipeEditorPanel.show(ctx, out, modelPath);
      if (a === "Open Chart") void vscode.commands.executeCommand("ggufStudio.openKldChart", { base: modelPath });
    });
    return { ...result, verified: { ...result.verified, quantPath: quantOut } };
  } catch (e) {
    await reportError("Find recipe for size", e, ctx.log);
    return undefined;
  }
}

function formatEta(ms: number): string {
  const s = Math.ceil(ms / 1000);
  return s < 90 ? `${s} s` : `${Math.ceil(s / 60)} min`;
}

/** Where the time went, as the notification states it. */
function formatCosts(r: OptimizeResult): string {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const load = r.design === "files" ? "" : `model load ${s(r.costs.loadMs + r.costs.baseMs)}, `;
  return `Time: ${load}probes ${s(r.costs.probeWallMs)} (${s(r.costs.medianProbeMs)} each), refinement ${s(r.refinement.wallMs)}, verification ${s(r.costs.verifyWallMs)}.`;
}

export const recipesFeature: Feature = {
  commands: {
    "ggufStudio.newRecipe": newRecipe,
    "ggufStudio.openRecipeEditor": openRecipeEditor,
    "ggufStudio.optimizeRecipe": optimize,
    "ggufStudio.extractRecipe": extractRecipeCommand,
    "ggufStudio.compareModels": compareModels,
  },
};
