// Commands: Evaluate KLD…, Open KLD Chart, Clean KLD Cache. Results go to the per-base-model store
// in the extension's storage; base logits to the capped cache next to it.
import path from "node:path";
import * as vscode from "vscode";
import { runKldJob, DEFAULT_KLD_CONTEXT, type KldJobResult, type KldQuantInput } from "../../core/eval/kldJob";
import { formatBytes, LogitsCache } from "../../core/eval/logitsCache";
import { KldResultsStore } from "../../core/eval/resultsStore";
import { probeToolVersion } from "../../core/native/toolLocator";
import { resolveGpuLayers } from "../../core/quant/quantizeArgs";
import type { Feature, StudioContext } from "../context";
import { reportError } from "../errors";
import { KldChartPanel } from "./kldChartPanel";
import { hostToolRun, tokenSignal } from "./hostRunner";

export const kldCacheDir = (ctx: StudioContext) => path.join(ctx.storageDir, "kld-cache");
export const kldStore = (ctx: StudioContext) => new KldResultsStore(path.join(ctx.storageDir, "kld-results"));

/** Base logits above this size are confirmed in a modal dialog; smaller ones are announced. */
const CONFIRM_ABOVE_BYTES = 1024 ** 3;

export interface EvaluateKldArgs {
  readonly base?: string;
  readonly quants?: readonly (string | KldQuantInput)[];
  readonly evalText?: string;
  readonly calibrationText?: string;
  readonly contextSize?: number;
  readonly chunks?: number;
  readonly toolVersion?: string;
  /** Open the chart when done (default true for the palette flow). */
  readonly openChart?: boolean;
}

export async function evaluateAndStore(ctx: StudioContext, a: { base: string; quants: readonly KldQuantInput[]; evalText: string; calibrationText?: string; contextSize?: number; chunks?: number; toolVersion?: string }): Promise<KldJobResult> {
  const perplexity = ctx.tools.require("llama-perplexity");
  const toolVersion = a.toolVersion ?? (await probeToolVersion(perplexity.path)).version;
  const cache = new LogitsCache(kldCacheDir(ctx), ctx.config.kldCacheMaxGiB * 1024 ** 3);
  return vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "Evaluating KL divergence", cancellable: true },
    async (progress, token) => {
      const sig = tokenSignal(token);
      let last = 0;
      try {
        return await runKldJob({
          perplexity: perplexity.path, toolVersion, basePath: a.base, quants: a.quants, evalPath: a.evalText,
          ...(a.calibrationText ? { calibrationPath: a.calibrationText } : {}),
          contextSize: a.contextSize ?? DEFAULT_KLD_CONTEXT, chunks: a.chunks, threads: ctx.config.threads || undefined,
          gpuLayers: resolveGpuLayers(ctx.config.gpuOffload, perplexity.backend), cache, store: kldStore(ctx),
          signal: sig.signal, run: hostToolRun(ctx, token),
          onWarning: (w) => { ctx.log.warn(w); void vscode.window.showWarningMessage(`KLD: ${w}`); },
          confirmBaseLogits: async (bytes, chunks) => {
            const msg = `Base logits for ${path.basename(a.base)} on ${path.basename(a.evalText)}: about ${formatBytes(bytes)} (${chunks} chunks), cached in ${kldCacheDir(ctx)}.`;
            ctx.log.info(msg);
            if (bytes < CONFIRM_ABOVE_BYTES) {
              progress.report({ message: msg });
              return true;
            }
            return (await vscode.window.showWarningMessage(msg, { modal: true }, "Create")) === "Create";
          },
          onProgress: (p) => {
            const overall = p.stage === "base" ? p.fraction * 30 : 30 + ((p.index ?? 0) + p.fraction) / Math.max(1, p.total) * 70;
            progress.report({ message: p.message, increment: Math.max(0, overall - last) });
            last = Math.max(last, overall);
          },
        });
      } finally {
        sig.dispose();
      }
    },
  );
}

async function evaluateKld(ctx: StudioContext, raw?: unknown): Promise<KldJobResult | undefined> {
  const args = (raw instanceof vscode.Uri ? { quants: [raw.fsPath] } : (raw ?? {})) as EvaluateKldArgs;
  try {
    const base = args.base ?? (await vscode.window.showOpenDialog({ title: "Base model (the full-precision reference)", filters: { GGUF: ["gguf"] } }))?.[0]?.fsPath;
    if (!base) return undefined;
    const quants = args.quants ?? (await vscode.window.showOpenDialog({ title: "Quantized models to evaluate", canSelectMany: true, filters: { GGUF: ["gguf"] } }))?.map((u) => u.fsPath);
    if (!quants || quants.length === 0) return undefined;
    const evalText = args.evalText ?? (await vscode.window.showOpenDialog({ title: "Held-out evaluation text (never the calibration text)", filters: { Text: ["txt", "md"] } }))?.[0]?.fsPath;
    if (!evalText) return undefined;
    const result = await evaluateAndStore(ctx, {
      base, quants: quants.map((q) => (typeof q === "string" ? { path: q } : q)), evalText,
      ...(args.calibrationText ? { calibrationText: args.calibrationText } : {}),
      ...(args.contextSize ? { contextSize: args.contextSize } : {}), ...(args.chunks ? { chunks: args.chunks } : {}),
      ...(args.toolVersion ? { toolVersion: args.toolVersion } : {}),
    });
    const summary = result.results.map((r) => `${r.label}: ${r.summary.meanKld?.value.toFixed(5)}`).join(", ");
    ctx.log.info(`KLD results (${result.resultsFile}): ${summary}`);
    if (args.openChart !== false) await KldChartPanel.show(ctx, result.resultsFile, undefined, "meanKld");
    return result;
  } catch (e) {
    await reportError("Evaluate KLD", e, ctx.log);
    return undefined;
  }
}

async function openKldChart(ctx: StudioContext, raw?: unknown): Promise<KldChartPanel | undefined> {
  try {
    const a = (raw ?? {}) as { resultsFile?: string; base?: string };
    return await KldChartPanel.show(ctx, a.resultsFile, a.base);
  } catch (e) {
    await reportError("Open KLD chart", e, ctx.log);
    return undefined;
  }
}

async function cleanKldCache(ctx: StudioContext, raw?: unknown): Promise<{ removed: number; bytes: number } | undefined> {
  try {
    const cache = new LogitsCache(kldCacheDir(ctx), ctx.config.kldCacheMaxGiB * 1024 ** 3);
    const total = await cache.totalBytes();
    const quiet = typeof raw === "object" && raw !== null && (raw as { confirm?: boolean }).confirm === false;
    if (!quiet) {
      const ok = await vscode.window.showWarningMessage(`Remove all cached base logits (${formatBytes(total)})? They are recomputed when needed.`, { modal: true }, "Remove");
      if (ok !== "Remove") return undefined;
    }
    const r = await cache.clean();
    void vscode.window.showInformationMessage(`KLD cache cleaned: ${r.removed} base-logits file(s), ${formatBytes(r.bytes)} freed.`);
    return r;
  } catch (e) {
    await reportError("Clean KLD cache", e, ctx.log);
    return undefined;
  }
}

export const kldFeature: Feature = {
  commands: {
    "ggufStudio.evaluateKld": evaluateKld,
    "ggufStudio.openKldChart": openKldChart,
    "ggufStudio.cleanKldCache": cleanKldCache,
  },
};
