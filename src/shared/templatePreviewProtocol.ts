// Messages between the chat-template preview webview and the host. Types only.
import { isString, type MessageSchema } from "./messageSchema";

/** Engine ids as the core names them ("llama.cpp" | "minja" | "hf-jinja" | "jinja2"). */
export type PreviewEngineId = "llama.cpp" | "minja" | "hf-jinja" | "jinja2";

/** One engine's rendering of the chosen conversation. */
export interface PreviewColumn {
  readonly engine: PreviewEngineId;
  readonly label: string;
  readonly ok: boolean;
  /** The rendered prompt (ok) or the engine's error text (not ok). */
  readonly text: string;
  /** Failure stage ("parse", "render", "unavailable", ...) when not ok. */
  readonly stage?: string;
  /** Tokens in the rendered prompt per the model's vocabulary; undefined without one. */
  readonly tokenCount?: number;
  readonly charCount: number;
  readonly isReference: boolean;
  /** Rendered, and the text differs from the reference engine's rendering. */
  readonly differsFromReference: boolean;
}

export interface PreviewState {
  /** The template document shown (its file name). */
  readonly title: string;
  readonly conversations: readonly string[];
  readonly conversation: string;
  readonly reference: PreviewEngineId;
  /** Where token counts come from (the GGUF's file name), or why there are none. */
  readonly vocabulary: { readonly source: string } | { readonly missing: string };
  /** Special-token strings to highlight in the rendered text (longest first). */
  readonly specialTokens: readonly string[];
  /** `<|...|>` strings in the text that the vocabulary splits into several tokens (likely a template bug). */
  readonly notSpecialTokens: readonly string[];
  readonly columns: readonly PreviewColumn[];
}

export type TemplatePreviewToWebview = { readonly type: "state"; readonly state: PreviewState } | { readonly type: "rendering" };

export type TemplatePreviewFromWebview = { readonly type: "ready" } | { readonly type: "selectConversation"; readonly name: string };

/** Run-time check of every TemplatePreviewFromWebview message (the host accepts nothing else). */
export const TEMPLATE_PREVIEW_FROM_WEBVIEW_SCHEMA: MessageSchema<TemplatePreviewFromWebview> = {
  ready: {},
  selectConversation: { name: isString(256) },
};
