// The one quantization runner (presets, recipes, CLI, extension): check inputs, optional imatrix,
// dry-run estimate and free-space check, llama-quantize into a temp file beside the output, verify
// with the GGUF core, hash, then rename into place. The source is only ever read; every failure or
// cancel removes what this run created.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ggmlTypeByName, isGgufError, metadataNumber, readGgufModel, type GgufModel } from "../gguf";
import { renameIntoPlace, sweepStaleTemps, tempPathFor, trackTemp, untrackTemp } from "../tempFiles";
import { ToolCancelledError, ToolFailedError, runTool, type OutputStream, type ToolProgress, type ToolRunResult } from "../native/toolRunner";
import { prepareCalibration, type ModelVocab, type PreparedCalibration } from "./calibration";
import { createImatrixProgressParser, parseImatrixTooShort, parseQuantizeProgress, parseQuantizeSummary, parseQuantizeTensorLine } from "./progress";
import { canonicalPreset, findQuantPreset, type QuantPreset } from "./presets";
import { resolveRecipe } from "./recipeResolve";
import { DEFAULT_IMATRIX_CONTEXT, buildImatrixArgs, buildQuantizeArgs, formatCommandLine, keepSplitOutputPaths } from "./quantizeArgs";
import { formatBytes } from "../../shared/formatBytes";
export { formatBytes };

export type QuantizeErrorCode =
  | "unknown-type" | "source-unreadable" | "source-not-gguf" | "output-is-source" | "output-exists" | "output-dir-unwritable"
  | "needs-imatrix" | "imatrix-and-calibration" | "imatrix-missing" | "requantize-not-confirmed" | "disk-full"
  | "calibration-too-short" | "verify-failed";

/** A request that cannot (or did not) run, named so a user knows what to change. */
export class QuantizeError extends Error {
  constructor(readonly code: QuantizeErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "QuantizeError";
  }
}

export interface QuantizeRequest {
  /** Any shard of a split set reads the whole set. */
  readonly source: string;
  readonly output: string;
  /** llama-quantize type ("Q4_K_M"); for a recipe, its base preset. */
  readonly type: string;
  /** An existing importance matrix. */
  readonly imatrix?: string;
  /** Compute an importance matrix from this text (plain or chat JSONL) before quantizing. */
  readonly calibration?: string;
  /** Where a computed imatrix is kept; default "<output stem>.imatrix.gguf". */
  readonly imatrixOutput?: string;
  readonly imatrixContext?: number;
  readonly imatrixChunks?: number;
  readonly gpuLayers?: number;
  /** The user confirmed quantizing an already-quantized source (--allow-requantize). */
  readonly allowRequantize?: boolean;
  /** The user confirmed replacing existing output files. */
  readonly overwrite?: boolean;
  readonly outputTensorType?: string;
  readonly tokenEmbeddingType?: string;
  readonly pure?: boolean;
  readonly keepSplit?: boolean;
  readonly threads?: number;
  /** From a compiled recipe. */
  readonly tensorTypeFile?: string;
  readonly tensorTypes?: readonly string[];
  /** Default true. Turning it off lets tests reach the tool's own disk-full failure. */
  readonly checkFreeSpace?: boolean;
}

export type QuantizeTool = "llama-quantize" | "llama-imatrix";

export interface ToolInvocation {
  readonly signal?: AbortSignal;
  readonly outputs: readonly string[];
  readonly parseProgress?: (line: string, stream: OutputStream) => ToolProgress | undefined;
  readonly onProgress?: (p: ToolProgress) => void;
  readonly onLine?: (line: string, stream: OutputStream) => void;
}
/** How a tool is run: the core runner by default; the extension passes its trust-checking, logging adapter. */
export type ToolInvoker = (tool: QuantizeTool, executable: string, args: readonly string[], o: ToolInvocation) => Promise<ToolRunResult>;

export const invokeWithRunner: ToolInvoker = (_tool, executable, args, o) => runTool({ executable, args, ...o });

