// Calibration text for llama-imatrix: plain text as-is, or JSONL conversations rendered through the
// model's own chat template (instruct models must be calibrated on what they will really see).
//
// Rendering uses @huggingface/jinja in-process, with the template read from the GGUF. Why not
// llama.cpp's native engine through node-llama-cpp: the native renderer can segfault or wedge the
// whole process on hostile templates (it would need a child process), and node-llama-cpp's own
// JinjaTemplateChatWrapper renders with @huggingface/jinja first anyway. Calibration needs the
// conversation text in the model's format, not byte-exact server parity, so this is enough.
// Tokens are counted with the model's own tokenizer (node-llama-cpp, vocab-only load, CPU, no build)
// so a text too short for llama-imatrix is refused before the tool starts.
import { Template } from "@huggingface/jinja";
import fs from "node:fs";
import path from "node:path";
import { metadataString, readGgufModel } from "../gguf";

export type CalibrationErrorCode = "missing" | "empty" | "too-short" | "bad-jsonl" | "no-template" | "template-error";

export class CalibrationError extends Error {
  constructor(readonly code: CalibrationErrorCode, message: string, readonly file?: string) {
    super(file ? `${path.basename(file)}: ${message}` : message);
    this.name = "CalibrationError";
  }
}

export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}
export type Conversation = readonly ChatMessage[];

export type CalibrationFormat = "text" | "chat-jsonl";

