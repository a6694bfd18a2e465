// Rule findings predict that an engine fails or diverges. A prediction about an engine we ran is
// kept as a warning only when that engine's render confirms it (it failed or diverged on the
// suite); when the bundled engine rendered fine, the rule is about OTHER builds of it and is
// labelled so, as an info. Rules that fire many times (strip with an argument) are grouped into
// one finding that lists the other places.
import { tagAt } from "./codeStructure";
import { lineStarts, positionAt, type ScannedTemplate } from "./scanner";
import { ENGINE_LABELS, type EngineId, type TemplateFinding, type TextRange } from "./types";
import { TEMPLATE_RULES } from "./rules";

/** Where an engine's failure or divergence was located, and the messages of those it did not locate. */
export interface EngineEvidence {
  readonly ranges: TextRange[];
  readonly unlocated: string[];
}

export interface RuleEvidence {
  /** Engines whose renders failed or diverged from the reference, with where. */
  readonly observed: ReadonlyMap<EngineId, EngineEvidence>;
  /** Engines that were rendered (available targets). */
  readonly rendered: readonly EngineId[];
}

/** Rules reported once per template, however many places use the construct. */
const GROUPED = new Set(["compat/strip-argument"]);

function grouped(findings: readonly TemplateFinding[], text: string): TemplateFinding[] {
  const out: TemplateFinding[] = [];
  const byRule = new Map<string, TemplateFinding[]>();
  for (const f of findings) {
    if (!GROUPED.has(f.ruleId)) out.push(f);
    else byRule.set(f.ruleId, [...(byRule.get(f.ruleId) ?? []), f]);
  }
  const starts = text.length > 0 ? lineStarts(text) : [0];
  for (const group of byRule.values()) {
    const [first, ...rest] = group;
    if (rest.length === 0) {
      out.push(first);
      continue;
    }
    const lines = [...new Set(rest.map((f) => positionAt(starts, f.range.start).line + 1))];
    const shown = lines.slice(0, 8).join(", ") + (lines.length > 8 ? ", …" : "");
    out.push({ ...first, message: `${first.message} (${group.length} places; also line${lines.length > 1 ? "s" : ""} ${shown})`, fixes: group.flatMap((f) => f.fixes ?? []) });
  }
  return out;
}

/**
 * The engine's evidence points at the construct: a located failure or difference inside the same
 * tag, or an unlocated error that names one of the construct's identifiers (`strip`, `map`, …).
 */
function confirms(ev: EngineEvidence | undefined, scanned: ScannedTemplate, range: TextRange): boolean {
  if (!ev) return false;
  const names = scanned.code.slice(range.start, range.end).match(/[A-Za-z_]\w{2,}/g) ?? [];
  if (ev.unlocated.some((m) => names.some((n) => new RegExp(`\\b${n}\\b`).test(m)))) return true;
  const tag = tagAt(scanned, range.start);
  const [a, b] = tag ? [tag.start, tag.end] : [range.start, range.end];
  return ev.ranges.some((r) => r.start < b && a < Math.max(r.end, r.start + 1));
}

export function confirmRules(findings: readonly TemplateFinding[], evidence: RuleEvidence, scanned: ScannedTemplate): TemplateFinding[] {
  const text = scanned.text;
  const confirmed = findings.map((f): TemplateFinding => {
    const rule = TEMPLATE_RULES.find((r) => r.id === f.ruleId);
    if (!rule) return f;
    const ran = rule.engines.filter((e) => evidence.rendered.includes(e));
    const seen = ran.find((e) => confirms(evidence.observed.get(e), scanned, f.range));
    if (seen) return { ...f, engine: seen, message: f.message.replace(/\[rule-based: [^\]]*\]$/, `[confirmed: ${ENGINE_LABELS[seen]} fails or differs on the suite]`) };
    const why =
      ran.length > 0
        ? `the bundled ${ran.map((e) => ENGINE_LABELS[e]).join(" and ")} render${ran.length === 1 ? "s" : ""} this template without a difference on the suite`
        : `${rule.engines.map((e) => ENGINE_LABELS[e]).join(" / ")} not available to confirm`;
    return {
      ...f,
      severity: f.severity === "hint" ? "hint" : "info",
      message: `Other engine versions (${rule.scope}): ${f.message.replace(/ \[rule-based: [^\]]*\]$/, "")} [not confirmed: ${why}]`,
    };
  });
  return grouped(confirmed, text);
}