export type QuantizeStage = "check" | "estimate" | "calibration" | "imatrix" | "quantize" | "verify" | "hash";

export interface QuantizeDeps {
  readonly executables: { readonly quantize: string; readonly imatrix?: string };
  readonly invoke?: ToolInvoker;
  readonly signal?: AbortSignal;
  readonly onStage?: (stage: QuantizeStage, progress: ToolProgress) => void;
  readonly onLine?: (line: string, stream: OutputStream) => void;
  /** Time llama-quantize --dry-run gets before our own estimate is used (default DEFAULT_DRY_RUN_LIMIT_MS). */
  readonly dryRunLimitMs?: number;
  /** Tokenizer for calibration checks (tests inject one; default loads the model's vocab). */
  readonly vocab?: ModelVocab;
}

export interface SourceInfo {
  readonly model: GgufModel;
  readonly shardPaths: readonly string[];
  readonly bytes: number;
  /** Some 2-D weight is stored in a quantized type: requantizing needs confirmation. */
  readonly quantized: boolean;
  readonly fileType?: number;
}

/** Reads the source model (every shard) and says whether it is already quantized. */
export async function inspectSource(source: string): Promise<SourceInfo> {
  let model: GgufModel;
  try {
    model = await readGgufModel(source);
  } catch (e) {
    if (isGgufError(e)) {
      const code: QuantizeErrorCode = e.code === "io" ? "source-unreadable" : "source-not-gguf";
      throw new QuantizeError(code, `Source ${path.basename(source)} is not a usable GGUF: ${e.message}`, { cause: e });
    }
    const errno = (e as NodeJS.ErrnoException).code;
    throw new QuantizeError("source-unreadable", `Source ${source} cannot be read (${errno ?? String(e)})`, { cause: e });
  }
  const floatTypes = new Set(["F32", "F16", "BF16", "F64"]);
  const quantized = model.tensors.some((t) => t.shape.length >= 2 && !floatTypes.has(t.typeName));
  const fileType = metadataNumber(model.metadata, "general.file_type");
  return {
    model,
    shardPaths: model.shards.map((s) => s.path),
    bytes: model.shards.reduce((a, s) => a + s.fileSize, 0),
    quantized,
    ...(fileType !== undefined ? { fileType } : {}),
  };
}

function requirePreset(type: string): QuantPreset {
  const p = findQuantPreset(type);
  if (!p) throw new QuantizeError("unknown-type", `"${type}" is not a llama-quantize type (e.g. Q4_K_M, Q8_0, IQ4_XS)`);
  return p;
}

/** Final output files: one, or one per source shard with --keep-split. */
export function outputFiles(request: Pick<QuantizeRequest, "output" | "keepSplit">, sourceShards: number): string[] {
  return request.keepSplit && sourceShards > 1 ? keepSplitOutputPaths(request.output, sourceShards) : [request.output];
}

export function defaultImatrixOutput(output: string): string {
  return output.replace(/\.gguf$/i, "") + ".imatrix.gguf";
}

async function samePath(a: string, b: string): Promise<boolean> {
  const real = async (p: string) => {
    try {
      return await fs.promises.realpath(p);
    } catch {
      // Not there yet: resolve its folder so "./x/../m.gguf" still compares equal.
      return path.join(await fs.promises.realpath(path.dirname(p)).catch(() => path.resolve(path.dirname(p))), path.basename(p));
    }
  };
  return (await real(a)) === (await real(b));
}

async function assertWritableFolder(dir: string): Promise<void> {
  const probe = path.join(dir, `.gguf-studio-probe-${process.pid}-${crypto.randomBytes(4).toString("hex")}`);
  try {
    // A real create, not access(W_OK): root passes access checks on read-only mounts.
    await fs.promises.writeFile(probe, "", { flag: "wx" });
  } catch (e) {
    const errno = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new QuantizeError("output-dir-unwritable", `Cannot write to the output folder ${dir} (${errno})`, { cause: e });
  }
  await fs.promises.rm(probe, { force: true });
}

