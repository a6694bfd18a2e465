// gguf_check_chat_template: lint (engine compatibility) and audit (suspicious content) of the chat
// templates in a GGUF, a tokenizer_config.json, a .jinja file or given text; findings capped.
import fs from "node:fs";
import path from "node:path";
import { displayName, escapeToOneLine } from "../../shared/displayText";
import { auditTemplate } from "../templates/audit";
import type { SpecialTokens } from "../templates/conversationSuite";
import { lintTemplate } from "../templates/linter";
import { lineStarts, positionAt } from "../templates/scanner";
import { findJsonTemplates, readGgufTemplates, tokenizerConfigTokens } from "../templates/sources";
import type { TemplateFinding } from "../templates/types";
import { AgentToolRefusal, type AgentToolEnv } from "./agentToolEnv";
import { allowedExistingFile } from "./pathPolicy";
import { asToolInput, optionalEnum, optionalInteger, optionalString } from "./toolInput";

/** Bigger text files are not templates (the biggest tokenizer_config.json files are a few MB). */
const MAX_TEXT_FILE_BYTES = 32 * 2 ** 20;

interface NamedTemplate {
  readonly name: string;
  readonly text: string;
}

async function loadTemplates(file: string): Promise<{ templates: NamedTemplate[]; tokens?: SpecialTokens }> {
  if (file.toLowerCase().endsWith(".gguf")) {
    const { templates, tokens } = await readGgufTemplates(file);
    return { templates: [...templates].map(([name, text]) => ({ name, text })), tokens };
  }
  if (fs.statSync(file).size > MAX_TEXT_FILE_BYTES) throw new AgentToolRefusal("bad-input", `${displayName(path.basename(file))} is larger than ${MAX_TEXT_FILE_BYTES / 2 ** 20} MiB; that is not a chat template`);
  const text = await fs.promises.readFile(file, "utf8");
  if (file.toLowerCase().endsWith(".json")) {
    let found;
    try {
      found = findJsonTemplates(text);
    } catch (e) {
      throw new AgentToolRefusal("bad-input", `${displayName(path.basename(file))} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    return { templates: found.map((t) => ({ name: t.name, text: t.template })), tokens: tokenizerConfigTokens(text) };
  }
  return { templates: [{ name: path.basename(file), text }] };
}

function findingLine(template: NamedTemplate, f: TemplateFinding): string {
  const at = positionAt(lineStarts(template.text), f.range.start);
  const engine = f.engine ? `, ${f.engine}${f.ruleBased ? " (rule)" : ""}` : "";
  const fixes = (f.fixes ?? []).filter((x) => x.safe).map((x) => ` Safe fix: ${escapeToOneLine(x.title)}.`).join("");
  return `- ${f.severity} ${f.ruleId} at line ${at.line + 1}:${at.column + 1}${engine}: ${displayName(escapeToOneLine(f.message), 400)}${fixes}`;
}

export async function checkTemplateForAgent(rawInput: unknown, env: AgentToolEnv): Promise<string> {
  const input = asToolInput(rawInput, ["path", "template", "mode", "maxFindings"]);
  const file = optionalString(input, "path");
  const inline = optionalString(input, "template", 200_000);
  if ((file === undefined) === (inline === undefined)) throw new AgentToolRefusal("bad-input", "give exactly one of `path` (a .gguf, tokenizer_config.json or .jinja file) or `template` (the text)");
  const mode = optionalEnum(input, "mode", ["lint", "audit", "both"] as const, "both");
  const maxFindings = optionalInteger(input, "maxFindings", 1, 200, 40);
  const source = file !== undefined
    ? await loadTemplates(allowedExistingFile(file, env.roots, env.baseDir, "Template source"))
    : { templates: [{ name: "template", text: inline ?? "" }] };
  if (source.templates.length === 0) return `${displayName(file ?? "the input")} has no chat template.`;

  const engines = env.engines();
  const targets = env.templateTargets();
  const out: string[] = [];
  let listed = 0;
  let total = 0;
  for (const template of source.templates.slice(0, 8)) {
    const findings: TemplateFinding[] = [];
    if (mode !== "audit") {
      findings.push(...(await lintTemplate(engines, template.text, { targets, tokens: source.tokens, tokensFromModel: source.tokens !== undefined, signal: env.signal })).findings);
    }
    if (mode !== "lint") findings.push(...(await auditTemplate(engines, template.text, { tokens: source.tokens, signal: env.signal })).findings);
    const errors = findings.filter((f) => f.severity === "error").length;
    out.push(`## ${displayName(template.name, 120)}: ${findings.length} finding(s), ${errors} error(s)`);
    total += findings.length;
    for (const f of findings) {
      if (listed >= maxFindings) break;
      out.push(findingLine(template, f));
      listed++;
    }
    out.push("");
  }
  if (total > listed) out.push(`(${total - listed} more findings not shown; raise maxFindings or use \`gguf-studio template lint\`)`);
  if (source.templates.length > 8) out.push(`(${source.templates.length - 8} more templates not checked)`);
  const skipped = targets.filter((t) => !engines.isAvailable(t));
  const checked = mode === "audit" ? `rendered with ${engines.reference}` : `engines: ${targets.filter((t) => engines.isAvailable(t)).join(", ") || "none available"}${skipped.length ? ` (not available: ${skipped.join(", ")})` : ""}`;
  return [`Chat template check (${mode}) of ${displayName(file ?? "the given text", 300)}; ${checked}`, "", ...out].join("\n");
}
