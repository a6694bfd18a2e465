// The template audit: does the template say only what the conversation says? Each render is split
// into message-derived spans (messages, tools, special tokens, role names) and template-owned
// text, and the template-owned text is judged: instructions (above all ones that appear only for
// some message content), URLs, e-mail addresses, script, invisible characters, date or random
// dependence, and a generation prompt that pre-fills the answer. Renders go through the same
// EngineSet (sandboxed engine processes, limits, render cache) as the linter.
import { codeStructure, operandStart, tagAt } from "./codeStructure";
import { buildConversationSuite, DEFAULT_SPECIAL_TOKENS, type SpecialTokens, type SuiteConversation } from "./conversationSuite";
import { BIDI, conversationStrings, EMAIL_RE, INVISIBLE, maskStrings, naturalLanguageRuns, plainWords, SCRIPT_RE, suspicion, URL_RE } from "./auditText";
import type { EngineSet } from "./engines";
import { lineRange } from "./errorLocation";
import { scanTemplate, statementKeyword, type ScannedTemplate } from "./scanner";
import type { EngineId, RenderContext, Severity, TemplateFinding, TextRange } from "./types";

export interface AuditOptions {
  readonly tokens?: SpecialTokens;
  readonly suite?: readonly SuiteConversation[];
  readonly signal?: AbortSignal;
}

export interface AuditResult {
  readonly findings: TemplateFinding[];
  readonly reference: EngineId;
}

const MAX_TRIGGERS = 30;
const clip = (s: string, n = 160) => (s.length > n ? s.slice(0, n - 1) + "…" : s);

function finding(ruleId: string, severity: Severity, why: string, range: TextRange, evidence: string, conversation?: string): TemplateFinding {
  return { ruleId, kind: "audit", severity, message: `${why}: ${JSON.stringify(clip(evidence))}`, range, evidence, conversation };
}

/** The template's own text: text between tags and string literal values, with their offsets. */
function literals(s: ScannedTemplate): { value: string; start: number; end: number }[] {
  const out: { value: string; start: number; end: number }[] = [];
  let at = 0;
  for (const t of s.tags) {
    if (t.start > at) out.push({ value: s.text.slice(at, t.start), start: at, end: t.start });
    at = t.end;
  }
  if (at < s.text.length) out.push({ value: s.text.slice(at), start: at, end: s.text.length });
  for (const x of s.strings) out.push({ value: x.value, start: x.start, end: x.end });
  return out;
}

/** Where a rendered snippet comes from in the template (the literal containing its start). */
function locate(s: ScannedTemplate, snippet: string): TextRange {
  const probe = snippet.slice(0, 24);
  for (const l of literals(s)) {
    const i = l.value.indexOf(probe);
    if (i >= 0) return l.start === l.end ? { start: l.start, end: l.end } : { start: Math.min(l.start + i, l.end - 1), end: l.end };
  }
  const words = snippet.split(/\s+/).slice(0, 3).join(" ");
  const at = words ? s.text.indexOf(words) : -1;
  return at >= 0 ? { start: at, end: at + words.length } : lineRange(s.text, 0);
}

