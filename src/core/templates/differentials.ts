// Judging a difference between a target engine's render and the reference's: a known engine
// difference (jinja2 prints `None` for null, the others print ""), silent loss of conversation
// content (the target drops a message the reference shows), or an ordinary divergence, which
// is located in the template by rendering an instrumented copy (a marker before every tag) on
// both engines and taking the last marker before the first differing output.
import type { SuiteConversation } from "./conversationSuite";
import type { EngineSet } from "./engines";
import type { ScannedTemplate } from "./scanner";
import type { EngineId, JsonValue, TextRange } from "./types";

/** True when `expected` equals `actual` once the "None" texts jinja2 printed for null values are removed. */
export function onlyNoneDiffers(expected: string, actual: string): boolean {
  if (!expected.includes("None")) return false;
  let i = 0;
  let j = 0;
  let skipped = false;
  while (i < expected.length || j < actual.length) {
    if (i < expected.length && j < actual.length && expected[i] === actual[j]) {
      i++;
      j++;
    } else if (expected.startsWith("None", i)) {
      // The template's own separator after the value goes with it (`{% if content %}…\n{% endif %}`).
      i += 4;
      while (i < expected.length && /\s/.test(expected[i]) && expected[i] !== actual[j]) i++;
      skipped = true;
    } else return false;
  }
  return skipped;
}

/** The conversation has typed content parts and the reference printed the list itself (Python repr). */
export function printsTypedParts(conv: SuiteConversation, expected: string): boolean {
  const messages = conv.context.messages;
  const typed = Array.isArray(messages) && messages.some((m) => !!m && typeof m === "object" && !Array.isArray(m) && Array.isArray(m.content));
  return typed && expected.includes("[{'type': ");
}

/**
 * The text of every message whose content is a plain string (and its reasoning), longest first.
 * Typed content parts are left out: jinja2 prints their Python repr, which is no prompt either.
 */
export function messageStrings(conv: SuiteConversation): string[] {
  const out = new Set<string>();
  const walk = (v: JsonValue | undefined) => {
    if (typeof v === "string") {
      if (v.trim().length >= 4) out.add(v.trim());
    } else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === "object") Object.values(v).forEach(walk);
  };
  const messages = conv.context.messages;
  if (Array.isArray(messages)) {
    for (const m of messages) {
      if (m && typeof m === "object" && !Array.isArray(m)) {
        if (typeof m.content === "string") walk(m.content);
        walk(m.reasoning_content);
      }
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/** Message texts the reference shows and the target leaves out: content silently lost on the target. */
export function lostContent(conv: SuiteConversation, expected: string, actual: string): string[] {
  return messageStrings(conv).filter((s) => expected.includes(s) && !actual.includes(s));
}

const MARK_OPEN = "\uE000";
const MARK_CLOSE = "\uE001";

/** The template with a marker text (private-use characters around the tag's index) before every tag. */
export function instrument(scanned: ScannedTemplate): string {
  let out = "";
  let at = 0;
  scanned.tags.forEach((t, i) => {
    out += scanned.text.slice(at, t.start) + `${MARK_OPEN}${i}${MARK_CLOSE}`;
    at = t.start;
  });
  return out + scanned.text.slice(at);
}

/** Index of the last marker that ends before `offset` in an instrumented output (a marker cut by the difference does not count). */
function lastMarkerBefore(output: string, offset: number): number | undefined {
  let open = output.lastIndexOf(MARK_OPEN, offset - 1);
  while (open >= 0) {
    const close = output.indexOf(MARK_CLOSE, open);
    if (close >= 0 && close < offset) {
      const n = Number(output.slice(open + 1, close));
      return Number.isInteger(n) ? n : undefined;
    }
    open = open > 0 ? output.lastIndexOf(MARK_OPEN, open - 1) : -1;
  }
  return undefined;
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The template range whose output first differs between `engine` and the reference on `conv`:
 * the tag after the last marker common to both instrumented renders. Undefined when an
 * instrumented render fails or the outputs do not differ.
 */
export async function locateDifference(engines: EngineSet, scanned: ScannedTemplate, engine: EngineId, conv: SuiteConversation, signal?: AbortSignal): Promise<TextRange | undefined> {
  if (scanned.tags.length === 0) return undefined;
  const text = instrument(scanned);
  const [ref, got] = await Promise.all([engines.render(engines.reference, text, [conv.context], signal), engines.render(engine, text, [conv.context], signal)]);
  if (!ref[0]?.ok || !got[0]?.ok) return undefined;
  const at = firstDifference(ref[0].output, got[0].output);
  if (at >= ref[0].output.length && at >= got[0].output.length) return undefined;
  const tag = lastMarkerBefore(ref[0].output, at);
  if (tag === undefined || !scanned.tags[tag]) return undefined;
  const t = definitionOf(scanned, tag);
  return { start: t.start, end: t.end };
}

/**
 * `{{ name }}` prints a variable: the difference comes from where it was computed, the last
 * `{% set name = … %}` before it (one step of data flow is enough for the usual
 * set-then-print pattern).
 */
function definitionOf(scanned: ScannedTemplate, index: number) {
  const t = scanned.tags[index];
  const name = t.kind === "expression" ? /^\s*([A-Za-z_]\w*)\s*$/.exec(scanned.text.slice(t.innerStart, t.innerEnd))?.[1] : undefined;
  if (!name) return t;
  for (let k = index - 1; k >= 0; k--) {
    const d = scanned.tags[k];
    if (d.kind !== "statement" || d.innerEnd - d.innerStart > 4096) continue;
    if (new RegExp(`^\\s*set\\s+${name}\\s*=`).test(scanned.text.slice(d.innerStart, d.innerEnd))) return d;
  }
  return t;
}
