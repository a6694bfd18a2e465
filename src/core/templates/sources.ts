// Where chat templates come from: a GGUF's tokenizer.chat_template (and named variants),
// `.jinja` files, and `chat_template` strings in tokenizer_config.json (single string or a
// named list), each mapped back to the exact JSON range so findings land on the right text.
import { readArrayPage, readGgufFile, metadataNumber, metadataString, metadataValue, type GgufFile } from "../gguf/index";
import type { SpecialTokens } from "./conversationSuite";
import type { TextRange } from "./types";

export const GGUF_TEMPLATE_KEY = "tokenizer.chat_template";

export interface GgufTemplates {
  /** Key → template text: "tokenizer.chat_template" and "tokenizer.chat_template.<name>". */
  readonly templates: ReadonlyMap<string, string>;
  readonly tokens: SpecialTokens;
}

async function tokenText(file: GgufFile, id: number | undefined): Promise<string | undefined> {
  if (id === undefined) return undefined;
  const tokens = metadataValue(file.metadata, "tokenizer.ggml.tokens");
  if (!tokens || typeof tokens !== "object") return undefined;
  if (tokens.kind === "array") {
    const v = tokens.values[id];
    return typeof v === "string" ? v : undefined;
  }
  if (id < 0 || id >= tokens.count) return undefined;
  const [v] = await readArrayPage(file.path, tokens, id, 1);
  return typeof v === "string" ? v : undefined;
}

/** Reads a GGUF's templates and the special tokens the suite should use. */
export async function readGgufTemplates(path: string): Promise<GgufTemplates> {
  const file = await readGgufFile(path);
  const templates = new Map<string, string>();
  for (const key of file.metadata.keys()) {
    if (key === GGUF_TEMPLATE_KEY || key.startsWith(`${GGUF_TEMPLATE_KEY}.`)) {
      const v = metadataString(file.metadata, key);
      if (v !== undefined) templates.set(key, v);
    }
  }
  const bos = await tokenText(file, metadataNumber(file.metadata, "tokenizer.ggml.bos_token_id"));
  const eos = await tokenText(file, metadataNumber(file.metadata, "tokenizer.ggml.eos_token_id"));
  const eot = await tokenText(file, metadataNumber(file.metadata, "tokenizer.ggml.eot_token_id"));
  const addBos = metadataValue(file.metadata, "tokenizer.ggml.add_bos_token");
  return {
    templates,
    tokens: { bos: bos ?? "", eos: eos ?? "", eot, addBos: typeof addBos === "boolean" ? addBos : undefined },
  };
}

/** A template found inside a JSON document, with the map from template offsets to JSON offsets. */
export interface JsonTemplate {
  /** "default" for a plain string, else the entry's name. */
  readonly name: string;
  readonly template: string;
  /** Range of the JSON string literal (quotes included). */
  readonly literal: TextRange;
  /** jsonOffset[i] = offset in the JSON of template character i; one extra entry for the end. */
  readonly jsonOffsets: readonly number[];
}

/** Decodes a JSON string literal starting at `start` (the opening quote), recording offsets. */
function decodeJsonString(json: string, start: number): { value: string; end: number; offsets: number[] } {
  let value = "";
  const offsets: number[] = [];
  let i = start + 1;
  while (i < json.length && json[i] !== '"') {
    if (json[i] === "\\") {
      const c = json[i + 1];
      let ch: string;
      let len = 2;
      if (c === "u") {
        ch = String.fromCharCode(parseInt(json.slice(i + 2, i + 6), 16));
        len = 6;
      } else {
        ch = ({ n: "\n", t: "\t", r: "\r", b: "\b", f: "\f", "/": "/", "\\": "\\", '"': '"' } as Record<string, string>)[c] ?? c;
      }
      offsets.push(i);
      value += ch;
      i += len;
    } else {
      offsets.push(i);
      value += json[i];
      i++;
    }
  }
  offsets.push(i);
  return { value, end: i + 1, offsets };
}

/** Finds the chat_template value(s) in tokenizer_config.json text; [] when there are none. */
export function findJsonTemplates(json: string): JsonTemplate[] {
  const parsed = JSON.parse(json) as { chat_template?: unknown };
  if (parsed.chat_template === undefined) return [];
  const key = /"chat_template"\s*:\s*/g;
  const out: JsonTemplate[] = [];
  let m: RegExpExecArray | null;
  while ((m = key.exec(json))) {
    const at = m.index + m[0].length;
    if (json[at] === '"') {
      const d = decodeJsonString(json, at);
      if (d.value === parsed.chat_template) out.push({ name: "default", template: d.value, literal: { start: at, end: d.end }, jsonOffsets: d.offsets });
    } else if (json[at] === "[" && Array.isArray(parsed.chat_template)) {
      // [{"name": "...", "template": "..."}, ...]: find each "template" string inside the array.
      const entries = parsed.chat_template as { name?: string; template?: string }[];
      const inner = /"template"\s*:\s*"/g;
      inner.lastIndex = at;
      for (const entry of entries) {
        const t = inner.exec(json);
        if (!t) break;
        const d = decodeJsonString(json, t.index + t[0].length - 1);
        out.push({ name: entry.name ?? `#${out.length}`, template: d.value, literal: { start: t.index + t[0].length - 1, end: d.end }, jsonOffsets: d.offsets });
        inner.lastIndex = d.end;
      }
    }
    if (out.length > 0) break;
  }
  return out;
}

/** `"<s>"` or `{"content": "<s>", …}` (AddedToken form) → the token text. */
function tokenContent(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (v && typeof v === "object" && typeof (v as { content?: unknown }).content === "string") return (v as { content: string }).content;
  return undefined;
}

/**
 * The special tokens a tokenizer_config.json declares (bos_token, eos_token, add_bos_token), or
 * undefined when it names neither BOS nor EOS. transformers adds BOS when add_bos_token is true
 * (Llama-style tokenizers default to true when the key is absent but bos_token is set).
 */
export function tokenizerConfigTokens(json: string): SpecialTokens | undefined {
  const parsed = JSON.parse(json) as Record<string, unknown>;
  const bos = tokenContent(parsed.bos_token);
  const eos = tokenContent(parsed.eos_token);
  if (bos === undefined && eos === undefined) return undefined;
  const addBos = typeof parsed.add_bos_token === "boolean" ? parsed.add_bos_token : undefined;
  return { bos: bos ?? "", eos: eos ?? "", addBos };
}

/** Maps a template range to the JSON range that encodes it. */
export function templateRangeToJson(t: JsonTemplate, r: TextRange): TextRange {
  const at = (i: number) => t.jsonOffsets[Math.max(0, Math.min(i, t.jsonOffsets.length - 1))];
  return { start: at(r.start), end: Math.max(at(r.end), at(r.start) + 1) };
}

/** Encodes a template as JSON string literal text, for writing a fix back into the JSON. */
export function encodeJsonString(template: string): string {
  return JSON.stringify(template);
}
