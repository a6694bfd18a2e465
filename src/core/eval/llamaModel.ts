// The one module that loads whole models (weights, context) through node-llama-cpp for the accuracy
// and divergence evaluations. In-process: a context keeps its KV cache between prompts, so the
// k-shot prefix of a subject is evaluated once and each question only adds its own tokens, and
// only the answer letters' logits are copied out (node-llama-cpp's logits filter).
import fs from "node:fs";
import path from "node:path";
import type { Llama, LlamaContext, LlamaContextSequence, LlamaModel, Token } from "node-llama-cpp";

export type GpuChoice = "auto" | "cpu";

export interface LlamaRuntime {
  readonly llama: Llama;
  /** "cpu", "cuda", "metal" or "vulkan". */
  readonly backend: string;
  /** node-llama-cpp's version and the llama.cpp release its binaries were built from. */
  readonly version: string;
  dispose(): Promise<void>;
}

/** The installed node-llama-cpp's version, found by walking up to node_modules (its exports hide package.json). */
function nodeLlamaCppVersion(): string | undefined {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      return (JSON.parse(fs.readFileSync(path.join(dir, "node_modules", "node-llama-cpp", "package.json"), "utf8")) as { version?: string }).version;
    } catch {
      if (path.dirname(dir) === dir) return undefined;
    }
  }
}

export async function openLlamaRuntime(gpu: GpuChoice = "auto"): Promise<LlamaRuntime> {
  // node-llama-cpp is ESM; a dynamic import keeps the CommonJS bundles loadable without it.
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  // build "never": the prebuilt binaries from npm only; a source build would take minutes in the middle of an evaluation.
  const llama = await getLlama({ gpu: gpu === "cpu" ? false : "auto", build: "never", logLevel: LlamaLogLevel.error });
  const pkg = nodeLlamaCppVersion();
  return {
    llama,
    backend: llama.gpu === false ? "cpu" : llama.gpu,
    version: `node-llama-cpp ${pkg ?? "?"} (llama.cpp ${llama.llamaCppRelease.release})`,
    dispose: () => llama.dispose(),
  };
}

export class ModelLoadError extends Error {
  constructor(readonly modelPath: string, cause: unknown) {
    super(`cannot load ${modelPath}: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "ModelLoadError";
  }
}

export interface EvalModel {
  readonly path: string;
  readonly model: LlamaModel;
  /** Plain text → ids (special-token text such as <|im_start|> parsed only when `special`). */
  tokenize(text: string, special?: boolean): number[];
  /** BOS first when the model wants one (as llama.cpp's tools and the MMLU harness's tokenizer do). */
  promptTokens(text: string, special?: boolean): number[];
  readonly bosString: string;
  readonly eosString: string;
  readonly chatTemplate: string | undefined;
  /** A context able to hold `contextSize` tokens; one sequence. */
  openSession(contextSize: number, threads?: number): Promise<EvalSession>;
  dispose(): Promise<void>;
}

export interface EvalSession {
  /**
   * Logits of `ids` for the token after `tokens`. The evaluated tokens it already holds that match
   * the start of `tokens` are kept (the shared k-shot prefix); the rest is erased and evaluated.
   */
  logitsAfter(tokens: readonly number[], ids: readonly number[]): Promise<Map<number, number>>;
  /** Greedy continuation (temperature 0) of at most `count` tokens; stops early at end-of-generation. */
  greedy(tokens: readonly number[], count: number): Promise<number[]>;
  /** How many prompt tokens were evaluated vs reused so far. */
  readonly stats: { evaluated: number; reused: number };
  dispose(): Promise<void>;
}

export async function loadEvalModel(runtime: LlamaRuntime, modelPath: string, options: { gpuLayers?: number; signal?: AbortSignal } = {}): Promise<EvalModel> {
  let model: LlamaModel;
  try {
    model = await runtime.llama.loadModel({
      modelPath,
      ...(options.gpuLayers !== undefined ? { gpuLayers: options.gpuLayers } : {}),
      ...(options.signal ? { loadSignal: options.signal } : {}),
    });
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new ModelLoadError(modelPath, e);
  }
  const special = (t: Token | null) => (t === null ? "" : model.detokenize([t], true));
  const template = model.fileInfo.metadata?.tokenizer?.chat_template;
  return {
    path: modelPath,
    model,
    tokenize: (text, sp = false) => model.tokenize(text, sp) as number[],
    promptTokens(text, sp = false) {
      const ids = model.tokenize(text, sp) as number[];
      const bos = model.tokens.bos;
      return model.tokens.shouldPrependBosToken && bos !== null && ids[0] !== (bos as number) ? [bos as number, ...ids] : ids;
    },
    bosString: special(model.tokens.bos),
    eosString: special(model.tokens.eos),
    chatTemplate: typeof template === "string" ? template : undefined,
    // Default: the CPU's math cores, not node-llama-cpp's maxThreads (which counts hyper-threads): on a
    // loaded 2-core machine 4 threads were ~40× slower than 1 (spinning threads wait on each other).
    openSession: (contextSize, threads) => openSession(model, contextSize, threads ?? runtime.llama.cpuMathCores),
    dispose: () => model.dispose(),
  };
}

async function openSession(model: LlamaModel, contextSize: number, threads?: number): Promise<EvalSession> {
  const context: LlamaContext = await model.createContext({
    contextSize: Math.min(contextSize, model.trainContextSize),
    sequences: 1,
    ...(threads !== undefined ? { threads } : {}),
  });
  const sequence: LlamaContextSequence = context.getSequence();
  const stats = { evaluated: 0, reused: 0 };

  /** Keeps the longest held prefix of `tokens` (leaving at least the last token to evaluate); returns the rest. */
  async function alignTo(tokens: readonly number[]): Promise<number[]> {
    const held = sequence.contextTokens;
    let common = 0;
    const limit = Math.min(held.length, tokens.length - 1);
    while (common < limit && held[common] === tokens[common]) common++;
    if (common < held.length) await sequence.eraseContextTokenRanges([{ start: common, end: held.length }]);
    stats.reused += common;
    stats.evaluated += tokens.length - common;
    return tokens.slice(common) as number[];
  }

  return {
    stats,
    async logitsAfter(tokens, ids) {
      if (tokens.length === 0) throw new Error("an empty prompt has no next-token logits");
      if (tokens.length > sequence.contextSize) throw new Error(`the prompt has ${tokens.length} tokens, more than the context (${sequence.contextSize})`);
      const rest = await alignTo(tokens);
      const last = rest.length - 1;
      const input = rest.map((t, i) => (i === last ? ([t, { generateNext: { logits: { filter: { tokens: ids } } } }] as const) : t));
      const out = await sequence.controlledEvaluate(input as Parameters<LlamaContextSequence["controlledEvaluate"]>[0]);
      const logits = out[last]?.next.logits;
      if (!logits) throw new Error("node-llama-cpp returned no logits for the last prompt token");
      return new Map(logits);
    },
    async greedy(tokens, count) {
      if (tokens.length + count > sequence.contextSize) throw new Error(`prompt (${tokens.length} tokens) + ${count} generated tokens exceed the context (${sequence.contextSize})`);
      const rest = await alignTo(tokens);
      const produced: number[] = [];
      if (count <= 0) return produced;
      for await (const token of sequence.evaluate(rest as Token[], { temperature: 0 })) {
        produced.push(token as number);
        if (produced.length >= count || model.isEogToken(token)) break;
      }
      return produced;
    },
    async dispose() {
      sequence.dispose();
      await context.dispose();
    },
  };
}
