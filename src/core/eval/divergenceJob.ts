// Greedy divergence of quants against their base: every model greedy-decodes N tokens from the same
// prompts (plain text, or JSONL conversations rendered through the base's chat template); the
// quants' continuations are compared with the base's token by token. A quant with a different
// vocabulary is refused (its token ids mean other strings), named; a quant that fails to load is
// reported and the others still run; cancel stops between prompts and keeps finished results.
import fs from "node:fs";
import path from "node:path";
import { readGgufModel } from "../gguf/splitSet";
import type { DivergenceResultRecord } from "./accuracyRecords";
import { chatRenderer, type PromptMessage } from "./chatPrompt";
import { divergenceStats } from "./divergenceStats";
import { fileFingerprint, textFingerprint } from "./fileFingerprint";
import { modelBits } from "./kldJob";
import { loadEvalModel, openLlamaRuntime, type EvalModel } from "./llamaModel";
import { EvalCancelledError, type EvalRunOptions, type McModelFailure } from "./mcJob";
import { QuestionSetError } from "./questionSet";
import type { KldResultsFile } from "./resultsStore";
import { vocabFingerprint } from "./vocabFingerprint";

export type DivergencePrompt = { readonly kind: "text"; readonly text: string } | { readonly kind: "chat"; readonly messages: readonly PromptMessage[] };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Plain text: one prompt per non-empty line. JSONL (.jsonl, or every line a JSON value): one prompt
 * per line, `{"prompt": "…"}` (raw text, may hold newlines) or a conversation (`{"messages": [{role,
 * content}]}`, ShareGPT `{"conversations": [{from, value}]}`, or a bare array), rendered with the
 * chat template and its generation prompt.
 */
export function parseDivergencePrompts(text: string, file: string): DivergencePrompt[] {
  const lines = text.split("\n");
  const isJsonl = /\.jsonl$/i.test(file) || lines.filter((l) => l.trim()).every((l) => /^\s*[[{]/.test(l));
  const out: DivergencePrompt[] = [];
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].replace(/\r$/, "");
    if (raw.trim() === "") continue;
    if (!isJsonl) { out.push({ kind: "text", text: raw }); continue; }
    const fail = (problem: string): never => { throw new QuestionSetError(file, i + 1, problem); };
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      fail(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
    }
    if (isRecord(v) && typeof v.prompt === "string") {
      if (v.prompt === "") fail('"prompt" is empty');
      out.push({ kind: "text", text: v.prompt });
      continue;
    }
    const list: unknown = Array.isArray(v) ? v : isRecord(v) ? (v.messages ?? v.conversations) : undefined;
    if (!Array.isArray(list) || list.length === 0) fail('expected {"prompt": "…"} or a conversation ({"messages": [{"role", "content"}]})');
    const messages = (list as unknown[]).map((m, k): PromptMessage => {
      if (!isRecord(m)) fail(`message ${k + 1} is not an object`);
      const r = m as Record<string, unknown>;
      const role = typeof r.role === "string" ? r.role : r.from === "human" ? "user" : r.from === "gpt" ? "assistant" : typeof r.from === "string" ? r.from : undefined;
      const content = typeof r.content === "string" ? r.content : typeof r.value === "string" ? r.value : undefined;
      if (role === undefined || content === undefined) fail(`message ${k + 1} needs string "role" and "content"`);
      return { role: role as string, content: content as string };
    });
    out.push({ kind: "chat", messages });
  }
  if (out.length === 0) throw new QuestionSetError(file, undefined, "holds no prompts");
  return out;
}

export const DEFAULT_DIVERGENCE_TOKENS = 32;

export interface DivergenceJobOptions extends EvalRunOptions {
  readonly promptsPath: string;
  readonly tokens?: number;
}

export interface DivergenceJobResult {
  readonly base: { readonly path: string; readonly name: string };
  readonly prompts: number;
  readonly tokens: number;
  readonly quants: readonly (DivergenceResultRecord | McModelFailure)[];
  readonly runtimeVersion: string;
  readonly resultsFile?: string;
}

function tokenizePrompts(model: EvalModel, prompts: readonly DivergencePrompt[]): number[][] {
  const chat = prompts.some((p) => p.kind === "chat") ? chatRenderer(model.chatTemplate, path.basename(model.path), model.bosString, model.eosString) : undefined;
  return prompts.map((p) => (p.kind === "text" ? model.promptTokens(p.text) : model.promptTokens((chat as NonNullable<typeof chat>).render(p.messages), true)));
}

