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

/**
 * Escapes that a JSON-escaped template carries as literal text: `\n` or `\"` in the template's
 * TEXT (outside {{ }} / {% %}), where no engine decodes them. Inside a Jinja string literal they
 * are ordinary escapes that every engine renders, so they never count.
 */
function escapesInText(s: ScannedTemplate): number | undefined {
  let at = 0;
  const pieces: [number, number][] = [];
  for (const t of s.tags) {
    pieces.push([at, t.start]);
    at = t.end;
  }
  pieces.push([at, s.text.length]);
  for (const [a, b] of pieces) {
    const i = s.text.slice(a, b).search(/\\n|\\"/);
    if (i >= 0) return a + i;
  }
  return undefined;
}

export function looksJsonEscaped(text: string, scanned: ScannedTemplate): boolean {
  const t = text.trim();
  return t.length > 2 && !t.includes("\n") && escapesInText(scanned) !== undefined;
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

/** Whitespace-insensitive form, for comparing turn markers. */
const squash = (s: string) => s.replace(/\s+/g, "");

/**
 * Decided by rendering: with add_generation_prompt true, something must follow the last user
 * message that does not follow an assistant message (the assistant opener:
 * `<|im_start|>assistant\n`, `[/INST]`, `<|assistant|>`, …). Templates that open the assistant
 * turn after every user message pass without reading the variable.
 */
function generationPromptProblem(suite: readonly SuiteConversation[], reference: readonly RenderOutcome[]): string | undefined {
  const out = (name: string) => {
    const i = suite.findIndex((c) => c.name === name);
    const r = i >= 0 ? reference[i] : undefined;
    return r?.ok ? r.output : undefined;
  };
  const on = out("plain");
  const off = out("plain, generation prompt off");
  const closed = out("plain, no generation prompt");
  if (on === undefined || off === undefined || closed === undefined || on !== off) return undefined;
  const question = "What is 2+2?";
  const reply = "Hi! How can I help?";
  if (!on.includes(question) || !closed.includes(reply)) return undefined;
  // What follows the last user message, and what follows the last assistant message: when they
  // are the same (an end-of-turn marker, or nothing), no assistant turn was opened.
  const afterUser = on.slice(on.lastIndexOf(question) + question.length);
  const afterAssistant = closed.slice(closed.lastIndexOf(reply) + reply.length);
  if (squash(afterUser) !== squash(afterAssistant)) return undefined;
  const opener = closed.slice(closed.indexOf("Hello!") + "Hello!".length, closed.indexOf(reply));
  if (squash(opener) === squash(afterAssistant)) return undefined; // no turn markers to compare
  return `With add_generation_prompt=true the prompt ends with ${JSON.stringify(afterUser.slice(0, 60))} after the user's message, as after an assistant reply, without the assistant opener ${JSON.stringify(opener.trim().slice(0, 60))}: servers cannot open the assistant turn, so the model continues the user's text`;
}

export function semanticChecks(input: SemanticInput): TemplateFinding[] {
  const { text, scanned, suite, reference, tokens } = input;
  const out: TemplateFinding[] = [];

  if (looksJsonEscaped(text, scanned)) {
    const decoded = decodeJsonEscaped(text);
    // Confirmed when the render prints the escape as text: the prompt really carries `\n`.
    const confirmed = reference.some((r) => r.ok && /\\n|\\"/.test(r.output));
    out.push({
      ruleId: "source/json-escaped",
      kind: "semantic",
      severity: confirmed ? "error" : "warning",
      message: `This template is still JSON-escaped (pasted from tokenizer_config.json?): \\n and \\" outside {{ }} and {% %} are literal text${confirmed ? ", and the rendered prompt contains them" : ""}`,
      range: { start: 0, end: text.length },
      fixes: decoded === undefined ? undefined : [{ title: "Unescape the JSON string", edits: [{ start: 0, end: text.length, newText: decoded }] }],
    });
  }

  const noOpener = generationPromptProblem(suite, reference);
  if (noOpener) {
    out.push({
      ruleId: "semantic/missing-generation-prompt",
      kind: "semantic",
      severity: "warning",
      message: noOpener,
      range: firstCode(scanned, /\badd_generation_prompt\b/) ?? wholeFirstLine(text),
    });
  }

  // Assertions that fire on ordinary chats make servers fall back to a generic format.
  suite.forEach((conv, i) => {
    const r = reference[i];
    if (!conv.basic || r === undefined || r.ok || r.stage !== "render" || conv.name.startsWith("plain,")) return;
    // Only the template's own assertions: an undefined variable (e.g. additional_special_tokens
    // that only the model's tokenizer provides) is a rejected conversation, reported as info.
    if (!/raise_exception|TemplateError|Jinja Exception/.test(r.error)) return;
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