/** Every check that needs no tool run. Returns the source facts and the final output paths. */
export async function checkQuantizeRequest(r: QuantizeRequest): Promise<{ preset: QuantPreset; source: SourceInfo; outputs: string[] }> {
  const preset = requirePreset(r.type);
  if (r.imatrix && r.calibration) throw new QuantizeError("imatrix-and-calibration", "Give either an imatrix file or a calibration text, not both");
  const source = await inspectSource(r.source);
  const outputs = outputFiles(r, source.shardPaths.length);
  const extra = r.calibration ? [r.imatrixOutput ?? defaultImatrixOutput(r.output)] : [];
  for (const out of [...outputs, ...extra]) {
    for (const shard of source.shardPaths) {
      if (await samePath(out, shard)) throw new QuantizeError("output-is-source", `The output ${out} is the source model itself; choose another name`);
    }
    if (r.imatrix && (await samePath(out, r.imatrix))) throw new QuantizeError("output-is-source", `The output ${out} is the imatrix file`);
  }
  const existing = [...outputs, ...extra].filter((p) => fs.existsSync(p));
  if (existing.length > 0 && !r.overwrite) {
    throw new QuantizeError("output-exists", `${existing.map((p) => path.basename(p)).join(", ")} already exists; confirm overwriting it or choose another name`);
  }
  if (preset.requiresImatrix && !r.imatrix && !r.calibration) {
    throw new QuantizeError("needs-imatrix", `${preset.name} needs an importance matrix: give an imatrix file or a calibration text to compute one`);
  }
  if (r.imatrix && !fs.existsSync(r.imatrix)) throw new QuantizeError("imatrix-missing", `The imatrix file ${r.imatrix} does not exist`);
  if (source.quantized && !r.allowRequantize) {
    throw new QuantizeError("requantize-not-confirmed", `${path.basename(r.source)} is already quantized; requantizing loses quality and must be confirmed (--allow-requantize)`);
  }
  await assertWritableFolder(path.dirname(path.resolve(r.output)));
  return { preset, source, outputs };
}

export interface SizeEstimate {
  /** Bytes the output files will take (tensor data with padding, plus the source's header size). */
  readonly bytes: number;
  readonly bitsPerWeight: number;
  /** Target type of each tensor as the tool decided it. */
  readonly tensorTypes: ReadonlyMap<string, string>;
  readonly toolSaysImatrixRequired: boolean;
  readonly commandLine: string;
  /** "dry-run": llama-quantize's own --dry-run; "own-estimate": it ran past its time limit and the sizes come from our resolver. */
  readonly method: "dry-run" | "own-estimate";
}

/**
 * llama-quantize's --dry-run is quadratic in the tensor count (80k tensors: 43 s; 2M: more than 11
 * CPU-minutes), so it gets this long before our own resolver answers instead.
 */
export const DEFAULT_DRY_RUN_LIMIT_MS = 60_000;

