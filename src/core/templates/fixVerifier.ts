// A fix is safe only when, after it, the reference engine's output on the whole suite is
// byte-identical to its output for the original template (on every conversation the original
// rendered), and no target engine stops rendering a conversation it rendered before. (A target
// that failed before and still fails is the construct's other problem, reported separately.)
import type { SuiteConversation } from "./conversationSuite";
import { applyEdits } from "./edits";
import type { EngineSet } from "./engines";
import type { EngineId, RenderOutcome, TemplateFix } from "./types";

export interface VerifyInput {
  readonly engines: EngineSet;
  readonly text: string;
  readonly targets: readonly EngineId[];
  readonly suite: readonly SuiteConversation[];
  /** Reference outcomes for the ORIGINAL template. */
  readonly referenceBefore: readonly RenderOutcome[];
  /** Every engine's outcomes for the ORIGINAL template (a fix may not break what rendered). */
  readonly before: ReadonlyMap<EngineId, readonly RenderOutcome[]>;
  readonly signal?: AbortSignal;
}

export interface FixVerdict {
  readonly safe: boolean;
  readonly verdict: string;
  /** The reference output after the fix on the first conversation that changed (for the diff). */
  readonly changed?: { readonly conversation: string; readonly before: string; readonly after: string };
}

export async function verifyFix(input: VerifyInput, fix: TemplateFix): Promise<FixVerdict> {
  let fixed: string;
  try {
    fixed = applyEdits(input.text, fix.edits);
  } catch (e) {
    return { safe: false, verdict: e instanceof Error ? e.message : String(e) };
  }
  const contexts = input.suite.map((c) => c.context);
  const reference = input.engines.reference;
  const engines = [...new Set<EngineId>([reference, ...input.targets.filter((t) => input.engines.isAvailable(t))])];
  const results = await Promise.all(engines.map((e) => input.engines.render(e, fixed, contexts, input.signal)));
  const after = new Map(engines.map((e, i) => [e, results[i]]));
  const refAfter = after.get(reference) ?? [];
  for (let i = 0; i < input.suite.length; i++) {
    const before = input.referenceBefore[i];
    if (!before?.ok) continue;
    const conv = input.suite[i].name;
    const now = refAfter[i];
    if (!now?.ok) return { safe: false, verdict: `${reference} no longer renders “${conv}”: ${now?.error ?? "no result"}` };
    if (now.output !== before.output) {
      return { safe: false, verdict: `${reference} output changes on “${conv}”`, changed: { conversation: conv, before: before.output, after: now.output } };
    }
    for (const e of engines) {
      const r = after.get(e)?.[i];
      if (r && !r.ok && input.before.get(e)?.[i]?.ok) return { safe: false, verdict: `${e} does not render “${conv}” after the fix: ${r.error.split("\n")[0]}` };
    }
  }
  return { safe: true, verdict: `renders on ${engines.join(", ")}; ${reference} output identical on the whole suite` };
}
