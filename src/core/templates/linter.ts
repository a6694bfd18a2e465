// The linter: renders a template with every target engine over the conversation suite, and
// turns outcomes, rules and model checks into findings with ranges, rule ids and fixes.
import { buildConversationSuite, DEFAULT_SPECIAL_TOKENS, type SpecialTokens, type SuiteConversation } from "./conversationSuite";
import type { EngineSet } from "./engines";
import { lineRange, locateEngineError } from "./errorLocation";
import { verifyFix } from "./fixVerifier";
import { locateDifference, lostContent, onlyNoneDiffers, printsTypedParts } from "./differentials";
import { confirmRules, type EngineEvidence } from "./ruleConfirmation";
import { runTemplateRules } from "./rules";
import { scanTemplate } from "./scanner";
import { semanticChecks } from "./semanticChecks";
import { ENGINE_LABELS, type EngineId, type RenderOutcome, type Severity, type TemplateFinding, type TextRange } from "./types";

export interface LintOptions {
  readonly targets: readonly EngineId[];
  readonly tokens?: SpecialTokens;
  /** True when tokens come from the model (enables the token checks). */
  readonly tokensFromModel?: boolean;
  readonly suite?: readonly SuiteConversation[];
  /** Verify every fix by re-rendering (default true). */
  readonly verifyFixes?: boolean;
  readonly signal?: AbortSignal;
}

export interface LintResult {
  readonly findings: TemplateFinding[];
  readonly reference: EngineId;
  readonly suite: readonly SuiteConversation[];
  /** Outcomes per engine (targets plus the reference), one per suite conversation. */
  readonly renders: ReadonlyMap<EngineId, readonly RenderOutcome[]>;
  readonly cancelled: boolean;
}

const isEngineFailure = (r: RenderOutcome | undefined): r is Extract<RenderOutcome, { ok: false }> => !!r && !r.ok && r.stage !== "unavailable";
const isRunaway = (r: RenderOutcome) => !r.ok && (r.stage === "limit" || r.stage === "timeout" || r.stage === "crash");

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

function excerpt(s: string, at: number): string {
  return JSON.stringify(s.slice(Math.max(0, at - 20), at + 30));
}

/** The finding for an empty template: no engine renders anything, so servers fall back to a guess. */
function emptyTemplateFinding(): TemplateFinding {
  return {
    ruleId: "source/empty-template",
    kind: "semantic",
    severity: "error",
    message: "The template is empty: it renders no prompt at all, and servers that find no template fall back to a generic format",
    range: { start: 0, end: 0 },
  };
}

