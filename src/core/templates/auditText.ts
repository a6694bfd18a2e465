// Text analysis for the template audit: which parts of a render the template itself wrote (not
// the messages, the tools, the special tokens or the role names), natural-language runs in
// them, and the phrases that make such text suspicious. Pure functions, linear regexes only
// (word runs are separated by characters that cannot start a word, so nothing backtracks).
import type { SuiteConversation } from "./conversationSuite";
import type { JsonValue } from "./types";

const MASK = "\u0000";

/** Every string a conversation carries (messages, tools, keys included), with the escaped forms engines print. */
export function conversationStrings(conv: SuiteConversation, extra: readonly string[] = []): string[] {
  // Role names are not masked: they are single words (never a natural-language run by themselves)
  // and masking them would cut sentences such as "Answer the questions of the user."
  const out = new Set<string>(extra);
  const walk = (v: JsonValue | undefined) => {
    if (typeof v === "string") out.add(v);
    else if (typeof v === "number" || typeof v === "boolean") out.add(String(v));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (k === "role") continue;
        if (k !== "content" && k !== "type") out.add(k);
        walk(x);
        // Arguments and results are often printed as JSON.
        if (x && typeof x === "object") out.add(JSON.stringify(x));
      }
    }
  };
  walk(conv.context.messages);
  walk(conv.context.tools);
  for (const k of ["bos_token", "eos_token"]) walk(conv.context[k]);
  const variants = new Set<string>();
  for (const s of out) {
    const t = s.trim();
    if (t.length < 2) continue;
    variants.add(t);
    variants.add(JSON.stringify(t).slice(1, -1)); // JSON-escaped (tojson)
    variants.add(t.replace(/\\/g, "\\\\").replace(/'/g, "\\'")); // Python repr
    for (const line of t.split("\n")) if (line.trim().length >= 2) variants.add(line.trim());
  }
  return [...variants].sort((a, b) => b.length - a.length);
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}_]/u.test(c);

/**
 * The output with every occurrence of the given strings replaced by a mask character (same
 * length). A string that starts or ends with a word character is only masked as whole words,
 * so "18" does not eat into "2018".
 */
export function maskStrings(output: string, strings: readonly string[]): string {
  const chars = output.split("");
  for (const s of strings) {
    let at = output.indexOf(s);
    while (at >= 0) {
      const end = at + s.length;
      const whole = !(isWordChar(s[0]) && isWordChar(output[at - 1])) && !(isWordChar(s[s.length - 1]) && isWordChar(output[end]));
      if (whole) for (let k = at; k < end; k++) chars[k] = MASK;
      at = output.indexOf(s, whole ? end : at + 1);
    }
  }
  return chars.join("");
}

/** Markup that is structure, not language: <tags>, <|special|>, [MARKERS], {braces}. */
const MARKUP = /<\|?[^<>\n]{0,60}\|?>|\[[^[\]\n]{0,40}\]|[{}]/g;

export interface TextRun {
  readonly text: string;
  readonly start: number;
}

/** Runs of at least `minWords` words in the template-owned parts of a masked output. */
export function naturalLanguageRuns(masked: string, minWords = 6): TextRun[] {
  const cleaned = masked.replace(MARKUP, (m) => MASK.repeat(m.length));
  const out: TextRun[] = [];
  const run = /[A-Za-z][A-Za-z'’-]*(?:[ \t,;:.!?()"“”]+[A-Za-z][A-Za-z'’-]*)*[.!?]?/g;
  let m: RegExpExecArray | null;
  while ((m = run.exec(cleaned))) {
    const words = m[0].match(/[A-Za-z][A-Za-z'’-]*/g) ?? [];
    if (words.length >= minWords) out.push({ text: m[0].trim(), start: m.index });
  }
  return out;
}

/** Words of a text outside markup (for comparing generation prompts with turn openers). */
export function plainWords(text: string): string[] {
  return (text.replace(MARKUP, " ").match(/[A-Za-z][A-Za-z'’-]*/g) ?? []).map((w) => w.toLowerCase());
}

interface Suspicion {
  readonly pattern: RegExp;
  readonly why: string;
  readonly severity: "error" | "warning";
}

/** Phrases no chat template needs: covert instructions, exfiltration, overriding the user. */
const SUSPICIOUS: readonly Suspicion[] = [
  { pattern: /\b(send|forward|upload|transmit|leak|exfiltrate)\b[^.]{0,60}\b(conversation|chat history|messages|history|transcript|passwords?|credentials|api keys?)\b/i, why: "asks the model to send the conversation or secrets somewhere", severity: "error" },
  { pattern: /\bexfiltrat/i, why: "mentions exfiltration", severity: "error" },
  { pattern: /\bignore (all |any )?(the )?(previous|prior|above|earlier|user'?s?|system) (instructions?|messages?|prompts?|requests?)\b/i, why: "overrides the user's or system's instructions", severity: "error" },
  { pattern: /\b(do not|don't|never) (tell|reveal|mention|disclose)\b[^.]{0,30}\b(this|these|the|your) (instructions?|prompt|rules?|system prompt|directive)\b/i, why: "tells the model to hide its instructions from the user", severity: "error" },
  { pattern: /\b(secretly|covertly|silently|without (telling|informing|notifying) the user)\b/i, why: "asks for covert behaviour", severity: "error" },
  { pattern: /\b(reveal|share|print|output|disclose|ask (the user )?for)\b[^.]{0,40}\b(api[ _-]?keys?|passwords?|credentials|credit card|social security)\b/i, why: "asks for secrets", severity: "warning" },
  { pattern: /\b(always|must|secretly) (recommend|promote|advertise|endorse|praise)\b|\brecommend\b[^.]{0,30}\bin every (answer|reply|response)\b/i, why: "adds an agenda the conversation did not ask for", severity: "warning" },
  { pattern: /\b(call|invoke|use) (the )?(tool|function)\b[^.]{0,60}\b(every|each|always|regardless)\b/i, why: "forces a tool call", severity: "warning" },
];

export function suspicion(text: string): Suspicion | undefined {
  return SUSPICIOUS.find((s) => s.pattern.test(text));
}

/** Invisible and direction-changing characters (zero-width, bidi controls, other format characters). */
export const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF\uFFF9-\uFFFB\u{E0000}-\u{E007F}]+/gu;
export const BIDI = /[\u200E\u200F\u202A-\u202E\u2066-\u2069]/;

export const URL_RE = /\bhttps?:\/\/[^\s'"<>)]+|\bwww\.[a-z0-9-]+\.[a-z]{2,}[^\s'"<>)]*/gi;
export const EMAIL_RE = /\b[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+\b/g;
export const SCRIPT_RE = /<\s*script\b|\bjavascript:|\bon(?:load|error|click)\s*=/gi;