/** Static checks on the template's own literals: URLs, e-mail addresses, script, invisible characters, date, random. */
function staticFindings(s: ScannedTemplate): TemplateFinding[] {
  const out: TemplateFinding[] = [];
  for (const m of s.text.matchAll(INVISIBLE)) {
    const atBom = m.index === 0 && m[0] === "\uFEFF";
    const names = [...m[0]].map((c) => `U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, "0")}`).join(" ");
    const bidi = BIDI.test(m[0]);
    out.push({
      ruleId: "audit/invisible-character",
      kind: "audit",
      severity: atBom ? "info" : bidi ? "error" : "warning",
      message: `${bidi ? "Bidirectional control" : "Invisible"} character${m[0].length > 1 ? "s" : ""} ${names} in the template: text that reads differently from what the engine emits`,
      range: { start: m.index, end: m.index + m[0].length },
      evidence: names,
    });
  }
  for (const l of literals(s)) {
    for (const [re, id, severity, why] of [
      [URL_RE, "audit/url", "warning", "The template itself emits a URL"],
      [EMAIL_RE, "audit/email", "warning", "The template itself emits an e-mail address"],
      [SCRIPT_RE, "audit/script", "error", "The template emits script or an event handler"],
    ] as const) {
      for (const m of l.value.matchAll(re)) {
        const start = Math.min(l.start + m.index, l.end - 1);
        out.push(finding(id, severity, why, { start, end: Math.min(l.end, start + m[0].length) }, m[0]));
      }
    }
  }
  for (const m of s.code.matchAll(/\bstrftime_now\s*\(|\bnow\s*\(\s*\)/g)) {
    // Printing today's date is common (Llama 3.x); branching on it switches behaviour by date.
    const tag = tagAt(s, m.index);
    const branch = !!tag && tag.kind === "statement" && /^(if|elif)$/.test(statementKeyword(s, tag));
    out.push(finding("audit/date-dependent", branch ? "warning" : "info", branch ? "The template branches on the date: it behaves differently on some days" : "The prompt depends on the date when it is rendered", { start: m.index, end: m.index + m[0].length }, s.text.slice(m.index, m.index + m[0].length)));
  }
  for (const m of s.code.matchAll(/\|\s*random\b|\brandom\s*\(/g)) {
    out.push(finding("audit/random", "warning", "The prompt depends on a random value: the same conversation renders differently each time", { start: m.index, end: m.index + m[0].length }, s.text.slice(m.index, m.index + m[0].length)));
  }
  return out;
}

/** `'word' in message.content`, `content.startswith('word')`, …: branches on the user's text, found statically. */
function contentBranches(s: ScannedTemplate): { trigger: string; range: TextRange }[] {
  const out: { trigger: string; range: TextRange }[] = [];
  const refersToText = (operand: string) => /content|text|message|msg|query|prompt/i.test(operand);
  for (const lit of s.strings) {
    let k = lit.end;
    while (k < s.code.length && /\s/.test(s.code[k])) k++;
    const inTest = /^(?:not\s+)?in\s/.exec(s.code.slice(k, k + 8));
    if (!inTest) continue;
    k += inTest[0].length;
    while (k < s.code.length && /\s/.test(s.code[k])) k++;
    let e = k;
    while (e < s.code.length && e - k < 120 && /[\w.[\]'"_]/.test(s.code[e])) e++;
    if (lit.value.trim() && refersToText(s.text.slice(k, e))) out.push({ trigger: lit.value, range: { start: lit.start, end: e } });
  }
  const { byOpen } = codeStructure(s);
  for (const m of s.code.matchAll(/\.(?:startswith|endswith|find|count|index|search|match)\(/g)) {
    const b = byOpen.get(m.index + m[0].length - 1);
    const opStart = operandStart(s, m.index);
    const arg = b ? s.strings.find((x) => x.start > b.open && x.end <= b.close) : undefined;
    if (arg && arg.value.trim() && refersToText(s.text.slice(opStart, m.index))) out.push({ trigger: arg.value, range: { start: opStart, end: (b?.close ?? m.index) + 1 } });
  }
  return out;
}

/** Words and short phrases a user could type; markup and turn markers would change the structure, not trigger a branch. */
const isTriggerWord = (x: string) => x.length >= 2 && x.length <= 60 && /^[\p{L}\p{N}][\p{L}\p{N}\s.,:;!?'’-]*$/u.test(x);

/** A copy of the context with `word` added at the end (or the start) of the last user message's text. */
function withUserWord(ctx: RenderContext, word: string, atStart: boolean): RenderContext | undefined {
  const messages = ctx.messages;
  if (!Array.isArray(messages)) return undefined;
  const last = messages.map((m, i) => ({ m, i })).filter(({ m }) => !!m && typeof m === "object" && !Array.isArray(m) && m.role === "user" && typeof m.content === "string").at(-1);
  if (!last) return undefined;
  const copy = messages.slice();
  const m = last.m as { [key: string]: string };
  copy[last.i] = { ...m, content: atStart ? `${word} ${m.content}` : `${m.content} ${word}` };
  return { ...ctx, messages: copy };
}

export async function auditTemplate(engines: EngineSet, text: string, options: AuditOptions = {}): Promise<AuditResult> {
  const reference = engines.reference;
  if (text.trim().length === 0) return { findings: [], reference };
  const tokens = options.tokens ?? DEFAULT_SPECIAL_TOKENS;
  const suite = options.suite ?? buildConversationSuite(tokens);
  const s = scanTemplate(text);
  const findings = staticFindings(s);
  const specials = [tokens.bos, tokens.eos, tokens.eot ?? ""].filter((x) => x.length >= 2);

  const outcomes = await engines.render(reference, text, suite.map((c) => c.context), options.signal);

  const idx = (n: string) => suite.findIndex((c) => c.name === n);
  // Natural-language text the template owns, and in which conversations it appears.
  const owned = new Map<string, string[]>();
  outcomes.forEach((r, i) => {
    if (!r.ok) return;
    const masked = maskStrings(r.output, conversationStrings(suite[i], specials));
    for (const run of naturalLanguageRuns(masked)) owned.set(run.text, [...(owned.get(run.text) ?? []), suite[i].name]);
  });
  let infos = 0;
  for (const [t, convs] of owned) {
    const bad = suspicion(t);
    const where = ` (in ${convs.length === suite.length ? "every conversation" : convs.map((c) => `“${c}”`).join(", ")})`;
    if (bad) findings.push(finding("audit/suspicious-instruction", bad.severity, `Template-owned text ${bad.why}${where}`, locate(s, t), t, convs[0]));
    else if (infos++ < 8) findings.push(finding("audit/template-text", "info", `Text the template adds by itself${where}`, locate(s, t), t, convs[0]));
  }

  // The same conversation twice: a template that is not a function of its input.
  let nondeterministic = false;
  const plain = idx("plain");
  if (plain >= 0 && outcomes[plain]?.ok) {
    const again = await engines.render(reference, text, [{ ...suite[plain].context, __audit_repeat: true }], options.signal);
    const first = outcomes[plain];
    if (again[0]?.ok && first.ok && again[0].output !== first.output) {
      nondeterministic = true;
      findings.push(finding("audit/nondeterministic", "warning", "The same conversation renders differently twice in a row", lineRange(text, 0), again[0].output.slice(0, 80)));
    }
  }
  // A URL or address that shows only when the conversation has no system message belongs to a
  // default system prompt (shown as info); one added beside the user's own system prompt is not.
  const withSystem = suite.map((c, i) => ({ c, r: outcomes[i] })).filter(({ c, r }) => r?.ok && JSON.stringify(c.context.messages).includes('"role":"system"'));
  for (let k = 0; k < findings.length; k++) {
    const f = findings[k];
    if ((f.ruleId !== "audit/url" && f.ruleId !== "audit/email") || f.evidence === undefined) continue;
    const rendered = outcomes.some((r) => r.ok && r.output.includes(f.evidence ?? ""));
    const besideSystem = withSystem.some(({ r }) => r?.ok && r.output.includes(f.evidence ?? ""));
    if (rendered && !besideSystem) findings[k] = { ...f, severity: "info", message: `${f.message} (only in the default system prompt, when the conversation has none)` };
  }

  // Content triggers: render with each of the template's own literals appended to the user's text.
  const statics = contentBranches(s);
  const candidates = [...new Set([...statics.map((x) => x.trigger), ...s.strings.map((x) => x.value)].map((x) => x.trim()).filter(isTriggerWord))].slice(0, MAX_TRIGGERS);
  const base = ["plain"].map((n) => suite.findIndex((c) => c.name === n)).filter((i) => i >= 0 && outcomes[i]?.ok);
  const probes = candidates.flatMap((w) => base.flatMap((i) => [false, true].map((atStart) => ({ w, i, ctx: withUserWord(suite[i].context, w, atStart) })))).filter((p): p is { w: string; i: number; ctx: RenderContext } => !!p.ctx);
  const triggered = new Set<string>();
  if (probes.length > 0 && !nondeterministic) {
    const results = await engines.render(reference, text, probes.map((p) => p.ctx), options.signal);
    probes.forEach((p, k) => {
      const before = outcomes[p.i];
      const after = results[k];
      if (!before?.ok || !after?.ok || triggered.has(p.w)) return;
      const strings = conversationStrings(suite[p.i], specials);
      const probeStrings = conversationStrings({ ...suite[p.i], context: p.ctx }, specials);
      const a = maskStrings(before.output, strings).replace(/\u0000+/g, "\u0000");
      const b = maskStrings(after.output, probeStrings).replace(/\u0000+/g, "\u0000");
      if (a === b) return;
      triggered.add(p.w);
      const added = b.split("\u0000").filter((x) => x.trim() && !a.includes(x)).join(" … ") || "(template text removed)";
      const stat = statics.find((x) => x.trigger.trim() === p.w);
      findings.push(finding("audit/content-trigger", "error", `The template emits different text when the user's message contains ${JSON.stringify(p.w)} (found by rendering with and without it)`, stat?.range ?? locate(s, p.w), added, suite[p.i].name));
    });
  }
  for (const st of statics) {
    if (triggered.has(st.trigger.trim())) continue;
    findings.push(finding("audit/content-branch", "info", "The template branches on the text of a message (no change seen when rendering with the word)", st.range, st.trigger));
  }

  // Generation prompt: what add_generation_prompt adds must be the assistant opener, not words of an answer.
  const [on, off, closed] = [outcomes[idx("plain")], outcomes[idx("plain, generation prompt off")], outcomes[idx("plain, no generation prompt")]];
  if (on?.ok && off?.ok && closed?.ok && on.output.startsWith(off.output)) {
    const prompt = on.output.slice(off.output.length);
    const opener = closed.output.slice(closed.output.indexOf("Hello!") + 6, closed.output.indexOf("Hi! How can I help?"));
    const structural = new Set([...plainWords(opener), ...plainWords(off.output.slice(-200)), "assistant", "model", "bot", "response", "answer", "ai", "gpt", "chatbot", "think", "thinking"]);
    const extra = plainWords(prompt).filter((w) => !structural.has(w));
    // A short header ("Here are my reasoning steps:") is part of some official formats; a sentence is an answer.
    const long = extra.length >= 7 || suspicion(prompt) !== undefined;
    if (extra.length >= 2) findings.push(finding("audit/prefilled-generation", long ? "warning" : "info", "The generation prompt pre-fills the assistant's answer with text the model did not write", locate(s, prompt.trim()), prompt.trim()));
  }

  return { findings, reference };
}
