// Splits a Jinja template into text, comments and code ({% %}, {{ }}), and produces a "code
// view": the same text with everything that is not code blanked and string-literal contents
// masked, so rules can match constructs with plain regexes and keep exact offsets. What sits
// between {% raw %} and {% endraw %} is text, not code: no rule looks inside it.

export interface CodeTag {
  readonly kind: "statement" | "expression";
  /** Offsets of the whole tag, delimiters included. */
  readonly start: number;
  readonly end: number;
  /** Offsets of the inner code (between the delimiters and any -/+ whitespace markers). */
  readonly innerStart: number;
  readonly innerEnd: number;
}

export interface StringLiteral {
  readonly start: number;
  readonly end: number;
  readonly quote: string;
  /** The decoded value (escapes resolved the Python way for \n, \t, \\, quotes). */
  readonly value: string;
}

export interface ScannedTemplate {
  readonly text: string;
  readonly tags: readonly CodeTag[];
  readonly strings: readonly StringLiteral[];
  /** Same length as text: code kept, strings' contents replaced by `_`, everything else by spaces. */
  readonly code: string;
  /** True when a tag is never closed (the engines report the syntax error; rules stay quiet). */
  readonly unterminated: boolean;
}

const ESCAPES: Record<string, string> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };

function decodeString(body: string): string {
  return body.replace(/\\(.)/gs, (_m, c: string) => ESCAPES[c] ?? `\\${c}`);
}

export function scanTemplate(text: string): ScannedTemplate {
  const tags: CodeTag[] = [];
  const strings: StringLiteral[] = [];
  const code = new Array<string>(text.length);
  for (let i = 0; i < text.length; i++) code[i] = text[i] === "\n" ? "\n" : " ";
  let unterminated = false;
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf("{", i);
    if (open < 0 || open + 1 >= text.length) break;
    const next = text[open + 1];
    if (next === "#") {
      const close = text.indexOf("#}", open + 2);
      if (close < 0) {
        unterminated = true;
        break;
      }
      i = close + 2;
      continue;
    }
    if (next !== "%" && next !== "{") {
      i = open + 1;
      continue;
    }
    const closer = next === "%" ? "%}" : "}}";
    let j = open + 2;
    let quote: string | undefined;
    let strStart = 0;
    let closed = -1;
    while (j < text.length) {
      const c = text[j];
      if (quote) {
        if (c === "\\") {
          j += 2;
          continue;
        }
        if (text.startsWith(quote, j)) {
          strings.push({ start: strStart, end: j + quote.length, quote, value: decodeString(text.slice(strStart + quote.length, j)) });
          j += quote.length;
          quote = undefined;
          continue;
        }
        j++;
        continue;
      }
      if (c === '"' || c === "'") {
        quote = text.startsWith(c.repeat(3), j) ? c.repeat(3) : c;
        strStart = j;
        j += quote.length;
        continue;
      }
      if (text.startsWith(closer, j)) {
        closed = j;
        break;
      }
      j++;
    }
    if (closed < 0) {
      unterminated = true;
      break;
    }
    let innerStart = open + 2;
    let innerEnd = closed;
    if (text[innerStart] === "-" || text[innerStart] === "+") innerStart++;
    if (innerEnd > innerStart && (text[innerEnd - 1] === "-" || text[innerEnd - 1] === "+")) innerEnd--;
    tags.push({ kind: next === "%" ? "statement" : "expression", start: open, end: closed + 2, innerStart, innerEnd });
    for (let k = open; k < closed + 2; k++) code[k] = text[k];
    i = closed + 2;
    if (next === "%" && /^\s*raw\s*$/.test(text.slice(innerStart, innerEnd))) {
      const end = /\{%[-+]?\s*endraw\s*[-+]?%\}/g;
      end.lastIndex = i;
      const m = end.exec(text);
      if (!m) {
        unterminated = true;
        break;
      }
      i = m.index; // the endraw tag itself is scanned as a statement
    }
  }
  for (const s of strings) {
    for (let k = s.start + s.quote.length; k < s.end - s.quote.length; k++) code[k] = text[k] === "\n" ? "\n" : "_";
  }
  const joined = code.join("");
  return { text, tags, strings, code: joined, unterminated };
}

/** The statement keyword of a `{% ... %}` tag ("for", "if", "generation", ...). */
export function statementKeyword(scanned: ScannedTemplate, tag: CodeTag): string {
  return /^\s*([A-Za-z_]\w*)/.exec(scanned.text.slice(tag.innerStart, tag.innerEnd))?.[1] ?? "";
}

/** Line/column (0-based) ↔ offset helpers. */
export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") starts.push(i + 1);
  return starts;
}

export function offsetAt(text: string, starts: readonly number[], line: number, column: number): number {
  const l = Math.max(0, Math.min(line, starts.length - 1));
  const lineEnd = l + 1 < starts.length ? starts[l + 1] - 1 : text.length;
  return Math.min(starts[l] + Math.max(0, column), lineEnd);
}

export function positionAt(starts: readonly number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, column: offset - starts[lo] };
}