export async function lintTemplate(engines: EngineSet, text: string, options: LintOptions): Promise<LintResult> {
  const tokens = options.tokens ?? DEFAULT_SPECIAL_TOKENS;
  const suite = options.suite ?? buildConversationSuite(tokens);
  const reference = engines.reference;
  if (text.trim().length === 0) return { findings: [emptyTemplateFinding()], reference, suite, renders: new Map(), cancelled: false };
  const targets = options.targets.filter((t) => engines.isAvailable(t));
  const rendered = [...new Set<EngineId>([reference, ...targets])];
  const contexts = suite.map((c) => c.context);
  const outcomes = await Promise.all(rendered.map((e) => engines.render(e, text, contexts, options.signal)));
  const renders = new Map(rendered.map((e, i) => [e, outcomes[i]]));
  const cancelled = options.signal?.aborted ?? false;
  const refOut = renders.get(reference) ?? [];
  const scanned = scanTemplate(text);
  const findings: TemplateFinding[] = [];
  const fallback = lineRange(text, 0);
  /** Target engines whose renders failed or diverged: what confirms a rule about them. */
  const observed = new Map<EngineId, EngineEvidence>();
  const observe = (engine: EngineId, range: TextRange | undefined, error: string) => {
    const ev = observed.get(engine) ?? { ranges: [], unlocated: [] };
    if (range) ev.ranges.push(range);
    else ev.unlocated.push(error);
    observed.set(engine, ev);
  };
  let noneDifference: EngineId[] = [];
  let typedPartsDifference: EngineId[] = [];

  for (const engine of targets) {
    const results = renders.get(engine) ?? [];
    const parse = results.find((r) => isEngineFailure(r) && r.stage === "parse");
    if (parse && !parse.ok) {
      const loc = locateEngineError(engine, text, parse.error);
      const refParses = refOut.some((r) => r.ok || r.stage !== "parse");
      observe(engine, loc.range, loc.message);
      findings.push({
        ruleId: "syntax-error",
        kind: "syntax",
        severity: engine === "llama.cpp" || !refParses ? "error" : "warning",
        message: `${ENGINE_LABELS[engine]} cannot parse the template: ${loc.message}`,
        range: loc.range ?? fallback,
        engine,
      });
      continue;
    }
    // Group failures by message so one construct gives one diagnostic listing its conversations.
    const groups = new Map<string, { convs: string[]; basic: boolean; runaway: boolean; error: string }>();
    results.forEach((r, i) => {
      if (!isEngineFailure(r)) return;
      // The reference rejects it too: the template refuses this conversation, not an engine gap.
      if (engine !== reference && isEngineFailure(refOut[i]) && !isRunaway(r)) return;
      const key = locateEngineError(engine, text, r.error).message;
      const g = groups.get(key) ?? { convs: [], basic: false, runaway: false, error: r.error };
      g.convs.push(suite[i].name);
      g.basic ||= suite[i].basic;
      g.runaway ||= isRunaway(r);
      groups.set(key, g);
    });
    for (const [message, g] of groups) {
      const loc = locateEngineError(engine, text, g.error);
      const rejected = engine === reference && !g.runaway;
      if (!rejected) observe(engine, loc.range, message);
      // An engine that runs this template in production failing on a plain chat loses the
      // conversation: an error. Other engines and conversations: a warning.
      const severity: Severity = g.runaway ? "error" : rejected ? "info" : engine === "llama.cpp" && g.basic ? "error" : "warning";
      findings.push({
        ruleId: g.runaway ? "render-limit" : rejected ? "render-rejected" : "render-error",
        kind: "render",
        severity,
        message: rejected
          ? `The template rejects: ${g.convs.join(", ")} (${message})`
          : `${ENGINE_LABELS[engine]} fails to render ${g.convs.map((c) => `“${c}”`).join(", ")}: ${message}`,
        range: loc.range ?? fallback,
        engine,
        conversation: g.convs[0],
      });
    }
    if (engine === reference) continue;
    const diffs = results.flatMap((r, i) => {
      const ref = refOut[i];
      return r?.ok && ref?.ok && r.output !== ref.output ? [{ i, actual: r.output, expected: ref.output }] : [];
    });
    const real = diffs.filter((d) => {
      if (reference === "jinja2" && onlyNoneDiffers(d.expected, d.actual)) noneDifference.push(engine);
      else if (printsTypedParts(suite[d.i], d.expected)) typedPartsDifference.push(engine);
      else return true;
      return false;
    });
    if (real.length === 0) continue;
    const lost = real.map((d) => ({ d, lost: lostContent(suite[d.i], d.expected, d.actual) })).find((x) => x.lost.length > 0);
    const d = lost?.d ?? real[0];
    const at = firstDifference(d.expected, d.actual);
    const located = await locateDifference(engines, scanned, engine, suite[d.i], options.signal);
    if (located) observe(engine, located, "");
    const where = `first difference at output offset ${at}: expected ${excerpt(d.expected, at)}, got ${excerpt(d.actual, at)}`;
    findings.push({
      ruleId: lost ? "content-loss" : "differential",
      kind: "differential",
      severity: lost && d.i >= 0 && suite[d.i].basic ? "error" : "warning",
      message: lost
        ? `${ENGINE_LABELS[engine]} silently drops conversation content on “${suite[d.i].name}” that ${ENGINE_LABELS[reference]} renders: ${lost.lost.map((x) => JSON.stringify(x.length > 60 ? x.slice(0, 57) + "…" : x)).join(", ")}; ${where}`
        : `${ENGINE_LABELS[engine]} renders differently from ${ENGINE_LABELS[reference]} on ${real.map((x) => `“${suite[x.i].name}”`).join(", ")}; ${where}`,
      range: located ?? fallback,
      engine,
      conversation: suite[d.i].name,
      diff: { reference, expected: d.expected, actual: d.actual },
    });
  }
  noneDifference = [...new Set(noneDifference)];
  if (noneDifference.length > 0) {
    findings.push({
      ruleId: "known-difference/none",
      kind: "differential",
      severity: "info",
      message: `Known engine difference, shown once: ${ENGINE_LABELS.jinja2} prints “None” for null values (e.g. the content of a tool-call message) where ${noneDifference.map((e) => ENGINE_LABELS[e]).join(" and ")} print nothing`,
      range: fallback,
    });
  }

  typedPartsDifference = [...new Set(typedPartsDifference)];
  if (typedPartsDifference.length > 0) {
    findings.push({
      ruleId: "known-difference/typed-content",
      kind: "differential",
      severity: "info",
      message: `The template prints typed content parts ([{type: "text", …}]) as a value, so it does not support them: each engine stringifies the list its own way (${typedPartsDifference.map((e) => ENGINE_LABELS[e]).join(", ")} differ from ${ENGINE_LABELS[reference]}). Servers such as llama.cpp flatten typed parts to text for such templates`,
      range: fallback,
    });
  }
  findings.push(...confirmRules(runTemplateRules(text, { targets: options.targets }, scanned), { observed, rendered: targets }, scanned));
  findings.push(...semanticChecks({ text, scanned, suite, reference: refOut, tokens, tokensFromModel: options.tokensFromModel ?? false }));

  const result = { findings, reference, suite, renders, cancelled };
  if (options.verifyFixes !== false && !cancelled) await verifyLintFixes(engines, text, result, options);
  return result;
}

/**
 * Verifies every fix of a lint result in place (sets fix.safe / fix.verdict). Separate from
 * lintTemplate so an editor can publish diagnostics first and verify fixes afterwards.
 */
export async function verifyLintFixes(engines: EngineSet, text: string, result: LintResult, options: Pick<LintOptions, "targets" | "signal">): Promise<void> {
  const targets = options.targets.filter((t) => engines.isAvailable(t));
  const input = { engines, text, targets, suite: result.suite, referenceBefore: result.renders.get(result.reference) ?? [], before: result.renders, signal: options.signal };
  await Promise.all(
    result.findings.flatMap((f) => f.fixes ?? []).map(async (fix) => {
      const v = await verifyFix(input, fix);
      fix.safe = v.safe;
      fix.verdict = v.verdict;
    }),
  );
}
