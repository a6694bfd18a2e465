// `gguf-studio eval mc` (multiple-choice accuracy, flips, efficiency) and `gguf-studio eval
// divergence` (greedy Divergence@N), in-process through node-llama-cpp.
import path from "node:path";
import type { AccuracyResultRecord, McFormat } from "../../core/eval/accuracyRecords";
import { DEFAULT_DIVERGENCE_TOKENS, runDivergenceJob, type DivergenceJobResult } from "../../core/eval/divergenceJob";
import type { GpuChoice } from "../../core/eval/llamaModel";
import { formatBytes } from "../../core/eval/logitsCache";
import { DEFAULT_SHOTS, isFailure, runMcJob, type EvalProgress, type McJobResult } from "../../core/eval/mcJob";
import { KldResultsStore } from "../../core/eval/resultsStore";
import { CliCommand, CliIo, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";

const COMMON_VALUED = ["gpu", "ngl", "threads", "store"];
const MC_VALUED = ["set", "dev", "shots", "format", "limit", ...COMMON_VALUED];
const DIV_VALUED = ["prompts", "tokens", ...COMMON_VALUED];

function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

function accuracyRow(r: AccuracyResultRecord): string[] {
  const f = r.flips;
  return [
    r.quantName + (r.isBase ? " (base)" : ""),
    formatBytes(r.quantBytes),
    `${r.accuracy.accuracy.toFixed(2)}% ± ${r.accuracy.stderr.toFixed(2)}`,
    r.isBase ? "–" : f ? `${f.flips} (${f.flipsPercent.toFixed(2)}%)` : "refused",
    f ? String(f.wrongToRight) : "–",
    f ? String(f.rightToWrong) : "–",
    r.efficiency.toFixed(2),
    r.questionsPerSecond.toFixed(1),
  ];
}

export function formatMcReport(result: McJobResult): string {
  const ok = [result.base, ...result.quants.filter((q): q is AccuracyResultRecord => !isFailure(q))];
  const b = result.base;
  let text = `${result.questions} questions, ${b.shots}-shot, ${b.format} format, chance ${b.chance.toFixed(2)}%; ${result.runtimeVersion}\n`;
  text += table(["model", "size", "accuracy ± se", "flips", "w→r", "r→w", "efficiency", "q/s"], ok.map(accuracyRow));
  const subjects = b.subjects.map((s) => s.subject);
  if (subjects.length > 1) {
    text += "\nper subject (accuracy %):\n";
    text += table(["model", ...subjects], ok.map((r) => [r.quantName, ...subjects.map((s) => r.subjects.find((x) => x.subject === s)?.accuracy.toFixed(1) ?? "–")]));
  }
  for (const q of result.quants) if (!isFailure(q) && q.flipsRefused) text += `note: ${q.flipsRefused}\n`;
  return text;
}

export function formatDivergenceReport(result: DivergenceJobResult): string {
  const rows = result.quants.filter((q) => !("error" in q)).map((q) => {
    const r = q as Exclude<typeof q, { error: string }>;
    const firstAt = r.stats.firstDivergence.map((c, i) => (c > 0 ? `${i}:${c}` : "")).filter(Boolean).join(" ");
    return [r.quantName, formatBytes(r.quantBytes), `${r.stats.exactMatchPercent.toFixed(1)}%`, r.stats.meanMatchingPrefix.toFixed(2), firstAt || "–"];
  });
  return `base ${result.base.name}; ${result.prompts} prompts, ${result.tokens} greedy tokens each; ${result.runtimeVersion}\n` +
    table([`model`, "size", `exact@${result.tokens}`, "mean prefix", "first divergence (position:count)"], rows);
}

function shellQuote(args: readonly string[]): string {
  return args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

interface Common {
  one(name: string): string | undefined;
  int(name: string, min?: number): number | undefined;
  gpu: GpuChoice;
  store?: KldResultsStore;
  progress: (p: EvalProgress) => void;
}

function common(args: readonly string[], valued: readonly string[], io: CliIo): { c: Common; positional: string[]; json: boolean } {
  const { flags, positional } = parseFlags(args, valued);
  rejectUnknownFlags(flags, [...valued, "json"]);
  const one = (name: string) => flags.get(name)?.at(-1);
  const int = (name: string, min = 1) => {
    const v = one(name);
    if (v === undefined) return undefined;
    if (!/^\d+$/.test(v) || Number(v) < min) throw new CliUsageError(`--${name} needs a whole number ≥ ${min}, got "${v}"`);
    return Number(v);
  };
  const gpu = one("gpu") ?? "auto";
  if (gpu !== "auto" && gpu !== "cpu") throw new CliUsageError("--gpu must be auto or cpu");
  if (positional.length < 1) throw new CliUsageError("give BASE (and the quants to compare with it)");
  let lastKey = "";
  const progress = (p: EvalProgress) => {
    const tenth = Math.floor((10 * p.done) / p.total);
    const key = `${p.model}:${tenth}`;
    if (key !== lastKey) io.err(`${p.model === 0 ? "base" : `quant ${p.model}/${p.models - 1}`} ${p.name}: ${p.done}/${p.total}\n`);
    lastKey = key;
  };
  const store = one("store");
  return { c: { one, int, gpu, progress, ...(store ? { store: new KldResultsStore(path.resolve(store)) } : {}) }, positional, json: flags.has("json") };
}

async function runMc(args: readonly string[], io: CliIo): Promise<number> {
  const { c, positional, json } = common(args, MC_VALUED, io);
  const set = c.one("set");
  if (!set) throw new CliUsageError("give the question set with --set FILE");
  const format = (c.one("format") ?? "raw") as McFormat;
  if (format !== "raw" && format !== "chat") throw new CliUsageError("--format must be raw or chat");
  const [base, ...quants] = positional;
  const result = await runMcJob({
    basePath: base, quants, setPath: set, ...(c.one("dev") ? { devPath: c.one("dev") } : {}),
    shots: c.int("shots", 0) ?? DEFAULT_SHOTS, format, ...(c.int("limit") !== undefined ? { limit: c.int("limit") } : {}),
    gpu: c.gpu, ...(c.int("ngl", 0) !== undefined ? { gpuLayers: c.int("ngl", 0) } : {}), ...(c.int("threads") !== undefined ? { threads: c.int("threads") } : {}),
    commandLine: `gguf-studio eval mc ${shellQuote(args)}`, ...(c.store ? { store: c.store } : {}), signal: io.signal, onProgress: c.progress,
  });
  io.out(json ? JSON.stringify(result, null, 2) + "\n" : formatMcReport(result));
  const failed = result.quants.filter(isFailure);
  for (const f of failed) io.err(`error: ${f.quantName}: ${f.error}\n`);
  return failed.length > 0 ? 1 : 0;
}

async function runDivergence(args: readonly string[], io: CliIo): Promise<number> {
  const { c, positional, json } = common(args, DIV_VALUED, io);
  const prompts = c.one("prompts");
  if (!prompts) throw new CliUsageError("give the prompts with --prompts FILE");
  if (positional.length < 2) throw new CliUsageError("give BASE and at least one QUANT");
  const [base, ...quants] = positional;
  const result = await runDivergenceJob({
    basePath: base, quants, promptsPath: prompts, tokens: c.int("tokens") ?? DEFAULT_DIVERGENCE_TOKENS,
    gpu: c.gpu, ...(c.int("ngl", 0) !== undefined ? { gpuLayers: c.int("ngl", 0) } : {}), ...(c.int("threads") !== undefined ? { threads: c.int("threads") } : {}),
    commandLine: `gguf-studio eval divergence ${shellQuote(args)}`, ...(c.store ? { store: c.store } : {}), signal: io.signal, onProgress: c.progress,
  });
  io.out(json ? JSON.stringify(result, null, 2) + "\n" : formatDivergenceReport(result));
  const failed = result.quants.filter((q): q is Extract<typeof q, { error: string }> => "error" in q);
  for (const f of failed) io.err(`error: ${f.quantName}: ${f.error}\n`);
  return failed.length > 0 ? 1 : 0;
}

export const evalCommand: CliCommand = {
  name: "eval",
  summary: "multiple-choice accuracy, flips and efficiency (eval mc); greedy divergence (eval divergence)",
  usage: `usage: gguf-studio eval mc BASE [QUANT...] --set FILE [--dev FILE] [--shots ${DEFAULT_SHOTS}] [--format raw|chat] [--limit N] [--json] [options]
       gguf-studio eval divergence BASE QUANT... --prompts FILE [--tokens ${DEFAULT_DIVERGENCE_TOKENS}] [--json] [options]

eval mc: k-shot multiple-choice accuracy as the original MMLU harness prompts it (subject header,
k solved examples, "Answer:"), scored by the answer letters' logits with both spellings ("A" and
" A", the better counts). Reports accuracy ± standard error, per subject, flips against BASE
(wrong→right, right→wrong) and efficiency = (accuracy% − chance%) / GB on disk.

--set FILE        JSONL {question, choices[], answer (index or letter), subject?}, an MMLU CSV
                  (question,A,B,C,D,answer; subject from the file name) or a folder of them
                  (MMLU's data/ folder: test/ and dev/)
--dev FILE        the dev split the shots come from (else the first k questions of each subject,
                  which are then not scored)
--shots N         solved examples before each question (default ${DEFAULT_SHOTS})
--format F        raw (default) or chat: the same prompt as one user message through the model's
                  chat template, with its generation prompt
--limit N         score only the first N questions

eval divergence: BASE and each QUANT greedy-decode N tokens from every prompt; reports the rate of
prompts whose N tokens all match, the mean matching prefix and where they first differ.

--prompts FILE    plain text (one prompt per line) or JSONL ({"prompt": "…"} or a conversation
                  {"messages": [{"role","content"}]}, rendered with the chat template)
--tokens N        tokens to generate (default ${DEFAULT_DIVERGENCE_TOKENS})

options:
--gpu auto|cpu    node-llama-cpp backend (default auto: CUDA/Metal/Vulkan when present)
--ngl N           GPU layers (default: node-llama-cpp's choice)
--threads N       CPU threads
--store DIR       also add the results to the results store in DIR (beside the KLD results)
--json            print every result as JSON

A quant with a different vocabulary from BASE is refused for flips and divergence; a model that
fails to load is reported (exit 1) and the others still run.
`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "mc") return runMc(rest, io);
    if (sub === "divergence") return runDivergence(rest, io);
    throw new CliUsageError(sub ? `unknown eval subcommand "${sub}" (mc or divergence)` : "give a subcommand: mc or divergence");
  },
};
