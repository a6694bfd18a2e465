// KL-divergence evaluation: base logits once per (base, eval text, context, chunks) with
// `llama-perplexity --kl-divergence-base`, then `--kl-divergence` per quant. Every run goes
// through the one tool runner. llama-perplexity exits 0 after most of its own errors, so the
// output is parsed and checked, and those errors become typed ones here.
import path from "node:path";
import fs from "node:fs";
import { readGgufModel } from "../gguf/splitSet";
import type { GgufModel } from "../gguf/types";
import { runTool, ToolCancelledError, type ToolRunOptions, type ToolRunResult } from "../native/toolRunner";
import { QUANT_PRESETS } from "../quant/presets";
import { fileFingerprint } from "./fileFingerprint";
import { estimateBaseLogitsBytes, estimateChunks, LogitsCache, type LogitsEntry, type LogitsKey } from "./logitsCache";
import { createPerplexityProgressParser, parsePerplexityOutput, type PerplexityOutput } from "./perplexityParser";
import { KldResultsStore, type KldResultRecord, type KldResultsFile, type QuantOrigin } from "./resultsStore";
import { measureTextOverlap, overlapWarning } from "./textOverlap";

export class BaseMismatchError extends Error {
  constructor(readonly quantPath: string, detail: string) {
    super(`${path.basename(quantPath)} was not made from the chosen base model: ${detail}`);
    this.name = "BaseMismatchError";
  }
}
export class EvalTextTooShortError extends Error {
  constructor(readonly evalPath: string, detail: string) {
    super(`the evaluation text ${path.basename(evalPath)} is too short: ${detail}. It needs at least two chunks (2 × context tokens).`);
    this.name = "EvalTextTooShortError";
  }
}
export class BaseLogitsMissingError extends Error {
  constructor(readonly file: string) {
    super(`the base-logits file ${file} does not exist (it was removed or never finished); evaluate again to recreate it`);
    this.name = "BaseLogitsMissingError";
  }
}
export class KldRunError extends Error {
  constructor(readonly what: string, readonly toolErrors: readonly string[]) {
    super(`llama-perplexity printed no KLD statistics for ${what}${toolErrors.length ? `: ${toolErrors.join("; ")}` : ""}`);
    this.name = "KldRunError";
  }
}

export type ToolRunFn = (options: ToolRunOptions) => Promise<ToolRunResult>;

export interface KldQuantInput {
  readonly path: string;
  readonly label?: string;
  readonly origin?: QuantOrigin;
  readonly recipePath?: string;
}

export interface KldProgress {
  readonly stage: "base" | "quant";
  /** Index of the quant (stage "quant"). */
  readonly index?: number;
  readonly total: number;
  readonly fraction: number;
  readonly message: string;
}

export interface KldJobOptions {
  readonly perplexity: string;
  readonly toolVersion: string;
  readonly basePath: string;
  readonly quants: readonly KldQuantInput[];
  readonly evalPath: string;
  readonly calibrationPath?: string;
  readonly contextSize?: number;
  readonly chunks?: number;
  readonly threads?: number;
  readonly gpuLayers?: number;
  readonly cache: LogitsCache;
  readonly store?: KldResultsStore;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: KldProgress) => void;
  readonly onLine?: (line: string) => void;
  readonly onWarning?: (message: string) => void;
  /** Asked before base logits are created; resolve false to stop (the job throws a cancellation). */
  readonly confirmBaseLogits?: (estimatedBytes: number, chunks: number) => Promise<boolean>;
  /** The runner; defaults to runTool (the host passes its trust-checking, logging wrapper). */
  readonly run?: ToolRunFn;
}

export interface KldJobResult {
  readonly base: KldResultsFile["base"];
  readonly baseLogits: LogitsEntry;
  readonly results: readonly KldResultRecord[];
  readonly resultsFile?: string;
  readonly warnings: readonly string[];
}

export const DEFAULT_KLD_CONTEXT = 512;

/** Tensor names and shapes must agree between base and quant (types differ, of course). */
export function checkSameModel(base: GgufModel, quant: GgufModel, quantPath: string): void {
  if (base.tensors.length !== quant.tensors.length) {
    throw new BaseMismatchError(quantPath, `${quant.tensors.length} tensors vs ${base.tensors.length} in the base`);
  }
  const shapes = new Map(base.tensors.map((t) => [t.name, t.shape.join("x")]));
  for (const t of quant.tensors) {
    const s = shapes.get(t.name);
    if (s === undefined) throw new BaseMismatchError(quantPath, `tensor ${t.name} is not in the base`);
    if (s !== t.shape.join("x")) throw new BaseMismatchError(quantPath, `tensor ${t.name} has shape ${t.shape.join("x")}, the base has ${s}`);
  }
}