/** `llama-quantize --dry-run`, turned into an exact byte count with the ggml block table. */
export async function estimateQuantizedSize(r: QuantizeRequest, source: SourceInfo, deps: QuantizeDeps): Promise<SizeEstimate> {
  const args = buildQuantizeArgs({ ...quantizeArgOptions(r), input: source.shardPaths[0], output: r.output, dryRun: true });
  const lines: string[] = [];
  const tensorTypes = new Map<string, string>();
  const limited = new AbortController();
  const forward = (): void => limited.abort();
  deps.signal?.addEventListener("abort", forward);
  if (deps.signal?.aborted) limited.abort();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; limited.abort(); }, deps.dryRunLimitMs ?? DEFAULT_DRY_RUN_LIMIT_MS);
  try {
    await (deps.invoke ?? invokeWithRunner)("llama-quantize", deps.executables.quantize, args, {
      signal: limited.signal,
      outputs: [],
    onLine: (line, stream) => {
      const t = parseQuantizeTensorLine(line);
      if (t) tensorTypes.set(t.name, t.targetType ?? t.sourceType);
        else lines.push(line);
        deps.onLine?.(line, stream);
      },
    });
  } catch (e) {
    if (!(timedOut && !deps.signal?.aborted && e instanceof ToolCancelledError)) throw e;
    return ownSizeEstimate(r, source, formatCommandLine(deps.executables.quantize, args));
  } finally {
    clearTimeout(timer);
    deps.signal?.removeEventListener("abort", forward);
  }
  let bytes = 0;
  let elements = 0;
  for (const shard of source.model.shards) {
    bytes += shard.file.tensorDataOffset;
    for (const t of shard.file.tensors) {
      const target = ggmlTypeByName(tensorTypes.get(t.name) ?? t.typeName);
      const size = target ? (t.elementCount / target.blockSize) * target.typeSize : (t.byteSize ?? 0);
      bytes += Math.ceil(size / shard.file.alignment) * shard.file.alignment;
      elements += t.elementCount;
    }
  }
  const summary = parseQuantizeSummary(lines);
  return {
    bytes,
    bitsPerWeight: elements > 0 ? (bytes * 8) / elements : 0,
    tensorTypes,
    toolSaysImatrixRequired: summary.requiresImatrix,
    commandLine: formatCommandLine(deps.executables.quantize, args),
    method: "dry-run",
  };
}

/**
 * Sizes from our own resolver (the rules llama-quantize applies: which tensors it keeps, the shape
 * fallback, ggml block sizes): the preset's base type for every quantizable tensor, then the
 * --tensor-type overrides and tensor-type file lines as rules. The presets' own mixes (Q4_K_M
 * raising some tensors) are not modelled, so this is a floor, a few percent under the tool's number.
 */
export async function ownSizeEstimate(r: QuantizeRequest, source: SourceInfo, commandLine: string): Promise<SizeEstimate> {
  const preset = requirePreset(r.type);
  const rules: { pattern: string; type: string }[] = [];
  const addRule = (line: string): void => {
    const eq = line.lastIndexOf("=");
    if (eq > 0) rules.push({ pattern: line.slice(0, eq), type: line.slice(eq + 1).toUpperCase() });
  };
  if (r.tensorTypeFile) for (const line of (await fs.promises.readFile(r.tensorTypeFile, "utf8")).split("\n")) if (line.trim()) addRule(line.trim());
  for (const t of r.tensorTypes ?? []) addRule(t);
  if (r.outputTensorType) rules.push({ pattern: "^output\\.weight$", type: r.outputTensorType.toUpperCase() });
  if (r.tokenEmbeddingType) rules.push({ pattern: "^token_embd\\.weight$", type: r.tokenEmbeddingType.toUpperCase() });
  const baseType = preset.quantizes ? preset.baseType : "F16";
  let bytes = 0;
  let elements = 0;
  const tensorTypes = new Map<string, string>();
  let requiresImatrix = preset.requiresImatrix;
  for (const shard of source.model.shards) {
    const resolution = resolveRecipe({ version: 1, baseType, rules: preset.quantizes ? rules.filter((x) => ggmlTypeByName(x.type)) : [] }, shard.file.tensors, { alignment: shard.file.alignment });
    bytes += shard.file.tensorDataOffset + resolution.paddedTensorBytes;
    elements += resolution.elementCount;
    for (const t of resolution.tensors) tensorTypes.set(t.name, t.type);
    requiresImatrix ||= resolution.requiresImatrix;
  }
  return { bytes, bitsPerWeight: elements > 0 ? (bytes * 8) / elements : 0, tensorTypes, toolSaysImatrixRequired: requiresImatrix, commandLine, method: "own-estimate" };
}

/** Free bytes for an unprivileged writer in the folder. */
export async function freeBytes(dir: string): Promise<number> {
  const s = await fs.promises.statfs(dir);
  return s.bavail * s.bsize;
}

