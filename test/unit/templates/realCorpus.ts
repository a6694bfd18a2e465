// Not a test file: the corpus of REAL chat templates used to measure the linter's precision and
// the audit's false positives. Nothing is copied into this repository: the templates are read
// from the llama.cpp source that `npm run setup` clones under .native/ (MIT licence):
//   1. models/templates/*.jinja: templates of released models, kept by llama.cpp for its tests;
//   2. tests/test-chat-template.cpp: the named templates (Hugging Face model repos' chat_template
//      strings: OpenHermes, Mistral v1/v3/v7, Gemma, Phi-3, ChatGLM, DeepSeek, Vicuna, ...).
// test/fixtures/templates-corpus/MANIFEST.md lists the sources.
import fs from "node:fs";
import path from "node:path";
import { findBundledLlamaSource } from "../../../src/core/native/llamaSource";

export interface CorpusTemplate {
  readonly name: string;
  /** Where it comes from (file in the llama.cpp source, and the model named there). */
  readonly source: string;
  readonly text: string;
}

/** Decodes a C++ string literal starting at the opening quote. */
function cppString(src: string, at: number): { value: string; end: number } {
  const ESC: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", '"': '"', "'": "'" };
  let value = "";
  let i = at + 1;
  while (i < src.length && src[i] !== '"') {
    if (src[i] === "\\") {
      value += ESC[src[i + 1]] ?? src[i + 1];
      i += 2;
    } else value += src[i++];
  }
  return { value, end: i + 1 };
}

/** The named templates of tests/test-chat-template.cpp (one per `.template_str` entry). */
export function cppTestTemplates(llamaSource: string): CorpusTemplate[] {
  const file = path.join(llamaSource, "tests", "test-chat-template.cpp");
  if (!fs.existsSync(file)) return [];
  const src = fs.readFileSync(file, "utf8");
  const out: CorpusTemplate[] = [];
  const marker = /\/\* \.name= \*\/\s*"|\/\* \.template_str=? \*\/\s*(?:U8C\()?"/g;
  let name: string | undefined;
  let m: RegExpExecArray | null;
  while ((m = marker.exec(src))) {
    const s = cppString(src, m.index + m[0].length - 1);
    marker.lastIndex = s.end;
    if (m[0].includes(".name")) name = s.value;
    else if (name) {
      out.push({ name: `${name} (test-chat-template.cpp)`, source: `llama.cpp tests/test-chat-template.cpp: ${name}`, text: s.value });
      name = undefined;
    }
  }
  return out;
}

export function realTemplateCorpus(root: string): CorpusTemplate[] {
  const src = findBundledLlamaSource(root);
  if (!src) throw new Error("bundled llama.cpp source not found under .native/llama.cpp-*: run `npm run setup`");
  const dir = path.join(src, "models", "templates");
  const files = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".jinja"))
    .sort()
    .map((f) => ({ name: f, source: `llama.cpp models/templates/${f}`, text: fs.readFileSync(path.join(dir, f), "utf8") }));
  const seen = new Set(files.map((f) => f.text.trim()));
  const named = cppTestTemplates(src).filter((t) => !seen.has(t.text.trim()) && (seen.add(t.text.trim()), true));
  return [...files, ...named];
}
