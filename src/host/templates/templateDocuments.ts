// Which documents hold chat templates, and how a document's text maps to template text:
// whole-document templates (.jinja, chat_template.jinja, gguf-template:) and templates inside
// tokenizer_config.json (ranges mapped back into the JSON string literal).
import * as path from "node:path";
import * as vscode from "vscode";
import { findJsonTemplates, templateRangeToJson, type JsonTemplate } from "../../core/templates/sources";
import type { TextEdit, TextRange } from "../../core/templates/types";
import { GGUF_TEMPLATE_SCHEME } from "./ggufTemplateFs";

export const TEMPLATE_LANGUAGE_ID = "jinja-chat-template";

export interface TemplateRegion {
  readonly template: string;
  /** Template range → document offsets. */
  toDocument(r: TextRange): TextRange;
  /** A fix's template edits → document edits. */
  editsToDocument(edits: readonly TextEdit[], applyToTemplate: (t: string) => string): TextEdit[];
  readonly label?: string;
}

export function isTemplateDocument(doc: vscode.TextDocument): boolean {
  return doc.uri.scheme === GGUF_TEMPLATE_SCHEME || doc.languageId === TEMPLATE_LANGUAGE_ID || doc.fileName.endsWith(".jinja") || isTokenizerConfig(doc);
}

function isTokenizerConfig(doc: vscode.TextDocument): boolean {
  return path.basename(doc.fileName) === "tokenizer_config.json";
}

function jsonRegion(t: JsonTemplate): TemplateRegion {
  return {
    template: t.template,
    label: t.name,
    toDocument: (r) => templateRangeToJson(t, r),
    // JSON escapes make per-edit mapping fragile; rewrite the whole string literal instead.
    editsToDocument: (_edits, apply) => [{ start: t.literal.start, end: t.literal.end, newText: JSON.stringify(apply(t.template)) }],
  };
}

/** The template regions of a document ([] when it holds none or the JSON does not parse). */
export function templateRegions(doc: vscode.TextDocument): TemplateRegion[] {
  const text = doc.getText();
  if (isTokenizerConfig(doc)) {
    try {
      return findJsonTemplates(text).map(jsonRegion);
    } catch {
      return []; // the JSON language service reports syntax errors
    }
  }
  return [{ template: text, toDocument: (r) => r, editsToDocument: (edits) => [...edits] }];
}