function quantizeArgOptions(r: QuantizeRequest) {
  return {
    type: requirePreset(r.type).name,
    allowRequantize: r.allowRequantize,
    outputTensorType: r.outputTensorType,
    tokenEmbeddingType: r.tokenEmbeddingType,
    pure: r.pure,
    keepSplit: r.keepSplit,
    threads: r.threads,
    tensorTypeFile: r.tensorTypeFile,
    tensorTypes: r.tensorTypes,
  };
}

export interface ToolStep {
  readonly tool: QuantizeTool;
  readonly executable: string;
  readonly args: readonly string[];
  readonly commandLine: string;
  readonly durationMs: number;
}

export interface QuantizeResult {
  readonly outputs: readonly string[];
  readonly outputBytes: number;
  readonly sourceBytes: number;
  /** sourceBytes / outputBytes. */
  readonly ratio: number;
  readonly durationMs: number;
  /** SHA-256 of the output bytes (shards concatenated in order). */
  readonly sha256: string;
  readonly estimate: SizeEstimate;
  readonly imatrix?: string;
  readonly calibration?: Pick<PreparedCalibration, "format" | "tokenCount" | "conversations">;
  /** The exact tool runs, with the final output paths (the tool itself wrote to a temp name first). */
  readonly steps: readonly ToolStep[];
  readonly fileType?: number;
}

/** `.<name>.gguf-studio-<pid>-<hex>.partial.gguf`: llama-quantize derives --keep-split shard names from a .gguf name. */
function tempName(finalPath: string): string {
  const p = tempPathFor(finalPath, ".gguf");
  trackTemp(p);
  return p;
}

