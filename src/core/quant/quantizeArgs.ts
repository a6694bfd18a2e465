// Argument lists for llama-quantize and llama-imatrix, and the path/offload rules around them.
// Pure functions: the job runner and the CLI share them, and tests check them without a tool.
import path from "node:path";
import type { ToolBackend } from "../native/toolLocator";
import { splitShardPath } from "../gguf";
import { findQuantPreset } from "./presets";

export interface QuantizeArgsOptions {
  readonly input: string;
  readonly output: string;
  /** Preset name as llama-quantize takes it ("Q4_K_M"). */
  readonly type: string;
  readonly imatrix?: string;
  readonly allowRequantize?: boolean;
  readonly outputTensorType?: string;
  readonly tokenEmbeddingType?: string;
  readonly pure?: boolean;
  readonly keepSplit?: boolean;
  /** `pattern=type` lines; written by a recipe compiler. */
  readonly tensorTypeFile?: string;
  /** Single `--tensor-type pattern=type` overrides, in order (last match wins in the tool). */
  readonly tensorTypes?: readonly string[];
  readonly dryRun?: boolean;
  /** 0 or undefined: the tool's default (all hardware threads). */
  readonly threads?: number;
}

/** `llama-quantize [flags] in out TYPE [nthreads]`, in the tool's argument order. */
export function buildQuantizeArgs(o: QuantizeArgsOptions): string[] {
  const args: string[] = [];
  if (o.allowRequantize) args.push("--allow-requantize");
  if (o.imatrix) args.push("--imatrix", o.imatrix);
  if (o.outputTensorType) args.push("--output-tensor-type", o.outputTensorType.toLowerCase());
  if (o.tokenEmbeddingType) args.push("--token-embedding-type", o.tokenEmbeddingType.toLowerCase());
  for (const tt of o.tensorTypes ?? []) args.push("--tensor-type", tt);
  if (o.tensorTypeFile) args.push("--tensor-type-file", o.tensorTypeFile);
  if (o.pure) args.push("--pure");
  if (o.keepSplit) args.push("--keep-split");
  if (o.dryRun) args.push("--dry-run");
  // The output path is always given, even for a dry run: without it the tool would take the type
  // for the output name when the path happens to parse as a type.
  args.push(o.input, o.output, o.type);
  if (o.threads && o.threads > 0) args.push(String(Math.floor(o.threads)));
  return args;
}

export interface ImatrixArgsOptions {
  readonly model: string;
  readonly calibration: string;
  readonly output: string;
  /** Context per chunk; llama-imatrix needs at least 2× this many tokens. Default 512. */
  readonly contextSize?: number;
  /** Cap on chunks; undefined: all the text. */
  readonly chunks?: number;
  readonly threads?: number;
  /** -ngl; 0 keeps everything on the CPU. */
  readonly gpuLayers?: number;
  /** Rendered chat calibration contains special tokens that must be parsed as such. */
  readonly parseSpecial?: boolean;
}

export const DEFAULT_IMATRIX_CONTEXT = 512;

export function buildImatrixArgs(o: ImatrixArgsOptions): string[] {
  const ctx = o.contextSize ?? DEFAULT_IMATRIX_CONTEXT;
  const args = ["-m", o.model, "-f", o.calibration, "-o", o.output, "-c", String(ctx)];
  if (o.chunks !== undefined && o.chunks > 0) args.push("--chunks", String(Math.floor(o.chunks)));
  if (o.threads && o.threads > 0) args.push("-t", String(Math.floor(o.threads)));
  args.push("-ngl", String(Math.max(0, Math.floor(o.gpuLayers ?? 0))));
  if (o.parseSpecial) args.push("--parse-special");
  return args;
}

export type GpuOffloadSetting = "auto" | "cpu" | "gpu";
/** All layers: llama.cpp clamps to the model's count. */
export const FULL_OFFLOAD_LAYERS = 999;

/**
 * Layers to offload for imatrix/KLD runs: full offload when the tools were built for CUDA or Metal
 * (or the user forces "gpu"), none otherwise. An explicit number wins over the setting.
 */
export function resolveGpuLayers(setting: GpuOffloadSetting, backend: ToolBackend, explicit?: number): number {
  if (explicit !== undefined) return Math.max(0, Math.floor(explicit));
  if (setting === "cpu") return 0;
  if (setting === "gpu") return FULL_OFFLOAD_LAYERS;
  return backend === "cuda" || backend === "metal" ? FULL_OFFLOAD_LAYERS : 0;
}

const SPLIT_SUFFIX = /-(\d{5})-of-(\d{5})\.gguf$/i;

/** "<model>-<TYPE>.gguf" next to the source; a split source drops its "-0000i-of-0000N". */
export function defaultOutputPath(source: string, type: string): string {
  const dir = path.dirname(source);
  const base = path.basename(source).replace(SPLIT_SUFFIX, "").replace(/\.gguf$/i, "");
  // A source named after its own precision ("model-F16") becomes "model-Q4_K_M", not "model-F16-Q4_K_M".
  const stem = base.replace(/[-_.](F32|F16|BF16)$/i, "");
  const preset = findQuantPreset(type);
  const suffix = preset ? preset.name : type.toUpperCase();
  const candidate = path.join(dir, `${stem}-${suffix}.gguf`);
  // "model-F16.gguf" to F16 would name the source itself: keep the full name then.
  return path.resolve(candidate) === path.resolve(source) ? path.join(dir, `${base}-${suffix}.gguf`) : candidate;
}

/**
 * Shard names llama-quantize writes with --keep-split for output "<prefix>.gguf":
 * "<prefix>-00001-of-00003.gguf" (it strips ".gguf" and appends llama_split_path's suffix).
 */
export function keepSplitOutputPaths(output: string, count: number): string[] {
  const prefix = output.replace(/\.gguf$/i, "");
  return Array.from({ length: count }, (_, i) => splitShardPath(prefix, i, count));
}

/** "a b" → "'a b'": how a command line is shown and recorded (no shell ever runs it). */
export function formatCommandLine(executable: string, args: readonly string[]): string {
  return [executable, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}
