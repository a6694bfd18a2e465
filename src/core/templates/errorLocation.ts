// Turns an engine's error text into a clean message and a template position. Each engine
// words its errors differently: llama.cpp "at line L, column C" or a source excerpt with a
// caret (and a leading "\n----" block, the cause on its "Error: …" line), minja "at row R,
// column C", jinja2 "(line N)" (added by our worker), @huggingface/jinja usually no position.
import { lineStarts, offsetAt } from "./scanner";
import type { EngineId, TextRange } from "./types";

export interface LocatedError {
  readonly message: string;
  /** Where in the template, when the engine said. */
  readonly range?: TextRange;
}

function wordRange(text: string, offset: number): TextRange {
  let end = offset;
  while (end < text.length && /[\w.]/.test(text[end])) end++;
  if (end === offset) end = Math.min(text.length, offset + 1);
  return { start: Math.min(offset, text.length), end: Math.max(end, Math.min(text.length, offset + 1)) };
}

function lineRange(text: string, line: number): TextRange {
  const starts = lineStarts(text);
  const l = Math.max(0, Math.min(line, starts.length - 1));
  const start = starts[l];
  const end = l + 1 < starts.length ? starts[l + 1] - 1 : text.length;
  const lead = text.slice(start, end).search(/\S/);
  return { start: start + Math.max(0, lead), end: Math.max(end, start + Math.max(0, lead) + 1) };
}

/** The caret excerpt llama.cpp prints: "...source...\n      ^" (↵ stands for a newline). */
function nativeExcerptOffset(template: string, error: string): number | undefined {
  const lines = error.split("\n");
  const caret = lines.findIndex((l) => /^\s*\^\s*$/.test(l));
  if (caret < 1) return undefined;
  let excerpt = lines[caret - 1];
  let col = lines[caret].indexOf("^");
  if (excerpt.startsWith("...")) {
    excerpt = excerpt.slice(3);
    col -= 3;
  }
  if (excerpt.endsWith("...")) excerpt = excerpt.slice(0, -3);
  const source = excerpt.replace(/↵/g, "\n");
  const at = template.indexOf(source);
  if (at < 0 || col < 0) return undefined;
  return at + Math.min(col, source.length);
}

export function locateEngineError(engine: EngineId, template: string, error: string): LocatedError {
  const starts = () => lineStarts(template);
  if (engine === "llama.cpp") {
    const cause = /^Error: (.*)$/m.exec(error)?.[1];
    const head = error.replace(/^AddonJinjaRenderer: /, "").split("\n")[0].trim();
    const message = (cause ?? head).replace(/^Jinja Exception: /, "raise_exception: ");
    const pos = /at line (\d+), column (\d+)/.exec(error);
    if (pos) return { message, range: wordRange(template, offsetAt(template, starts(), Number(pos[1]) - 1, Number(pos[2]) - 1)) };
    const off = nativeExcerptOffset(template, error);
    const detail = /Parser Error: (.*)$/m.exec(error)?.[1];
    return { message: detail ? `${head.replace(/parser: Parser Error:.*$/, "").trim()} ${detail}`.trim() : message, range: off === undefined ? undefined : wordRange(template, off) };
  }
  if (engine === "minja") {
    const pos = /at row (\d+), column (\d+)/.exec(error);
    const message = error.split(/ at row \d+, column \d+/)[0].trim();
    return { message, range: pos ? wordRange(template, offsetAt(template, starts(), Number(pos[1]) - 1, Number(pos[2]) - 1)) : undefined };
  }
  if (engine === "jinja2") {
    const pos = /\(line (\d+)\)\s*$/.exec(error);
    const message = error.replace(/\s*\(line \d+\)\s*$/, "").replace(/^TemplateError: /, "raise_exception: ");
    return { message, range: pos ? lineRange(template, Number(pos[1]) - 1) : undefined };
  }
  return { message: error.split("\n")[0] };
}

export { lineRange };
