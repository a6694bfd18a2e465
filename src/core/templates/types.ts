// Shared vocabulary of the chat-template linter: engines, render outcomes, findings, fixes.

/** The template engines a chat template can be linted against. */
export type EngineId = "llama.cpp" | "minja" | "hf-jinja" | "jinja2";
export const ENGINE_IDS: readonly EngineId[] = ["llama.cpp", "minja", "hf-jinja", "jinja2"];

export const ENGINE_LABELS: Readonly<Record<EngineId, string>> = {
  "llama.cpp": "llama.cpp (bundled native engine)",
  minja: "minja (llama.cpp < b7756)",
  "hf-jinja": "@huggingface/jinja",
  jinja2: "jinja2 (transformers)",
};

/** Accepts the ids used in settings and on the CLI, including the older alias "huggingface". */
export function parseEngineId(name: string): EngineId | undefined {
  const n = name.trim().toLowerCase();
  if (n === "llama.cpp" || n === "llamacpp" || n === "native") return "llama.cpp";
  if (n === "minja") return "minja";
  if (n === "hf-jinja" || n === "huggingface" || n === "@huggingface/jinja" || n === "hf") return "hf-jinja";
  if (n === "jinja2" || n === "python") return "jinja2";
  return undefined;
}

/** JSON-serialisable render context (messages, tools, special tokens, flags). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type RenderContext = { [key: string]: JsonValue };

export type RenderFailureStage = "parse" | "render" | "limit" | "crash" | "timeout" | "unavailable";

export type RenderOutcome =
  | { readonly ok: true; readonly output: string }
  | { readonly ok: false; readonly stage: RenderFailureStage; readonly error: string };

/** Half-open character range [start, end) in the template text. */
export interface TextRange {
  readonly start: number;
  readonly end: number;
}

export interface TextEdit extends TextRange {
  readonly newText: string;
}

export type Severity = "error" | "warning" | "info" | "hint";

export interface TemplateFix {
  readonly title: string;
  readonly edits: readonly TextEdit[];
  /** Set by the verifier: renders on every target and reference output stays byte-identical. */
  safe?: boolean;
  /** Why the verifier did not mark it safe (first mismatch), for the diff/preview. */
  verdict?: string;
}

export type FindingKind = "syntax" | "render" | "differential" | "rule" | "semantic" | "audit";

export interface TemplateFinding {
  /** Stable rule id, e.g. "minja/split-maxsplit", "render-error", "semantic/double-bos". */
  readonly ruleId: string;
  readonly kind: FindingKind;
  readonly severity: Severity;
  readonly message: string;
  readonly range: TextRange;
  /** The engine the finding is about; undefined for engine-independent findings. */
  readonly engine?: EngineId;
  /** Rule-based findings say so: they predict an engine's behaviour rather than observe it. */
  readonly ruleBased?: boolean;
  /** The conversation of the suite that exposed it (render/differential findings). */
  readonly conversation?: string;
  /** Differential findings: both outputs, for the diff view. */
  readonly diff?: { readonly reference: EngineId; readonly expected: string; readonly actual: string };
  readonly fixes?: TemplateFix[];
  /** Audit findings: the rendered (or template) text that is the evidence. */
  readonly evidence?: string;
}
