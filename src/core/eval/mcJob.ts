// Multiple-choice evaluation of a base model and its quants, in-process through node-llama-cpp.
// Each model is loaded once; questions are evaluated in subject order, so the KV cache keeps the
// subject's header and shots and each question adds only its own tokens. Only the answer letters'
// logits are read. The base runs first (the reference for flips); a quant that fails to load is
// reported and the others still run; cancel stops between questions and keeps finished results.
import fs from "node:fs";
import path from "node:path";
import { readGgufModel } from "../gguf/splitSet";
import { accuracyBySubject, accuracyOf, chancePercent, efficiency, flipsAgainst, type QuestionOutcome } from "./accuracyStats";
import type { AccuracyResultRecord, McFormat } from "./accuracyRecords";
import { allLetterIds, answerLetterTokens, chooseLetter, type LetterTokens } from "./answerLetters";
import { chatRenderer } from "./chatPrompt";
import { fileFingerprint, textFingerprint } from "./fileFingerprint";
import { modelBits } from "./kldJob";
import { loadEvalModel, openLlamaRuntime, type EvalModel, type GpuChoice, type LlamaRuntime } from "./llamaModel";
import { buildMcPrompts, type McPromptItem } from "./mcPrompt";
import { LETTERS, loadQuestionSet } from "./questionSet";
import type { KldResultsFile, KldResultsStore } from "./resultsStore";
import { vocabFingerprint } from "./vocabFingerprint";

export class EvalCancelledError extends Error {
  constructor(readonly finished: number) {
    super(`cancelled (${finished} model${finished === 1 ? "" : "s"} finished; their results are kept)`);
    this.name = "EvalCancelledError";
  }
}

export interface EvalProgress {
  /** 0 = base, 1.. = quants. */
  readonly model: number;
  readonly models: number;
  readonly name: string;
  readonly done: number;
  readonly total: number;
}

/** What every in-process evaluation of a base and its quants takes besides its own inputs. */
export interface EvalRunOptions {
  readonly basePath: string;
  readonly quants: readonly string[];
  readonly gpu?: GpuChoice;
  readonly gpuLayers?: number;
  readonly threads?: number;
  /** How this run was asked for (CLI line or palette command), kept with the results. */
  readonly commandLine: string;
  readonly store?: KldResultsStore;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: EvalProgress) => void;
  /** A runtime to reuse (tests, benchmarks); else one is opened and disposed. */
  readonly runtime?: LlamaRuntime;
}

export interface McJobOptions extends EvalRunOptions {
  readonly setPath: string;
  readonly devPath?: string;
  readonly shots?: number;
  readonly format?: McFormat;
  readonly limit?: number;
}

export interface McModelFailure {
  readonly quantPath: string;
  readonly quantName: string;
  readonly error: string;
}

export interface McJobResult {
  readonly base: AccuracyResultRecord;
  readonly quants: readonly (AccuracyResultRecord | McModelFailure)[];
  readonly questions: number;
  readonly runtimeVersion: string;
  readonly resultsFile?: string;
}

export function isFailure(r: AccuracyResultRecord | McModelFailure): r is McModelFailure {
  return "error" in r;
}

export const DEFAULT_SHOTS = 5;

/** The prompt text of one question for `format`, split where the shared part ends. */
function promptText(item: McPromptItem, format: McFormat, render?: (content: string) => string): { text: string; special: boolean } {
  if (format === "raw") return { text: item.prefix + item.suffix, special: false };
  // The whole k-shot prompt is one user message; the answer follows the generation prompt.
  return { text: (render as (c: string) => string)(item.prefix + item.suffix), special: true };
}

interface ScoredRun {
  readonly outcomes: QuestionOutcome[];
  readonly durationMs: number;
  readonly promptTokens: { evaluated: number; reused: number };
}

async function scoreModel(model: EvalModel, items: readonly McPromptItem[], o: McJobOptions, report: (done: number) => void): Promise<ScoredRun> {
  const format = o.format ?? "raw";
  let render: ((content: string) => string) | undefined;
  if (format === "chat") {
    const r = chatRenderer(model.chatTemplate, path.basename(model.path), model.bosString, model.eosString);
    render = (content) => r.render([{ role: "user", content }]);
  }
  const prompts = items.map((it) => {
    const { text, special } = promptText(it, format, render);
    return model.promptTokens(text, special);
  });
  const letterCache = new Map<number, { letters: LetterTokens[]; ids: number[] }>();
  const lettersFor = (n: number) => {
    let l = letterCache.get(n);
    if (!l) {
      const letters = answerLetterTokens((t) => model.tokenize(t), n);
      l = { letters, ids: allLetterIds(letters) };
      letterCache.set(n, l);
    }
    return l;
  };
  const contextSize = Math.max(...prompts.map((p) => p.length)) + 1;
  if (contextSize > model.model.trainContextSize) {
    const worst = prompts.findIndex((p) => p.length + 1 === contextSize);
    const q = items[worst].question;
    throw new Error(`the prompt of ${q.file}:${q.line} has ${contextSize - 1} tokens, more than ${path.basename(model.path)}'s context (${model.model.trainContextSize}); use fewer shots`);
  }
  const session = await model.openSession(contextSize, o.threads);
  const started = Date.now();
  const outcomes: QuestionOutcome[] = [];
  try {
    for (let i = 0; i < items.length; i++) {
      if (o.signal?.aborted) throw new EvalCancelledError(0);
      const q = items[i].question;
      const { letters, ids } = lettersFor(q.choices.length);
      const logits = await session.logitsAfter(prompts[i], ids);
      outcomes.push({ id: q.id, subject: q.subject, choiceCount: q.choices.length, answer: q.answer, chosen: chooseLetter(logits, letters).choice });
      report(i + 1);
    }
  } finally {
    await session.dispose();
  }
  return { outcomes, durationMs: Date.now() - started, promptTokens: { ...session.stats } };
}

