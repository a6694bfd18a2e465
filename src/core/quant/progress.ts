// Parsers for what llama-quantize and llama-imatrix print, turned into progress and facts.
// Formats from the bundled source (src/llama-quant.cpp, tools/imatrix/imatrix.cpp).
import type { ToolProgress } from "../native/toolRunner";

export interface QuantizeTensorLine {
  /** 1-based position. */
  readonly index: number;
  readonly total: number;
  readonly name: string;
  readonly shape: readonly number[];
  /** Source type as ggml names it, upper-cased ("F16"). */
  readonly sourceType: string;
  /** Target type when the tensor is converted (upper-cased), undefined when it is copied as-is. */
  readonly targetType?: string;
  readonly sourceMiB?: number;
  readonly targetMiB?: number;
}

// "[  12/  57] blk.1.attn_q.weight   - [   256,    256,      1,      1], type =    f16, ..."
const TENSOR_LINE = /^\[\s*(\d+)\s*\/\s*(\d+)\]\s+(\S+)\s+-\s+\[([\d,\s]+)\],\s+type\s+=\s+(\S+?),\s*(.*)$/;
// Dry run:  "size =     0.12 MiB ->     0.04 MiB (q4_K)"
// Real run: "converting to q4_K .. size =     0.12 MiB ->     0.04 MiB"
// Copied:   "size =    0.001 MiB"
const CONVERT = /converting to (\S+) \.\./;
const SIZES = /size\s*=\s*([\d.]+)\s*MiB(?:\s*->\s*([\d.]+)\s*MiB(?:\s*\((\S+)\))?)?/;

/** One per-tensor line of llama-quantize (dry run or real), or undefined for any other line. */
export function parseQuantizeTensorLine(line: string): QuantizeTensorLine | undefined {
  const m = TENSOR_LINE.exec(line.trim());
  if (!m) return undefined;
  const rest = m[6];
  const sizes = SIZES.exec(rest);
  const converted = CONVERT.exec(rest)?.[1] ?? sizes?.[3];
  const shape = m[4].split(",").map((s) => Number(s.trim())).filter((n) => Number.isFinite(n));
  // ggml pads shapes to 4 dims with 1s; drop the padding so shapes compare with the GGUF core's.
  while (shape.length > 1 && shape[shape.length - 1] === 1) shape.pop();
  return {
    index: Number(m[1]),
    total: Number(m[2]),
    name: m[3],
    shape,
    sourceType: m[5].toUpperCase(),
    ...(converted ? { targetType: converted.toUpperCase() } : {}),
    ...(sizes ? { sourceMiB: Number(sizes[1]) } : {}),
    ...(sizes?.[2] ? { targetMiB: Number(sizes[2]) } : sizes ? { targetMiB: Number(sizes[1]) } : {}),
  };
}

/** Progress for the runner: fraction of tensors done. */
export function parseQuantizeProgress(line: string): ToolProgress | undefined {
  const t = parseQuantizeTensorLine(line);
  if (!t || t.total <= 0) return undefined;
  return { fraction: t.index / t.total, message: `tensor ${t.index}/${t.total}: ${t.name}` };
}

export interface QuantizeSummary {
  readonly modelMiB?: number;
  readonly modelBpw?: number;
  readonly quantMiB?: number;
  readonly quantBpw?: number;
  /** The dry run warns that the real run will refuse without an imatrix. */
  readonly requiresImatrix: boolean;
  /** "N of M tensor(s) required fallback quantization". */
  readonly fallbackTensors?: number;
}

/** The closing summary lines of llama-quantize (both modes). */
export function parseQuantizeSummary(lines: readonly string[]): QuantizeSummary {
  let modelMiB: number | undefined;
  let modelBpw: number | undefined;
  let quantMiB: number | undefined;
  let quantBpw: number | undefined;
  let requiresImatrix = false;
  let fallbackTensors: number | undefined;
  for (const line of lines) {
    const model = /model size\s*=\s*([\d.]+)\s*MiB\s*\(([\d.]+)\s*BPW\)/.exec(line);
    if (model) [modelMiB, modelBpw] = [Number(model[1]), Number(model[2])];
    const quant = /quant size\s*=\s*([\d.]+)\s*MiB\s*\(([\d.]+)\s*BPW\)/.exec(line);
    if (quant) [quantMiB, quantBpw] = [Number(quant[1]), Number(quant[2])];
    if (/will require an imatrix|requires an importance matrix/.test(line)) requiresImatrix = true;
    const fb = /(\d+) of \d+ tensor\(s\) required fallback quantization/.exec(line);
    if (fb) fallbackTensors = Number(fb[1]);
  }
  return { modelMiB, modelBpw, quantMiB, quantBpw, requiresImatrix, ...(fallbackTensors !== undefined ? { fallbackTensors } : {}) };
}

/**
 * llama-imatrix progress. It prints "computing over N chunks" once, then "[i]ppl," per chunk on one
 * growing line (no newline until the end), so a line may hold several chunks: the last one counts.
 * Stateful: create one parser per run.
 */
export function createImatrixProgressParser(): (line: string) => ToolProgress | undefined {
  let totalChunks: number | undefined;
  return (line: string) => {
    const start = /computing over (\d+) chunks/.exec(line);
    if (start) {
      totalChunks = Number(start[1]);
      return { fraction: 0, message: `0/${totalChunks} chunks` };
    }
    if (/^\s*Final estimate/.test(line)) return totalChunks ? { fraction: 1, message: `${totalChunks}/${totalChunks} chunks` } : undefined;
    const chunks = [...line.matchAll(/\[(\d+)\]\s*([\d.]+|nan|inf),/gi)];
    const last = chunks.at(-1);
    if (!last || !totalChunks) return undefined;
    const done = Math.min(Number(last[1]), totalChunks);
    return { fraction: done / totalChunks, message: `chunk ${done}/${totalChunks} (PPL ${last[2]})` };
  };
}

/** The tool's stated reason for refusing a calibration text, when it printed one. */
export function parseImatrixTooShort(lines: readonly string[]): { needed: number; got: number } | undefined {
  let needed: number | undefined;
  let got: number | undefined;
  for (const l of lines) {
    const a = /you need at least (\d+) tokens/.exec(l);
    if (a) needed = Number(a[1]);
    const b = /tokenizes to only (\d+) tokens/.exec(l);
    if (b) got = Number(b[1]);
  }
  return needed !== undefined && got !== undefined ? { needed, got } : undefined;
}