export async function runQuantizeJob(r: QuantizeRequest, deps: QuantizeDeps): Promise<QuantizeResult> {
  const started = Date.now();
  const invoke = deps.invoke ?? invokeWithRunner;
  const stage = (s: QuantizeStage, p: ToolProgress) => deps.onStage?.(s, p);
  const cancelled = () => deps.signal?.aborted === true;
  const temps = new Set<string>();
  const steps: ToolStep[] = [];
  try {
    stage("check", { message: "Checking inputs" });
    const { preset, source, outputs } = await checkQuantizeRequest(r);
    const outDir = path.dirname(path.resolve(r.output));
    await sweepStaleTemps(outDir); // what killed runs left here

    stage("estimate", { message: "Estimating output size (dry run)" });
    const estimate = await estimateQuantizedSize(r, source, deps);
    if (r.checkFreeSpace !== false) {
      const free = await freeBytes(outDir);
      const needed = Math.ceil(estimate.bytes * 1.01) + (r.calibration ? 16 << 20 : 0);
      if (free < needed) {
        throw new QuantizeError("disk-full", `Not enough free space in ${outDir}: the output needs about ${formatBytes(needed)}, ${formatBytes(free)} is free`);
      }
    }

    let imatrix = r.imatrix;
    let calibrationFacts: QuantizeResult["calibration"];
    if (r.calibration) {
      if (!deps.executables.imatrix) throw new QuantizeError("imatrix-missing", "llama-imatrix was not found, so no imatrix can be computed");
      stage("calibration", { message: "Preparing calibration text" });
      const ctxSize = r.imatrixContext ?? DEFAULT_IMATRIX_CONTEXT;
      let prepared: PreparedCalibration;
      try {
        prepared = await prepareCalibration({ modelPath: source.shardPaths[0], calibrationPath: r.calibration, contextSize: ctxSize, workDir: outDir, vocab: deps.vocab });
      } catch (e) {
        if (e instanceof Error && e.name === "CalibrationError" && (e as { code?: string }).code === "too-short") throw new QuantizeError("calibration-too-short", e.message, { cause: e });
        throw e;
      }
      if (prepared.temporary) temps.add(prepared.path);
      calibrationFacts = { format: prepared.format, tokenCount: prepared.tokenCount, ...(prepared.conversations !== undefined ? { conversations: prepared.conversations } : {}) };
      const finalImatrix = r.imatrixOutput ?? defaultImatrixOutput(r.output);
      const tempImatrix = tempName(finalImatrix);
      temps.add(tempImatrix);
      const imatrixArgs = buildImatrixArgs({
        model: source.shardPaths[0], calibration: prepared.path, output: tempImatrix, contextSize: ctxSize,
        chunks: r.imatrixChunks, threads: r.threads, gpuLayers: r.gpuLayers, parseSpecial: prepared.parseSpecial,
      });
      stage("imatrix", { fraction: 0, message: "Computing importance matrix" });
      const tail: string[] = [];
      const run = await invoke("llama-imatrix", deps.executables.imatrix, imatrixArgs, {
        signal: deps.signal,
        outputs: [tempImatrix],
        parseProgress: createImatrixProgressParser(),
        onProgress: (p) => stage("imatrix", p),
        onLine: (l, s) => {
          tail.push(l);
          if (tail.length > 50) tail.shift();
          deps.onLine?.(l, s);
        },
      }).catch((e: unknown) => {
        const short = parseImatrixTooShort(tail);
        if (e instanceof ToolFailedError && short) {
          throw new QuantizeError("calibration-too-short", `The calibration text has ${short.got} tokens; llama-imatrix needs at least ${short.needed}`, { cause: e });
        }
        throw e;
      });
      if (prepared.temporary) {
        await fs.promises.rm(prepared.path, { force: true });
        temps.delete(prepared.path);
      }
      await renameIntoPlace(tempImatrix, finalImatrix, r.overwrite === true);
      temps.delete(tempImatrix);
      temps.add(finalImatrix); // part of this run's output until the quantization succeeds
      imatrix = finalImatrix;
      steps.push(step("llama-imatrix", deps.executables.imatrix, imatrixArgs, { [tempImatrix]: finalImatrix }, run.durationMs));
    }
    if (cancelled()) throw new ToolCancelledError(deps.executables.quantize);

    const tempOutput = tempName(r.output);
    const tempFiles = outputFiles({ output: tempOutput, keepSplit: r.keepSplit }, source.shardPaths.length);
    for (const t of tempFiles) {
      temps.add(t);
      trackTemp(t);
    }
    const args = buildQuantizeArgs({ ...quantizeArgOptions(r), imatrix, input: source.shardPaths[0], output: tempOutput });
    stage("quantize", { fraction: 0, message: `Quantizing to ${preset.name}` });
    const tail: string[] = [];
    const run = await invoke("llama-quantize", deps.executables.quantize, args, {
      signal: deps.signal,
      outputs: tempFiles,
      parseProgress: parseQuantizeProgress,
      onProgress: (p) => stage("quantize", p),
      onLine: (l, s) => {
        if (!parseQuantizeTensorLine(l)) {
          tail.push(l);
          if (tail.length > 50) tail.shift();
        }
        deps.onLine?.(l, s);
      },
    }).catch(async (e: unknown) => {
      throw await explainToolFailure(e, tail, outDir, estimate.bytes);
    });
    steps.push(step("llama-quantize", deps.executables.quantize, args, { [tempOutput]: r.output }, run.durationMs));

    stage("verify", { message: "Verifying the output" });
    const written = await verifyOutput(tempFiles[0], source, preset, outDir);

    stage("hash", { fraction: 0, message: "Hashing the output" });
    const sha256 = await hashFiles(tempFiles, deps.signal, (fraction) => stage("hash", { fraction, message: "Hashing the output" }));

    for (let i = 0; i < tempFiles.length; i++) {
      await renameIntoPlace(tempFiles[i], outputs[i], r.overwrite === true);
      temps.delete(tempFiles[i]);
    }
    if (imatrix) temps.delete(imatrix);
    const outputBytes = written.bytes;
    return {
      outputs, outputBytes, sourceBytes: source.bytes, ratio: source.bytes / outputBytes, durationMs: Date.now() - started, sha256,
      estimate, steps, ...(imatrix ? { imatrix } : {}), ...(calibrationFacts ? { calibration: calibrationFacts } : {}),
      ...(written.fileType !== undefined ? { fileType: written.fileType } : {}),
    };
  } finally {
    for (const t of temps) {
      await fs.promises.rm(t, { force: true }).catch(() => undefined);
      untrackTemp(t);
    }
  }
}