export async function runMcJob(o: McJobOptions): Promise<McJobResult> {
  const set = await loadQuestionSet(o.setPath, o.devPath);
  const shots = o.shots ?? DEFAULT_SHOTS;
  const items = buildMcPrompts(set, { shots, ...(o.limit !== undefined ? { limit: o.limit } : {}) });
  if (items.length === 0) throw new Error(`${o.setPath}: no questions left to score`);
  const setFingerprint = textFingerprint(Buffer.concat(await Promise.all(set.files.map((f) => fs.promises.readFile(f)))));
  const models = [o.basePath, ...o.quants];
  const baseGguf = await readGgufModel(o.basePath);
  const baseBits = modelBits(baseGguf);
  const baseInfo: KldResultsFile["base"] = { path: o.basePath, name: path.basename(o.basePath), fingerprint: await fileFingerprint(o.basePath), bytes: baseBits.fileBytes, bitsPerWeight: baseBits.bpw };
  const baseVocab = await vocabFingerprint(o.basePath);
  const runtime = o.runtime ?? (await openLlamaRuntime(o.gpu ?? "auto"));
  let resultsFile: string | undefined;
  let base: AccuracyResultRecord | undefined;
  const quants: (AccuracyResultRecord | McModelFailure)[] = [];
  try {
    for (let m = 0; m < models.length; m++) {
      const file = models[m];
      const name = path.basename(file);
      if (o.signal?.aborted) throw new EvalCancelledError(m);
      let record: AccuracyResultRecord;
      try {
        const isBase = m === 0;
        const vocab = isBase ? baseVocab : await vocabFingerprint(file);
        const bits = isBase ? baseBits : modelBits(await readGgufModel(file));
        const bytes = bits.fileBytes;
        const model = await loadEvalModel(runtime, file, { ...(o.gpuLayers !== undefined ? { gpuLayers: o.gpuLayers } : {}), ...(o.signal ? { signal: o.signal } : {}) });
        let run: ScoredRun;
        try {
          run = await scoreModel(model, items, o, (done) => o.onProgress?.({ model: m, models: models.length, name, done, total: items.length }));
        } finally {
          await model.dispose();
        }
        const acc = accuracyOf(run.outcomes);
        const chance = chancePercent(run.outcomes);
        const sameVocab = vocab === baseVocab;
        record = {
          id: `${Date.now().toString(36)}-${m}`,
          quantPath: file, quantName: name, quantFingerprint: isBase ? baseInfo.fingerprint : await fileFingerprint(file), quantBytes: bytes, bitsPerWeight: bits.bpw, isBase,
          setPath: o.setPath, setFingerprint, shots, format: o.format ?? "raw", ...(o.limit !== undefined ? { limit: o.limit } : {}),
          accuracy: acc, subjects: accuracyBySubject(run.outcomes), chance, efficiency: efficiency(acc.accuracy, chance, bytes),
          ...(!isBase && base && sameVocab ? { flips: flipsAgainst(outcomesOf(base, items), run.outcomes) } : {}),
          ...(!isBase && !sameVocab ? { flipsRefused: `${name} has a different vocabulary from ${baseInfo.name}: flips are not comparable` } : {}),
          chosen: run.outcomes.map((x) => LETTERS[x.chosen]).join(""),
          runtimeVersion: runtime.version, commandLine: o.commandLine, createdAt: new Date().toISOString(),
          durationMs: run.durationMs, questionsPerSecond: run.durationMs > 0 ? (1000 * items.length) / run.durationMs : 0, promptTokens: run.promptTokens,
        };
      } catch (e) {
        if (e instanceof EvalCancelledError || o.signal?.aborted) throw new EvalCancelledError(m);
        // The base is the reference for everything else: without it there is nothing to compare.
        if (m === 0) throw e;
        quants.push({ quantPath: file, quantName: name, error: e instanceof Error ? e.message : String(e) });
        continue;
      }
      if (m === 0) base = record;
      else quants.push(record);
      if (o.store) resultsFile = await o.store.addAccuracy(baseInfo, record);
    }
  } finally {
    if (!o.runtime) await runtime.dispose();
  }
  return { base: base as AccuracyResultRecord, quants, questions: items.length, runtimeVersion: runtime.version, ...(resultsFile ? { resultsFile } : {}) };
}

/** Per-question outcomes back from a record's chosen letters. */
export function outcomesOf(record: AccuracyResultRecord, items: readonly McPromptItem[]): QuestionOutcome[] {
  return items.map((it, i) => ({ id: it.question.id, subject: it.question.subject, choiceCount: it.question.choices.length, answer: it.question.answer, chosen: LETTERS.indexOf(record.chosen[i]) }));
}
