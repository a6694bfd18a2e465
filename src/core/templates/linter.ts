// The linter: renders a template with every target engine over the conversation suite, and
// turns outcomes, rules and model checks into findings with ranges, rule ids and fixes.
import { buildConversationSuite, DEFAULT_SPECIAL_TOKENS, type SpecialTokens, type SuiteConversation } from "./conversationSuite";
import type { EngineSet } from "./engines";
import { lineRange, locateEngineError } from "./errorLocation";
import { verifyFix } from "./fixVerifier";
import { runTemplateRules } from "./rules";
import { scanTemplate } from "./scanner";
import { semanticChecks } from "./semanticChecks";
import { ENGINE_LABELS, type EngineId, type RenderOutcome, type Severity, type TemplateFinding } from "./types";

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

export async function lintTemplate(engines: EngineSet, text: string, options: LintOptions): Promise<LintResult> {
  const tokens = options.tokens ?? DEFAULT_SPECIAL_TOKENS;
  const suite = options.suite ?? buildConversationSuite(tokens);
  const reference = engines.reference;
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

  for (const engine of targets) {
    const results = renders.get(engine) ?? [];
    const parse = results.find((r) => isEngineFailure(r) && r.stage === "parse");
    if (parse && !parse.ok) {
      const loc = locateEngineError(engine, text, parse.error);
      const refParses = refOut.some((r) => r.ok || r.stage !== "parse");
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
    if (diffs.length > 0) {
      const d = diffs[0];
      const at = firstDifference(d.expected, d.actual);
      findings.push({
        ruleId: "differential",
        kind: "differential",
        severity: "warning",
        message: `${ENGINE_LABELS[engine]} renders differently from ${ENGINE_LABELS[reference]} on ${diffs.map((x) => `“${suite[x.i].name}”`).join(", ")}; first difference at output offset ${at}: expected ${excerpt(d.expected, at)}, got ${excerpt(d.actual, at)}`,
        range: fallback,
        engine,
        conversation: suite[d.i].name,
        diff: { reference, expected: d.expected, actual: d.actual },
      });
    }
  }

  findings.push(...runTemplateRules(text, { targets: options.targets }, scanned));
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