async function generateAll(model: EvalModel, prompts: readonly DivergencePrompt[], count: number, o: DivergenceJobOptions, report: (done: number) => void): Promise<number[][]> {
  const tokenized = tokenizePrompts(model, prompts);
  const session = await model.openSession(Math.max(...tokenized.map((t) => t.length)) + count + 1, o.threads);
  const out: number[][] = [];
  try {
    for (let i = 0; i < tokenized.length; i++) {
      if (o.signal?.aborted) throw new EvalCancelledError(0);
      out.push(await session.greedy(tokenized[i], count));
      report(i + 1);
    }
  } finally {
    await session.dispose();
  }
  return out;
}

export async function runDivergenceJob(o: DivergenceJobOptions): Promise<DivergenceJobResult> {
  const count = o.tokens ?? DEFAULT_DIVERGENCE_TOKENS;
  if (!Number.isInteger(count) || count < 1) throw new Error(`tokens must be a positive whole number, got ${count}`);
  let text: string;
  try {
    text = await fs.promises.readFile(o.promptsPath, "utf8");
  } catch (e) {
    throw new QuestionSetError(o.promptsPath, undefined, (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : `cannot be read (${String(e)})`);
  }
  const prompts = parseDivergencePrompts(text, o.promptsPath);
  const promptsFingerprint = textFingerprint(text);
  const models = [o.basePath, ...o.quants];
  const baseBits = modelBits(await readGgufModel(o.basePath));
  const baseInfo: KldResultsFile["base"] = { path: o.basePath, name: path.basename(o.basePath), fingerprint: await fileFingerprint(o.basePath), bytes: baseBits.fileBytes, bitsPerWeight: baseBits.bpw };
  const baseVocab = await vocabFingerprint(o.basePath);
  const runtime = o.runtime ?? (await openLlamaRuntime(o.gpu ?? "auto"));
  const loadOptions = { ...(o.gpuLayers !== undefined ? { gpuLayers: o.gpuLayers } : {}), ...(o.signal ? { signal: o.signal } : {}) };
  const quants: (DivergenceResultRecord | McModelFailure)[] = [];
  let resultsFile: string | undefined;
  let baseRuns: number[][] = [];
  try {
    for (let m = 0; m < models.length; m++) {
      const file = models[m];
      const name = path.basename(file);
      if (o.signal?.aborted) throw new EvalCancelledError(m);
      let record: DivergenceResultRecord;
      try {
        if (m > 0 && (await vocabFingerprint(file)) !== baseVocab) {
          throw new Error(`${name} has a different vocabulary from ${baseInfo.name}: its tokens cannot be compared (refused)`);
        }
        const model = await loadEvalModel(runtime, file, loadOptions);
        const started = Date.now();
        let runs: number[][];
        try {
          runs = await generateAll(model, prompts, count, o, (done) => o.onProgress?.({ model: m, models: models.length, name, done, total: prompts.length }));
        } finally {
          await model.dispose();
        }
        if (m === 0) { baseRuns = runs; continue; }
        const bits = modelBits(await readGgufModel(file));
        record = {
          id: `${Date.now().toString(36)}-${m}`, quantPath: file, quantName: name, quantFingerprint: await fileFingerprint(file), quantBytes: bits.fileBytes, bitsPerWeight: bits.bpw,
          promptsPath: o.promptsPath, promptsFingerprint, tokens: count, stats: divergenceStats(baseRuns, runs, count),
          runtimeVersion: runtime.version, commandLine: o.commandLine, createdAt: new Date().toISOString(), durationMs: Date.now() - started,
        };
      } catch (e) {
        if (e instanceof EvalCancelledError || o.signal?.aborted) throw new EvalCancelledError(m);
        if (m === 0) throw e;
        quants.push({ quantPath: file, quantName: name, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      quants.push(record);
      if (o.store) resultsFile = await o.store.addDivergence(baseInfo, record);
    }
  } finally {
    if (!o.runtime) await runtime.dispose();
  }
  return { base: { path: o.basePath, name: baseInfo.name }, prompts: prompts.length, tokens: count, quants, runtimeVersion: runtime.version, ...(resultsFile ? { resultsFile } : {}) };
}