/** JSONL when the name says so, or when the first non-empty line is a JSON conversation record. */
export function detectCalibrationFormat(file: string, text: string): CalibrationFormat {
  if (/\.jsonl$/i.test(file)) return "chat-jsonl";
  const first = text.split("\n").find((l) => l.trim().length > 0)?.trim();
  if (!first?.startsWith("{")) return "text";
  try {
    const v: unknown = JSON.parse(first);
    return isRecord(v) && (Array.isArray(v.messages) || Array.isArray(v.conversations)) ? "chat-jsonl" : "text";
  } catch {
    return "text";
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

const SHAREGPT_ROLES: Readonly<Record<string, string>> = { human: "user", gpt: "assistant", system: "system", user: "user", assistant: "assistant" };

/**
 * One conversation per line: `{"messages":[{"role","content"}]}` (OpenAI style),
 * `{"conversations":[{"from","value"}]}` (ShareGPT) or a bare array of messages.
 */
export function parseConversationsJsonl(text: string, file?: string): Conversation[] {
  const out: Conversation[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line.length === 0) continue;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (e) {
      throw new CalibrationError("bad-jsonl", `line ${i + 1} is not valid JSON (${e instanceof Error ? e.message : String(e)})`, file);
    }
    const list: unknown = Array.isArray(record) ? record : isRecord(record) ? (record.messages ?? record.conversations) : undefined;
    if (!Array.isArray(list) || list.length === 0) {
      throw new CalibrationError("bad-jsonl", `line ${i + 1} has no "messages" (or "conversations") array`, file);
    }
    out.push(
      list.map((m: unknown, k): ChatMessage => {
        if (!isRecord(m)) throw new CalibrationError("bad-jsonl", `line ${i + 1}, message ${k + 1} is not an object`, file);
        const role = typeof m.role === "string" ? m.role : typeof m.from === "string" ? SHAREGPT_ROLES[m.from] ?? m.from : undefined;
        const content = typeof m.content === "string" ? m.content : typeof m.value === "string" ? m.value : undefined;
        if (!role || content === undefined) {
          throw new CalibrationError("bad-jsonl", `line ${i + 1}, message ${k + 1} needs string "role" and "content" (or "from" and "value")`, file);
        }
        return { role, content };
      }),
    );
  }
  if (out.length === 0) throw new CalibrationError("empty", "holds no conversations", file);
  return out;
}

export interface TemplateTokens {
  readonly bosToken: string;
  readonly eosToken: string;
}

/**
 * Renders every conversation with the template and joins them. A leading BOS the template emits is
 * dropped (as llama.cpp's chat path does): llama-imatrix adds its own BOS per chunk.
 */
export function renderConversations(templateSource: string, conversations: readonly Conversation[], tokens: TemplateTokens): string {
  let template: Template;
  try {
    template = new Template(templateSource);
  } catch (e) {
    throw new CalibrationError("template-error", `the model's chat template does not parse: ${e instanceof Error ? e.message : String(e)}`);
  }
  const parts: string[] = [];
  for (let i = 0; i < conversations.length; i++) {
    let text: string;
    try {
      text = template.render({
        messages: conversations[i].map((m) => ({ role: m.role, content: m.content })),
        bos_token: tokens.bosToken,
        eos_token: tokens.eosToken,
        add_generation_prompt: false,
      });
    } catch (e) {
      throw new CalibrationError("template-error", `rendering conversation ${i + 1} failed: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (tokens.bosToken && text.startsWith(tokens.bosToken)) text = text.slice(tokens.bosToken.length);
    parts.push(text);
  }
  return parts.join("\n");
}

/** The model's tokenizer, loaded vocab-only (no weights) through node-llama-cpp on the CPU. */
export interface ModelVocab {
  readonly bosToken: string;
  readonly eosToken: string;
  countTokens(text: string): number;
  dispose(): Promise<void>;
}

export async function openModelVocab(modelPath: string): Promise<ModelVocab> {
  // node-llama-cpp is ESM; a dynamic import keeps this CommonJS bundle loadable without it.
  const { getLlama, LlamaLogLevel } = await import("node-llama-cpp");
  const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  const special = (token: (typeof model.tokens)["bos"]) => (token === null ? "" : model.detokenize([token], true));
  return {
    bosToken: special(model.tokens.bos),
    eosToken: special(model.tokens.eos),
    countTokens: (text) => model.tokenize(text, true).length,
    dispose: async () => {
      await model.dispose();
      await llama.dispose();
    },
  };
}

export interface PrepareCalibrationOptions {
  readonly modelPath: string;
  readonly calibrationPath: string;
  /** llama-imatrix -c; it needs at least 2× this many tokens. */
  readonly contextSize: number;
  /** Where a rendered chat text is written (the caller removes it). */
  readonly workDir: string;
  /** Injected in tests; defaults to the model's tokenizer. */
  readonly vocab?: ModelVocab;
}

export interface PreparedCalibration {
  /** The file llama-imatrix reads: the original for plain text, a rendered temp file for chat JSONL. */
  readonly path: string;
  readonly format: CalibrationFormat;
  /** Tokens in the text (for very long texts: a lower bound that already clears the minimum). */
  readonly tokenCount: number;
  readonly conversations?: number;
  /** True for rendered chat: special tokens must be parsed as such (--parse-special). */
  readonly parseSpecial: boolean;
  /** True when `path` is a temp file the caller must remove. */
  readonly temporary: boolean;
}

/** Smallest token count llama-imatrix accepts for a context size (imatrix.cpp: 2 × n_ctx). */
export function minimumCalibrationTokens(contextSize: number): number {
  return 2 * contextSize;
}

export async function prepareCalibration(o: PrepareCalibrationOptions): Promise<PreparedCalibration> {
  let text: string;
  try {
    text = await fs.promises.readFile(o.calibrationPath, "utf8");
  } catch (e) {
    throw new CalibrationError("missing", `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, o.calibrationPath);
  }
  if (text.trim().length === 0) throw new CalibrationError("empty", "is empty: a calibration text needs real content", o.calibrationPath);
  const format = detectCalibrationFormat(o.calibrationPath, text);
  const vocab = o.vocab ?? (await openModelVocab(o.modelPath));
  try {
    let calibrationText = text;
    let conversations: number | undefined;
    let renderedPath: string | undefined;
    if (format === "chat-jsonl") {
      const parsed = parseConversationsJsonl(text, o.calibrationPath);
      const model = await readGgufModel(o.modelPath);
      const template = metadataString(model.metadata, "tokenizer.chat_template");
      if (!template) {
        throw new CalibrationError("no-template", "is chat JSONL, but the model has no tokenizer.chat_template to render it with; use a plain text file", o.calibrationPath);
      }
      calibrationText = renderConversations(template, parsed, vocab);
      conversations = parsed.length;
      await fs.promises.mkdir(o.workDir, { recursive: true });
      renderedPath = path.join(o.workDir, `.gguf-studio-calib-${process.pid}-${Date.now().toString(36)}.txt`);
    }
    const needed = minimumCalibrationTokens(o.contextSize);
    const tokenCount = countAtLeast(vocab, calibrationText, needed);
    if (tokenCount < needed) {
      throw new CalibrationError(
        "too-short",
        `has ${tokenCount} tokens; llama-imatrix needs at least ${needed} (two chunks of ${o.contextSize}). Use a longer text or a smaller context.`,
        o.calibrationPath,
      );
    }
    if (renderedPath) await fs.promises.writeFile(renderedPath, calibrationText, "utf8");
    return {
      path: renderedPath ?? o.calibrationPath,
      format,
      tokenCount,
      ...(conversations !== undefined ? { conversations } : {}),
      parseSpecial: format === "chat-jsonl",
      temporary: renderedPath !== undefined,
    };
  } finally {
    if (!o.vocab) await vocab.dispose();
  }
}

/**
 * Token count, or a lower bound of it that is ≥ `needed`: big texts are counted on a prefix first,
 * since only "enough or not" matters and tokenizing hundreds of MB takes a while.
 */
function countAtLeast(vocab: ModelVocab, text: string, needed: number): number {
  const prefixChars = Math.max(needed * 16, 1 << 16);
  if (text.length > prefixChars) {
    const prefixTokens = vocab.countTokens(text.slice(0, prefixChars));
    if (prefixTokens >= needed) return prefixTokens;
  }
  return vocab.countTokens(text);
}
