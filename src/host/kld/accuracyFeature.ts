// Evaluate Accuracy…: multiple-choice accuracy, flips and efficiency of quants against their base
// (and, when prompts are given, greedy divergence), in-process through node-llama-cpp, with progress
// and cancel. Results join the KLD results store, so the KLD chart shows them beside KLD.
import path from "node:path";
import * as vscode from "vscode";
import type { McFormat } from "../../core/eval/accuracyRecords";
import { runDivergenceJob, type DivergenceJobResult } from "../../core/eval/divergenceJob";
import { EvalCancelledError, isFailure, runMcJob, type EvalProgress, type McJobResult } from "../../core/eval/mcJob";
import type { Feature, StudioContext } from "../context";
import { reportError } from "../errors";
import { KldChartPanel } from "./kldChartPanel";
import { kldStore } from "./kldFeature";
import { tokenSignal } from "./hostRunner";

export interface EvaluateAccuracyArgs {
  readonly base?: string;
  readonly quants?: readonly string[];
  readonly set?: string;
  readonly dev?: string;
  readonly shots?: number;
  readonly format?: McFormat;
  readonly limit?: number;
  /** Also measure greedy divergence on these prompts. */
  readonly prompts?: string;
  readonly tokens?: number;
  readonly openChart?: boolean;
}

export interface EvaluateAccuracyResult {
  readonly mc?: McJobResult;
  readonly divergence?: DivergenceJobResult;
  readonly cancelled?: boolean;
}

const pick = async (title: string, filters: Record<string, string[]>, many = false) =>
  (await vscode.window.showOpenDialog({ title, canSelectMany: many, filters }))?.map((u) => u.fsPath);

async function evaluateAccuracy(ctx: StudioContext, raw?: unknown): Promise<EvaluateAccuracyResult | undefined> {
  const args = (raw instanceof vscode.Uri ? { quants: [raw.fsPath] } : (raw ?? {})) as EvaluateAccuracyArgs;
  try {
    const base = args.base ?? (await pick("Base model (the full-precision reference)", { GGUF: ["gguf"] }))?.[0];
    if (!base) return undefined;
    const quants = args.quants ?? (await pick("Quantized models to compare with the base (cancel for the base alone)", { GGUF: ["gguf"] }, true)) ?? [];
    const set = args.set ?? (await pick("Question set (JSONL or MMLU CSV)", { Questions: ["jsonl", "csv"] }))?.[0];
    if (!set) return undefined;
    const commandLine = `GGUF Studio: Evaluate Accuracy (${JSON.stringify({ ...args, base, quants, set })})`;
    const gpu = ctx.config.gpuOffload === "cpu" ? "cpu" : "auto";
    const threads = ctx.config.threads || undefined;
    const out: { mc?: McJobResult; divergence?: DivergenceJobResult; cancelled?: boolean } = {};
    await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: "Evaluating accuracy", cancellable: true }, async (progress, token) => {
      const sig = tokenSignal(token);
      let last = 0;
      const onProgress = (stage: number, stages: number) => (p: EvalProgress) => {
        const overall = (100 * (stage + (p.model + p.done / p.total) / p.models)) / stages;
        progress.report({ message: `${p.name}: ${p.done}/${p.total}`, increment: Math.max(0, overall - last) });
        last = Math.max(last, overall);
      };
      const stages = args.prompts ? 2 : 1;
      try {
        out.mc = await runMcJob({
          basePath: base, quants, setPath: set, ...(args.dev ? { devPath: args.dev } : {}), ...(args.shots !== undefined ? { shots: args.shots } : {}),
          format: args.format ?? "raw", ...(args.limit !== undefined ? { limit: args.limit } : {}), gpu, ...(threads ? { threads } : {}),
          commandLine, store: kldStore(ctx), signal: sig.signal, onProgress: onProgress(0, stages),
        });
        if (args.prompts && quants.length > 0) {
          out.divergence = await runDivergenceJob({
            basePath: base, quants, promptsPath: args.prompts, ...(args.tokens ? { tokens: args.tokens } : {}), gpu, ...(threads ? { threads } : {}),
            commandLine, store: kldStore(ctx), signal: sig.signal, onProgress: onProgress(1, stages),
          });
        }
      } catch (e) {
        if (!(e instanceof EvalCancelledError)) throw e;
        out.cancelled = true;
        ctx.log.info(`Evaluate Accuracy: ${e.message}`);
        void vscode.window.showInformationMessage(`Evaluate Accuracy: ${e.message}.`);
      } finally {
        sig.dispose();
      }
    });
    if (out.mc) {
      const failed = out.mc.quants.filter(isFailure);
      const ok = [out.mc.base, ...out.mc.quants.filter((q) => !isFailure(q))] as { quantName: string; accuracy: { accuracy: number }; flips?: { flipsPercent: number } }[];
      ctx.log.info(`Accuracy (${out.mc.resultsFile}): ${ok.map((r) => `${r.quantName} ${r.accuracy.accuracy.toFixed(2)}%${r.flips ? ` flips ${r.flips.flipsPercent.toFixed(2)}%` : ""}`).join(", ")}`);
      for (const f of failed) void vscode.window.showErrorMessage(`Evaluate Accuracy: ${path.basename(f.quantPath)}: ${f.error}`);
      if (args.openChart !== false && out.mc.resultsFile) await KldChartPanel.show(ctx, out.mc.resultsFile, undefined, "accuracy");
    }
    return out;
  } catch (e) {
    await reportError("Evaluate Accuracy", e, ctx.log);
    return undefined;
  }
}

export const accuracyFeature: Feature = {
  commands: {
    "ggufStudio.evaluateAccuracy": evaluateAccuracy,
  },
};
