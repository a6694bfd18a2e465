// Checks of a template against the model it ships with (GGUF tokenizer metadata) and against
// what servers expect: double BOS, a missing add_generation_prompt branch, an end-of-turn
// marker that is not the model's EOS/EOT token, assertions that fire on ordinary chats, and
// a template pasted still JSON-escaped.
import type { SpecialTokens, SuiteConversation } from "./conversationSuite";
import { lineRange } from "./errorLocation";
import type { ScannedTemplate } from "./scanner";
import type { RenderOutcome, TemplateFinding, TextRange } from "./types";

export interface SemanticInput {
  readonly text: string;
  readonly scanned: ScannedTemplate;
  readonly suite: readonly SuiteConversation[];
  /** Reference-engine outcomes, one per suite conversation. */
  readonly reference: readonly RenderOutcome[];
  readonly tokens: SpecialTokens;
  /** True when the tokens come from a real model (GGUF), so token checks are meaningful. */
  readonly tokensFromModel: boolean;
}

function firstCode(s: ScannedTemplate, re: RegExp): TextRange | undefined {
  const m = re.exec(s.code);
  return m ? { start: m.index, end: m.index + m[0].length } : undefined;
}

const wholeFirstLine = (text: string): TextRange => lineRange(text, 0);

export function looksJsonEscaped(text: string): boolean {
  const t = text.trim();
  return t.length > 2 && !t.includes("\n") && /\\n|\\"/.test(t) && (/^"[\s\S]*"$/.test(t) || /\{%-?\s|\{\{/.test(t));
}

function decodeJsonEscaped(text: string): string | undefined {
  const t = text.trim();
  try {
    const v: unknown = JSON.parse(t.startsWith('"') ? t : `"${t}"`);
    return typeof v === "string" ? v : undefined;
  } catch {
    return undefined;
  }
}

export function semanticChecks(input: SemanticInput): TemplateFinding[] {
  const { text, scanned, suite, reference, tokens } = input;
  const out: TemplateFinding[] = [];

  if (looksJsonEscaped(text)) {
    const decoded = decodeJsonEscaped(text);
    out.push({
      ruleId: "source/json-escaped",
      kind: "semantic",
      severity: "error",
      message: "This template is still JSON-escaped (pasted from tokenizer_config.json?): \\n and \\\" are literal text here",
      range: { start: 0, end: text.length },
      fixes: decoded === undefined ? undefined : [{ title: "Unescape the JSON string", edits: [{ start: 0, end: text.length, newText: decoded }] }],
    });
  }

  if (!/\badd_generation_prompt\b/.test(scanned.code)) {
    out.push({
      ruleId: "semantic/missing-generation-prompt",
      kind: "semantic",
      severity: "warning",
      message: "The template never reads add_generation_prompt: servers cannot open the assistant turn, so the model continues the user's text",
      range: wholeFirstLine(text),
    });
  }

  // Assertions that fire on ordinary chats make servers fall back to a generic format.
  suite.forEach((conv, i) => {
    const r = reference[i];
    if (!conv.basic || r === undefined || r.ok || r.stage !== "render" || conv.name.startsWith("plain,")) return;
    if (!/raise_exception|TemplateError|Jinja Exception/.test(r.error) && !/\braise_exception\s*\(/.test(scanned.code)) return;
    out.push({
      ruleId: "semantic/raise-exception-on-valid-chat",
      kind: "semantic",
      severity: "warning",
      message: `raise_exception fires on a common valid conversation (“${conv.name}”): ${r.error.split("\n")[0]}. Servers that probe templates then fall back to a generic format`,
      range: firstCode(scanned, /\braise_exception\s*\(/) ?? wholeFirstLine(text),
      conversation: conv.name,
    });
  });

  if (!input.tokensFromModel) return out;

  const plain = suite.findIndex((c) => c.name === "plain");
  const plainOut = plain >= 0 ? reference[plain] : undefined;
  if (tokens.addBos && tokens.bos && plainOut?.ok && plainOut.output.startsWith(tokens.bos)) {
    out.push({
      ruleId: "semantic/double-bos",
      kind: "semantic",
      severity: "warning",
      message: `The template emits BOS (${JSON.stringify(tokens.bos)}) and tokenizer.ggml.add_bos_token is true: runtimes that do not strip it send BOS twice`,
      range: firstCode(scanned, /\bbos_token\b/) ?? wholeFirstLine(text),
    });
  }

  // The text after the last assistant message is the end-of-turn marker the model learned to stop on.
  const closed = suite.findIndex((c) => c.name === "plain, no generation prompt");
  const closedOut = closed >= 0 ? reference[closed] : undefined;
  const lastReply = "Hi! How can I help?";
  if (closedOut?.ok && closedOut.output.includes(lastReply)) {
    const tail = closedOut.output.slice(closedOut.output.lastIndexOf(lastReply) + lastReply.length).trim();
    const stops = [tokens.eos, tokens.eot].filter((t): t is string => !!t);
    if (tail.length > 0 && !stops.some((t) => tail.includes(t))) {
      const marker = tail.split(/\s/)[0];
      const at = text.indexOf(marker);
      out.push({
        ruleId: "semantic/end-of-turn-token",
        kind: "semantic",
        severity: "warning",
        message: `Assistant turns end with ${JSON.stringify(marker)}, which is neither the model's EOS (${JSON.stringify(tokens.eos)})${tokens.eot ? ` nor EOT (${JSON.stringify(tokens.eot)})` : ""}: generation may not stop`,
        range: at >= 0 ? { start: at, end: at + marker.length } : wholeFirstLine(text),
      });
    }
  }
  return out;
}
