// `gguf-studio kld`: the extension's KL-divergence evaluation, headless. Base logits are computed
// once (cached in --cache DIR, or in a temp folder removed afterwards), then each quant is scored.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_KLD_CONTEXT, runKldJob, type KldJobResult, type KldQuantInput } from "../../core/eval/kldJob";
import { KldResultsStore } from "../../core/eval/resultsStore";
import { LogitsCache, formatBytes } from "../../core/eval/logitsCache";
import type { ValueWithError } from "../../core/eval/perplexityParser";
import { locateTools, probeToolVersion } from "../../core/native/toolLocator";
import { resolveGpuLayers, type GpuOffloadSetting } from "../../core/quant/quantizeArgs";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";

const VALUED = ["text", "calib", "ctx", "chunks", "threads", "ngl", "gpu", "tools", "cache", "store"];
const SWITCHES = ["json"];
/** Base logits of a big model on a long text can take many GiB; the cache evicts oldest entries past this. */
const CACHE_CAP_BYTES = 64 * 1024 ** 3;

/** "0.012345 ± 0.000456" (percent values get a "%"). */
function formatValue(v: ValueWithError | undefined, digits: number): string {
  if (!v) return "n/a";
  const unit = v.percent ? "%" : "";
  return `${v.value.toFixed(digits)}${unit}${v.error !== undefined ? ` ± ${v.error.toFixed(digits)}${unit}` : ""}`;
}

/** One row per quant: what the KLD chart shows, as text. */
export function formatKldTable(result: KldJobResult): string {
  const rows = result.results.map((r) => [
    r.quantName,
    formatBytes(r.quantBytes),
    r.bitsPerWeight.toFixed(2),
    formatValue(r.summary.meanKld, 6),
    r.summary.kld99_9 !== undefined ? r.summary.kld99_9.toFixed(6) : "n/a",
    formatValue(r.summary.sameTopP, 3),
  ]);
  const header = ["quant", "size", "bpw", "mean KLD", "99.9% KLD", "same top p"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  const first = result.results[0];
  return [
    `base ${result.base.name} (${formatBytes(result.base.bytes)}); ${first ? `${first.chunks} chunks of ${first.contextSize} tokens of ${path.basename(first.evalPath)}` : "no quants"}`,
    line(header),
    ...rows.map(line),
  ].join("\n") + "\n";
}

/** A quant made from a recipe sits next to it as X.gguf + X.quant.json (as "Quantize with Recipe…" writes it). */
function quantInput(file: string): KldQuantInput {
  const recipe = file.replace(/\.gguf$/i, ".quant.json");
  return recipe !== file && fs.existsSync(recipe) ? { path: file, origin: "recipe", recipePath: path.resolve(recipe) } : { path: file };
}

export const kldCommand: CliCommand = {
  name: "kld",
  summary: "KL divergence of quants against their base model (llama-perplexity), as the KLD chart measures it",
  usage: `usage: gguf-studio kld BASE QUANT... --text EVAL [--ctx N] [--chunks N] [--json] [options]

Computes BASE's logits on the held-out text EVAL once, then the KL divergence of each QUANT
(made from BASE) against them. Prints mean KLD ± error, 99.9% KLD, same top p and size per quant.

--text EVAL       evaluation text (held out: not the imatrix calibration text)
--ctx N           tokens per chunk (default ${DEFAULT_KLD_CONTEXT})
--chunks N        most chunks of EVAL to use (default: all)
--calib F         the calibration text the quants' imatrix came from: warns when EVAL overlaps it
--threads N       threads for llama-perplexity
--ngl N           GPU layers (default: all on CUDA/Metal tools, else 0)
--gpu auto|cpu|gpu  offload policy when --ngl is not given (default auto)
--cache DIR       keep base logits in DIR for later runs (default: a temp folder, removed after)
--tools DIR       folder holding llama-perplexity
--store DIR       also add the results to the KLD results store in DIR (the extension's chart reads
                  <globalStorage>/kld-results); a quant with X.quant.json next to X.gguf counts as a recipe
--json            print every result (summary, all statistics, command lines) as JSON
`,
  async run(args, io) {
    const { flags, positional } = parseFlags(args, VALUED);
    rejectUnknownFlags(flags, [...VALUED, ...SWITCHES]);
    if (positional.length < 2) throw new CliUsageError("give BASE and at least one QUANT");
    const one = (name: string) => flags.get(name)?.at(-1);
    const int = (name: string) => {
      const v = one(name);
      if (v === undefined) return undefined;
      if (!/^\d+$/.test(v) || Number(v) === 0) throw new CliUsageError(`--${name} needs a positive whole number, got "${v}"`);
      return Number(v);
    };
    const evalPath = one("text");
    if (!evalPath) throw new CliUsageError("give the evaluation text with --text EVAL");
    const gpu = (one("gpu") ?? "auto") as GpuOffloadSetting;
    if (!["auto", "cpu", "gpu"].includes(gpu)) throw new CliUsageError("--gpu must be auto, cpu or gpu");
    const [base, ...quants] = positional;
    const contextSize = int("ctx") ?? DEFAULT_KLD_CONTEXT;
    const chunks = int("chunks");
    const threads = int("threads");

    const location = locateTools({ configuredDir: one("tools") ?? process.env.GGUF_STUDIO_LLAMA_CPP, extensionRoot: path.resolve(__dirname, "..") });
    const perplexity = location.found["llama-perplexity"];
    if (!perplexity) throw new Error(`llama-perplexity not found${location.settingProblem ? ` (${location.settingProblem})` : ""}; pass --tools DIR or run npm run build:native`);
    const toolVersion = (await probeToolVersion(perplexity.path, io.signal).catch(() => undefined))?.version ?? "unknown";

    const given = one("cache");
    const cacheDir = given ?? (await fs.promises.mkdtemp(path.join(os.tmpdir(), "gguf-studio-kld-")));
    try {
      let lastTenth = -1;
      let lastKey = "";
      const result = await runKldJob({
        perplexity: perplexity.path, toolVersion, basePath: base, quants: quants.map(quantInput), evalPath,
        ...(one("calib") ? { calibrationPath: one("calib") } : {}),
        contextSize, chunks, threads, gpuLayers: resolveGpuLayers(gpu, perplexity.backend, int("ngl")),
        cache: new LogitsCache(cacheDir, CACHE_CAP_BYTES), signal: io.signal,
        ...(one("store") ? { store: new KldResultsStore(path.resolve(one("store") as string)) } : {}),
        onWarning: (w) => io.err(`warning: ${w}\n`),
        onProgress: (p) => {
          const key = `${p.stage}${p.index ?? ""}`;
          const tenth = Math.floor(p.fraction * 10);
          if (key !== lastKey) lastTenth = -1;
          if (key !== lastKey || tenth > lastTenth) io.err(`${p.stage === "base" ? "base logits" : `quant ${(p.index ?? 0) + 1}/${p.total}`}: ${Math.round(p.fraction * 100)}% ${p.message}\n`);
          lastKey = key;
          lastTenth = Math.max(lastTenth, tenth);
        },
      });
      io.out(flags.has("json")
        ? JSON.stringify({ base: result.base, results: result.results, warnings: result.warnings }, null, 2) + "\n"
        : formatKldTable(result));
      return 0;
    } finally {
      if (given === undefined) await fs.promises.rm(cacheDir, { recursive: true, force: true });
    }
  },
};