function step(tool: QuantizeTool, executable: string, args: readonly string[], rename: Record<string, string>, durationMs: number): ToolStep {
  // Record what the run means: the final names, not the temp names the tool wrote to.
  const shown = args.map((a) => rename[a] ?? a);
  return { tool, executable, args: shown, commandLine: formatCommandLine(executable, shown), durationMs };
}

/**
 * Turns a tool failure into the user's problem when the output says what it was. A full disk shows
 * up as a bare "iostream error" from llama-quantize; after its partial file is removed, the disk
 * still cannot hold the estimated output, which is what tells it apart.
 */
async function explainToolFailure(e: unknown, tail: readonly string[], outDir: string, neededBytes: number): Promise<unknown> {
  if (!(e instanceof ToolFailedError)) return e;
  const text = `${tail.join("\n")}\n${e.stderrTail}\n${e.stdoutTail}`;
  if (/requires an importance matrix|requires an imatrix|Missing importance matrix/i.test(text)) {
    return new QuantizeError("needs-imatrix", "This quantization needs an importance matrix for some tensors (llama-quantize refused)", { cause: e });
  }
  if (/requantizing from type \S+ is disabled/.test(text)) {
    return new QuantizeError("requantize-not-confirmed", "The source holds quantized tensors; requantizing must be confirmed (--allow-requantize)", { cause: e });
  }
  const free = await freeBytes(outDir).catch(() => Infinity);
  if (/No space left|ENOSPC/i.test(text) || (/iostream error|failed to write|write error/i.test(text) && free < neededBytes)) {
    return new QuantizeError("disk-full", `The disk holding ${outDir} ran out of space while writing; nothing was kept`, { cause: e });
  }
  return e;
}

async function verifyOutput(firstFile: string, source: SourceInfo, preset: QuantPreset, outDir: string): Promise<{ bytes: number; fileType?: number }> {
  let model: GgufModel;
  try {
    model = await readGgufModel(firstFile);
  } catch (e) {
    const full = (await freeBytes(outDir).catch(() => Infinity)) < 1 << 20;
    throw new QuantizeError(full ? "disk-full" : "verify-failed", full
      ? `The disk holding ${outDir} ran out of space: llama-quantize wrote a truncated file (${e instanceof Error ? e.message : String(e)}); it was removed`
      : `llama-quantize finished but its output does not read as a GGUF: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (model.tensors.length !== source.model.tensors.length) {
    throw new QuantizeError("verify-failed", `The output holds ${model.tensors.length} tensors, the source ${source.model.tensors.length}`);
  }
  const fileType = metadataNumber(model.metadata, "general.file_type");
  const expected = canonicalPreset(preset);
  if (expected.quantizes && fileType !== expected.ftype) {
    throw new QuantizeError("verify-failed", `The output says file type ${String(fileType)}, expected ${expected.ftype} (${expected.name})`);
  }
  return { bytes: model.shards.reduce((a, s) => a + s.fileSize, 0), ...(fileType !== undefined ? { fileType } : {}) };
}

/** SHA-256 over the files in order; abortable; reports its fraction. */
export async function hashFiles(files: readonly string[], signal?: AbortSignal, onFraction?: (f: number) => void): Promise<string> {
  const hash = crypto.createHash("sha256");
  const sizes = await Promise.all(files.map(async (f) => (await fs.promises.stat(f)).size));
  const total = sizes.reduce((a, b) => a + b, 0) || 1;
  let done = 0;
  let lastReport = 0;
  for (const f of files) {
    for await (const chunk of fs.createReadStream(f, { highWaterMark: 4 << 20 })) {
      if (signal?.aborted) throw new ToolCancelledError("sha256");
      hash.update(chunk as Buffer);
      done += (chunk as Buffer).length;
      if (onFraction && Date.now() - lastReport > 200) {
        lastReport = Date.now();
        onFraction(done / total);
      }
    }
  }
  return hash.digest("hex");
}