export function modelBits(m: GgufModel): { bytes: number; bpw: number; fileBytes: number } {
  let bytes = 0;
  let elements = 0;
  for (const t of m.tensors) {
    bytes += t.byteSize ?? 0;
    elements += t.elementCount;
  }
  return { bytes, bpw: elements ? (bytes * 8) / elements : 0, fileBytes: m.shards.reduce((s, sh) => s + sh.fileSize, 0) };
}

function vocabSize(m: GgufModel): number {
  const tokens = m.metadata.get("tokenizer.ggml.tokens")?.value;
  if (typeof tokens === "object" && tokens !== null && "kind" in tokens) return tokens.kind === "lazy-array" ? tokens.count : tokens.values.length;
  const emb = m.tensors.find((t) => t.name === "token_embd.weight");
  return emb?.shape[1] ?? 32000;
}

/** Label and origin from a file name such as "model-Q4_K_M.gguf". */
export function guessQuantLabel(file: string): { label: string; origin: QuantOrigin } {
  const stem = path.basename(file).replace(/\.gguf$/i, "");
  const names = QUANT_PRESETS.map((p) => p.name).sort((a, b) => b.length - a.length);
  const hit = names.find((n) => new RegExp(`(^|[-_.])${n}($|[-_.])`, "i").test(stem));
  return hit ? { label: hit, origin: "preset" } : { label: stem, origin: "other" };
}

function commandLine(exe: string, args: readonly string[]): string {
  return [exe, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

function commonArgs(o: KldJobOptions): string[] {
  const a = ["-c", String(o.contextSize ?? DEFAULT_KLD_CONTEXT)];
  if (o.threads && o.threads > 0) a.push("-t", String(o.threads));
  a.push("-ngl", String(Math.max(0, o.gpuLayers ?? 0)));
  return a;
}

/** Computes (or reuses) the base logits for this base, eval text, context and chunk count. */
export async function ensureBaseLogits(o: KldJobOptions, base: GgufModel, warnings: string[]): Promise<LogitsEntry> {
  const ctx = o.contextSize ?? DEFAULT_KLD_CONTEXT;
  const key: LogitsKey = {
    baseFingerprint: await fileFingerprint(o.basePath),
    evalFingerprint: await fileFingerprint(o.evalPath),
    contextSize: ctx,
    chunks: o.chunks,
  };
  const hit = await o.cache.get(key);
  if (hit) return hit;
  const evalBytes = (await fs.promises.stat(o.evalPath)).size;
  const chunks = estimateChunks(evalBytes, ctx, o.chunks);
  const estimate = estimateBaseLogitsBytes(vocabSize(base), ctx, Math.max(chunks, 2));
  if (o.confirmBaseLogits && !(await o.confirmBaseLogits(estimate, chunks))) {
    throw new ToolCancelledError(o.perplexity);
  }
  await fs.promises.mkdir(o.cache.dir, { recursive: true });
  await o.cache.makeRoom(estimate);
  const file = o.cache.fileFor(key);
  const partial = `${file}.partial`;
  const args = ["-m", o.basePath, "-f", o.evalPath, "--kl-divergence-base", partial, ...commonArgs(o)];
  if (o.chunks !== undefined) args.push("--chunks", String(o.chunks));
  const lines: string[] = [];
  const progress = createPerplexityProgressParser();
  const run = o.run ?? runTool;
  await run({
    executable: o.perplexity, args, signal: o.signal, outputs: [partial],
    onLine: (l) => { lines.push(l); o.onLine?.(l); },
    parseProgress: (l) => progress(l),
    onProgress: (p) => o.onProgress?.({ stage: "base", total: o.quants.length, fraction: p.fraction ?? 0, message: `base logits: ${p.message}` }),
  });
  const parsed = parsePerplexityOutput(lines);
  // The file itself is the proof of success: the tool's log lines can be lost at exit (below).
  const header = await readBaseLogitsHeader(partial).catch(() => undefined);
  const tooShortLine = parsed.errors.find((e) => /need at least|tokenizes to only/.test(e));
  // The tool writes "_logits_" and n_ctx, then stops there when the text is too short.
  const stoppedAfterContext = header !== undefined && header.vocabSize === 0;
  if (tooShortLine || stoppedAfterContext || (header && header.chunks < 2)) {
    await fs.promises.rm(partial, { force: true });
    throw new EvalTextTooShortError(o.evalPath, tooShortLine ? parsed.errors.join(" ") : `it gives ${header?.chunks ?? 0} chunk(s) of ${ctx} tokens`);
  }
  if (!header || !header.complete) {
    await fs.promises.rm(partial, { force: true });
    throw new KldRunError("the base model", [...parsed.errors, "the base-logits file is missing or incomplete"]);
  }
  await fs.promises.rename(partial, file);
  const entry = await o.cache.put(key, { basePath: o.basePath, evalPath: o.evalPath });
  if (entry.bytes > estimate * 1.5 || entry.bytes < estimate / 1.5) {
    warnings.push(`base logits took ${entry.bytes} bytes against an estimate of ${estimate}`);
  }
  return entry;
}

/** Runs `--kl-divergence` for one quant against an existing base-logits file. */
export async function runKldForQuant(
  o: Pick<KldJobOptions, "perplexity" | "contextSize" | "threads" | "gpuLayers" | "signal" | "onLine" | "run">,
  quantPath: string, baseLogitsFile: string, onProgress?: (fraction: number, message: string) => void,
): Promise<{ parsed: PerplexityOutput; lines: string[]; args: string[]; durationMs: number; attempts: number }> {
  if (!fs.existsSync(baseLogitsFile)) throw new BaseLogitsMissingError(baseLogitsFile);
  const args = ["-m", quantPath, "--kl-divergence-base", baseLogitsFile, "--kl-divergence", ...commonArgs(o as KldJobOptions)];
  const run = o.run ?? runTool;
  // llama.cpp's logger (common/log.cpp) is an intentionally leaked singleton whose worker thread
  // may not have printed the last lines when the process exits (its own comment: "logs may be
  // lost"); under load the statistics block is sometimes missing from a run that exited 0 (measured: 1 in 15 to 1 in 3 runs on a loaded 2-core machine).
  // Such a run is repeated, a bounded number of times.
  for (let attempt = 1; ; attempt++) {
    const lines: string[] = [];
    const progress = createPerplexityProgressParser();
    const r = await run({
      executable: o.perplexity, args, signal: o.signal,
      onLine: (l) => { lines.push(l); o.onLine?.(l); },
      parseProgress: (l) => progress(l),
      onProgress: (p) => onProgress?.(p.fraction ?? 0, p.message),
    });
    const parsed = parsePerplexityOutput(lines);
    // "Same top p" is the last statistic printed: with it, nothing before it was lost.
    if (parsed.summary.meanKld && parsed.summary.sameTopP) return { parsed, lines, args, durationMs: r.durationMs, attempts: attempt };
    if (parsed.errors.length > 0) throw new KldRunError(path.basename(quantPath), parsed.errors);
    if (attempt >= LOST_OUTPUT_RETRIES) {
      // Last resort: the final chunk row carries the running means (KLD to 5 decimals instead of 6).
      const fromRows = summaryFromChunkRows(parsed);
      if (fromRows) return { parsed: fromRows, lines, args, durationMs: r.durationMs, attempts: attempt };
      throw new KldRunError(path.basename(quantPath), ["the statistics were not printed (llama.cpp lost its log output at exit)"]);
    }
  }
}

/** Runs repeated when llama-perplexity exits 0 without its statistics (lost log lines). */
export const LOST_OUTPUT_RETRIES = 10;

/** Mean statistics from the per-chunk table when every chunk row arrived; flagged by `fromChunkRows`. */
export function summaryFromChunkRows(parsed: PerplexityOutput): PerplexityOutput | undefined {
  const last = parsed.chunks.at(-1);
  if (!last || parsed.chunkCount === undefined || parsed.chunks.length !== parsed.chunkCount) return undefined;
  return {
    ...parsed,
    fromChunkRows: true,
    summary: { meanKld: last.kld, sameTopP: last.sameTopP, rmsDeltaP: last.rmsDeltaP, meanLnPplRatio: last.lnPplRatio, meanPplQ: last.ppl },
  };
}

export interface BaseLogitsHeader {
  readonly contextSize: number;
  readonly vocabSize: number;
  readonly chunks: number;
  readonly bytes: number;
  /** The file has exactly the size its header implies. */
  readonly complete: boolean;
}

/** Reads the header of a --kl-divergence-base file: "_logits_", n_ctx, n_vocab, n_chunk (int32 LE). */
export async function readBaseLogitsHeader(file: string): Promise<BaseLogitsHeader> {
  const fh = await fs.promises.open(file, "r");
  try {
    const { size } = await fh.stat();
    const buf = Buffer.alloc(20);
    const { bytesRead } = await fh.read(buf, 0, 20, 0);
    if (bytesRead < 12 || buf.toString("latin1", 0, 8) !== "_logits_") throw new Error(`${file} is not a base-logits file`);
    const contextSize = buf.readInt32LE(8);
    if (bytesRead < 20) return { contextSize, vocabSize: 0, chunks: 0, bytes: size, complete: false };
    const vocabSize = buf.readInt32LE(12);
    const chunks = buf.readInt32LE(16);
    return { contextSize, vocabSize, chunks, bytes: size, complete: size === estimateBaseLogitsBytes(vocabSize, contextSize, chunks) };
  } finally {
    await fh.close();
  }
}

export async function runKldJob(o: KldJobOptions): Promise<KldJobResult> {
  const warnings: string[] = [];
  const warn = (m: string) => { warnings.push(m); o.onWarning?.(m); };
  if (!fs.existsSync(o.evalPath)) throw new Error(`evaluation text not found: ${o.evalPath}`);
  if (o.calibrationPath && fs.existsSync(o.calibrationPath)) {
    if (path.resolve(o.calibrationPath) === path.resolve(o.evalPath)) {
      warn("the evaluation text is the calibration text: KLD measured on it is biased towards the imatrix. Use a held-out text.");
    } else {
      const w = overlapWarning(measureTextOverlap(await fs.promises.readFile(o.evalPath, "utf8"), await fs.promises.readFile(o.calibrationPath, "utf8")));
      if (w) warn(w);
    }
  }
  const base = await readGgufModel(o.basePath);
  const quantModels: GgufModel[] = [];
  for (const q of o.quants) {
    if (path.resolve(q.path) === path.resolve(o.basePath)) throw new BaseMismatchError(q.path, "it is the base model itself");
    const m = await readGgufModel(q.path);
    checkSameModel(base, m, q.path);
    quantModels.push(m);
  }
  const baseBits = modelBits(base);
  const baseInfo: KldResultsFile["base"] = {
    path: o.basePath, name: path.basename(o.basePath), fingerprint: await fileFingerprint(o.basePath),
    bytes: baseBits.fileBytes, bitsPerWeight: baseBits.bpw,
  };
  const logits = await ensureBaseLogits(o, base, warnings);
  const evalFingerprint = await fileFingerprint(o.evalPath);
  const results: KldResultRecord[] = [];
  let resultsFile: string | undefined;
  for (let i = 0; i < o.quants.length; i++) {
    const q = o.quants[i];
    const { parsed, args, durationMs } = await runKldForQuant(o, q.path, logits.file, (f, msg) =>
      o.onProgress?.({ stage: "quant", index: i, total: o.quants.length, fraction: f, message: `${path.basename(q.path)}: ${msg}` }));
    const bits = modelBits(quantModels[i]);
    const guess = guessQuantLabel(q.path);
    const record: KldResultRecord = {
      id: `${Date.now().toString(36)}-${i}`,
      quantPath: q.path, quantName: path.basename(q.path), quantFingerprint: await fileFingerprint(q.path),
      quantBytes: bits.fileBytes, bitsPerWeight: bits.bpw,
      label: q.label ?? guess.label, origin: q.origin ?? guess.origin,
      ...(q.recipePath ? { recipePath: q.recipePath } : {}),
      evalPath: o.evalPath, evalFingerprint, contextSize: o.contextSize ?? DEFAULT_KLD_CONTEXT,
      chunks: parsed.chunkCount ?? o.chunks ?? 0,
      toolVersion: o.toolVersion, commandLine: commandLine(o.perplexity, args),
      createdAt: new Date().toISOString(), durationMs,
      summary: parsed.summary, sections: parsed.sections,
    };
    results.push(record);
    if (o.store) resultsFile = await o.store.add(baseInfo, record);
  }
  return { base: baseInfo, baseLogits: logits, results, warnings, ...(resultsFile ? { resultsFile } : {}) };
}
