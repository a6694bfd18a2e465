// `gguf-studio template lint|fix|set`: the chat-template linter, its verified fixes and the GGUF
// write-back, headless. Sources: a .jinja file, a tokenizer_config.json (chat_template strings,
// ranges mapped back into the JSON) or a GGUF (every tokenizer.chat_template* key, special tokens
// from its vocabulary).
import path from "node:path";
import { writeFileAtomically } from "../../core/atomicWrite";
import { GgufValueType, writeGgufWithMetadata } from "../../core/gguf";
import { refuseExistingOutputs } from "../../core/tempFiles";
import type { SpecialTokens } from "../../core/templates/conversationSuite";
import { sarifLevel, toSarif } from "../../core/sarif";
import { applyEdits, auditTemplate, EngineSet, findStudioRoot, lineStarts, lintTemplate, nonOverlapping, positionAt, TEMPLATE_RULES } from "../../core/templates/index";
import { findJsonTemplates, GGUF_TEMPLATE_KEY, readGgufTemplates, templateRangeToJson, tokenizerConfigTokens } from "../../core/templates/sources";
import { ENGINE_IDS, ENGINE_LABELS, parseEngineId, type EngineId, type TemplateFinding, type TemplateFix, type TextRange } from "../../core/templates/types";
import packageJson from "../../../package.json";
import { CliCommand, CliUsageError, parseFlags, rejectUnknownFlags } from "../cliCommand";
import { readUtf8File } from "../textInput";

/** One template inside a source file, with the map from template ranges to file ranges. */
interface TemplateUnit {
  /** The GGUF key, the tokenizer_config entry name, or the file name. */
  readonly name: string;
  readonly template: string;
  /** Template range → range in `locationText` (the JSON file for tokenizer_config.json). */
  readonly toFile: (r: TextRange) => TextRange;
}

interface TemplateSource {
  readonly kind: "gguf" | "json" | "jinja";
  readonly path: string;
  /** The text line:col positions refer to: the file for .jinja/.json, each template for a GGUF. */
  readonly fileText?: string;
  readonly units: readonly TemplateUnit[];
  readonly tokens?: SpecialTokens;
}

const MAX_FIX_ROUNDS = 5;

async function loadSource(file: string): Promise<TemplateSource> {
  if (file.toLowerCase().endsWith(".gguf")) {
    const { templates, tokens } = await readGgufTemplates(file);
    const units = [...templates].map(([key, template]) => ({ name: key, template, toFile: (r: TextRange) => r }));
    return { kind: "gguf", path: file, units, tokens };
  }
  const text = await readUtf8File(file);
  if (file.toLowerCase().endsWith(".json")) {
    let found;
    try {
      found = findJsonTemplates(text);
    } catch (e) {
      throw new Error(`${file} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
    }
    const tokens = tokenizerConfigTokens(text);
    return { kind: "json", path: file, fileText: text, tokens, units: found.map((t) => ({ name: t.name, template: t.template, toFile: (r: TextRange) => templateRangeToJson(t, r) })) };
  }
  return { kind: "jinja", path: file, fileText: text, units: [{ name: path.basename(file), template: text, toFile: (r) => r }] };
}

function parseTargets(values: readonly string[] | undefined): EngineId[] {
  if (!values || values.length === 0) return [...ENGINE_IDS];
  const out = new Set<EngineId>();
  for (const v of values.flatMap((x) => x.split(","))) {
    const id = parseEngineId(v);
    if (!id) throw new CliUsageError(`unknown --target ${v} (use ${ENGINE_IDS.join(", ")})`);
    out.add(id);
  }
  return [...out];
}

/** Headless runs are not interactive: a busy machine should not turn a slow render into a finding. */
const DEFAULT_TIMEOUT_S = 20;

function parseTimeout(values: readonly string[] | undefined): number {
  const v = values?.at(-1);
  if (v === undefined) return DEFAULT_TIMEOUT_S * 1000;
  const s = Number(v);
  if (!Number.isFinite(s) || s <= 0) throw new CliUsageError(`--timeout ${v}: give seconds, a positive number`);
  return s * 1000;
}

/** The engines, found next to this script only: never from the working folder, whose files we do not trust. */
function createEngines(timeoutMs: number, signal: AbortSignal): EngineSet {
  const root = findStudioRoot(__dirname);
  if (!root) throw new Error("cannot find the gguf-studio package (dist/native-render-worker.js) above this script");
  const engines = new EngineSet({ root, timeoutMs });
  // Ctrl-C ends the renders in flight now (their processes are killed) instead of waiting for them.
  signal.addEventListener("abort", () => engines.dispose(), { once: true });
  return engines;
}

function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new Error("cancelled");
}

function reportUnavailable(engines: EngineSet, targets: readonly EngineId[], err: (t: string) => void): void {
  for (const t of targets) {
    const a = engines.availability.get(t);
    if (a && !a.available) err(`note: ${ENGINE_LABELS[t]} skipped: ${a.detail}\n`);
  }
}

/** 1-based line:col of a file range (the template text for GGUF sources). */
function location(source: TemplateSource, unit: TemplateUnit, r: TextRange): { line: number; column: number; endLine: number; endColumn: number } {
  const text = source.fileText ?? unit.template;
  const fileRange = unit.toFile(r);
  const starts = lineStarts(text);
  const a = positionAt(starts, fileRange.start);
  const b = positionAt(starts, fileRange.end);
  return { line: a.line + 1, column: a.column + 1, endLine: b.line + 1, endColumn: b.column + 1 };
}

function findingJson(source: TemplateSource, unit: TemplateUnit, f: TemplateFinding) {
  return {
    ruleId: f.ruleId,
    engine: f.engine ?? null,
    severity: f.severity,
    message: f.message,
    ruleBased: f.ruleBased ?? false,
    range: { ...unit.toFile(f.range), ...location(source, unit, f.range) },
    conversation: f.conversation ?? null,
    ...(f.evidence !== undefined ? { evidence: f.evidence } : {}),
    fixes: (f.fixes ?? []).map((x) => ({ title: x.title, safe: x.safe ?? false, verdict: x.verdict ?? null })),
  };
}

function findingLine(source: TemplateSource, unit: TemplateUnit, f: TemplateFinding): string {
  const at = location(source, unit, f.range);
  const where = source.kind === "gguf" ? `${source.path} [${unit.name}]` : source.path;
  const fixes = (f.fixes ?? []).map((x) => `    fix${x.safe ? " (safe)" : ""}: ${x.title}${x.safe || !x.verdict ? "" : ` — ${x.verdict}`}`);
  return [`${where}:${at.line}:${at.column}: ${f.severity} ${f.ruleId} [${f.engine ?? "all engines"}${f.ruleBased ? ", rule" : ""}] ${f.message}`, ...fixes].join("\n");
}

/** Rule metadata for SARIF: the linter's rule table plus the render, semantic and audit rules. */
const RULE_DESCRIPTIONS: Record<string, string> = {
  "syntax-error": "An engine cannot parse the template",
  "render-error": "An engine fails to render a conversation",
  "render-limit": "A render ran past the time or memory limit",
  "render-rejected": "The template rejects a conversation (also under the reference engine)",
  differential: "An engine renders differently from the reference engine",
  "content-loss": "An engine silently drops conversation content that the reference renders",
  "source/empty-template": "The template is empty",
  "source/json-escaped": "The template is still JSON-escaped",
  "semantic/missing-generation-prompt": "add_generation_prompt does not open the assistant turn",
  "semantic/double-bos": "BOS emitted by the template and added by the runtime",
  "semantic/end-of-turn-token": "The end-of-turn marker is not the model's EOS/EOT",
  "semantic/raise-exception-on-valid-chat": "raise_exception fires on a common valid conversation",
  "audit/suspicious-instruction": "Template-owned text with covert, exfiltrating or overriding instructions",
  "audit/template-text": "Natural-language text the template adds by itself",
  "audit/content-trigger": "The template emits different text depending on the message content",
  "audit/content-branch": "The template branches on message content",
  "audit/url": "The template emits a URL",
  "audit/email": "The template emits an e-mail address",
  "audit/script": "The template emits script",
  "audit/invisible-character": "Invisible or bidirectional-control characters in the template",
  "audit/date-dependent": "The prompt depends on the date",
  "audit/random": "The prompt depends on a random value",
  "audit/prefilled-generation": "The generation prompt pre-fills the answer",
  "audit/nondeterministic": "The same conversation renders differently",
};

function sarifLog(source: TemplateSource, results: readonly { unit: TemplateUnit; findings: readonly TemplateFinding[] }[]): object {
  const rules = [
    ...TEMPLATE_RULES.map((r) => ({ id: r.id, description: r.message, level: sarifLevel(r.severity) })),
    ...Object.entries(RULE_DESCRIPTIONS).map(([id, description]) => ({ id, description, level: sarifLevel(id.startsWith("audit/") ? "warning" : "error") })),
  ];
  const findings = results.flatMap(({ unit, findings }) =>
    findings.map((f) => {
      const at = location(source, unit, f.range);
      const inGguf = source.kind === "gguf";
      return {
        ruleId: f.ruleId,
        level: sarifLevel(f.severity),
        message: inGguf ? `${f.message} (template line ${at.line}, column ${at.column})` : f.message,
        file: source.path,
        region: inGguf ? undefined : { startLine: at.line, startColumn: at.column, endLine: at.endLine, endColumn: Math.max(at.endColumn, at.endLine === at.line ? at.column + 1 : at.endColumn) },
        logicalLocation: inGguf || source.kind === "json" ? unit.name : undefined,
        properties: { engine: f.engine ?? null, conversation: f.conversation ?? null, ...(f.evidence !== undefined ? { evidence: f.evidence } : {}) },
      };
    }),
  );
  return toSarif({ name: "gguf-studio", version: STUDIO_VERSION, informationUri: "https://example.invalid/gguf-studio" }, rules, findings);
}

/** `template lint` and `template audit`: findings per template, as text, JSON or SARIF; exit 1 on an error. */
async function findingsCommand(mode: "lint" | "audit", args: readonly string[], io: Parameters<CliCommand["run"]>[1]): Promise<number> {
  const { flags, positional } = parseFlags(args, ["target", "timeout"]);
  rejectUnknownFlags(flags, mode === "lint" ? ["target", "timeout", "json", "sarif"] : ["timeout", "json", "sarif"]);
  if (positional.length !== 1) throw new CliUsageError("give one FILE (.jinja, tokenizer_config.json or .gguf)");
  if (flags.has("json") && flags.has("sarif")) throw new CliUsageError("--json and --sarif exclude each other");
  const targets = mode === "lint" ? parseTargets(flags.get("target")) : [];
  const source = await loadSource(positional[0]);
  if (source.units.length === 0) {
    io.err(`${source.path} has no chat template\n`);
    return 1;
  }
  const machine = flags.has("json") || flags.has("sarif");
  const engines = createEngines(parseTimeout(flags.get("timeout")), io.signal);
  try {
    if (!machine) reportUnavailable(engines, mode === "lint" ? targets : [engines.reference], io.err);
    const results = [];
    for (const unit of source.units) {
      const r =
        mode === "lint"
          ? await lintTemplate(engines, unit.template, { targets, tokens: source.tokens, tokensFromModel: source.tokens !== undefined, signal: io.signal })
          : await auditTemplate(engines, unit.template, { tokens: source.tokens, signal: io.signal });
      throwIfCancelled(io.signal);
      results.push({ unit, findings: r.findings, reference: r.reference });
    }
    const errors = results.reduce((n, r) => n + r.findings.filter((f) => f.severity === "error").length, 0);
    if (flags.has("sarif")) {
      io.out(JSON.stringify(sarifLog(source, results), null, 2) + "\n");
    } else if (flags.has("json")) {
      io.out(JSON.stringify({
        file: source.path,
        ...(mode === "lint" ? { targets: targets.map((t) => ({ engine: t, available: engines.isAvailable(t), detail: engines.availability.get(t)?.detail ?? "" })) } : {}),
        templates: results.map((r) => ({ name: r.unit.name, reference: r.reference, findings: r.findings.map((f) => findingJson(source, r.unit, f)) })),
      }, null, 2) + "\n");
    } else {
      for (const r of results) for (const f of r.findings) io.out(findingLine(source, r.unit, f) + "\n");
      const total = results.reduce((n, r) => n + r.findings.length, 0);
      const what = mode === "lint" ? `targets: ${targets.filter((t) => engines.isAvailable(t)).join(", ") || "none available"}` : `rendered with ${engines.reference}`;
      io.out(`${total} finding(s), ${errors} error(s) in ${results.length} template(s); ${what}\n`);
    }
    return errors > 0 ? 1 : 0;
  } finally {
    engines.dispose();
  }
}

/** Applies the fixes to one template until none applies (fixes can uncover or enable others). */
async function fixTemplate(engines: EngineSet, template: string, o: { targets: EngineId[]; tokens?: SpecialTokens; fromModel: boolean; unsafe: boolean; signal: AbortSignal }): Promise<{ text: string; applied: TemplateFix[]; remaining: TemplateFinding[] }> {
  let text = template;
  const applied: TemplateFix[] = [];
  for (let round = 0; ; round++) {
    const r = await lintTemplate(engines, text, { targets: o.targets, tokens: o.tokens, tokensFromModel: o.fromModel, verifyFixes: !o.unsafe, signal: o.signal });
    if (r.cancelled) throw new Error("cancelled");
    const candidates = r.findings.flatMap((f) => f.fixes ?? []).filter((x) => x.edits.length > 0 && (o.unsafe || x.safe === true));
    const chosen = nonOverlapping(candidates);
    if (chosen.length === 0 || round >= MAX_FIX_ROUNDS) return { text, applied, remaining: r.findings };
    text = applyEdits(text, chosen.flatMap((x) => x.edits));
    applied.push(...chosen);
  }
}

async function fixCommand(args: readonly string[], io: Parameters<CliCommand["run"]>[1]): Promise<number> {
  const { flags, positional } = parseFlags(args, ["target", "out", "timeout"]);
  rejectUnknownFlags(flags, ["target", "out", "timeout", "unsafe", "overwrite"]);
  const overwrite = flags.has("overwrite");
  if (positional.length !== 1) throw new CliUsageError("give one FILE (.jinja, tokenizer_config.json or .gguf)");
  const targets = parseTargets(flags.get("target"));
  const out = flags.get("out")?.at(-1);
  const source = await loadSource(positional[0]);
  if (source.kind === "gguf" && !out) throw new CliUsageError("a GGUF is never modified: name the new file with --out OUT.gguf");
  if (out) await refuseExistingOutputs([out], overwrite);
  if (source.units.length === 0) {
    io.err(`${source.path} has no chat template to fix\n`);
    return 1;
  }
  const engines = createEngines(parseTimeout(flags.get("timeout")), io.signal);
  try {
    reportUnavailable(engines, targets, io.err);
    const fixed: { unit: TemplateUnit; text: string }[] = [];
    let errors = 0;
    for (const unit of source.units) {
      const r = await fixTemplate(engines, unit.template, { targets, tokens: source.tokens, fromModel: source.tokens !== undefined, unsafe: flags.has("unsafe"), signal: io.signal });
      throwIfCancelled(io.signal);
      for (const x of r.applied) io.err(`${unit.name}: applied ${x.safe ? "verified " : ""}fix: ${x.title}\n`);
      errors += r.remaining.filter((f) => f.severity === "error").length;
      const left = r.remaining.filter((f) => (f.fixes ?? []).length > 0).length;
      io.err(`${unit.name}: ${r.applied.length} fix(es) applied; ${r.remaining.length} finding(s) remain${left ? ` (${left} with fixes not verified safe: --unsafe applies them)` : ""}\n`);
      fixed.push({ unit, text: r.text });
    }
    if (source.kind === "gguf" && out) {
      const set = fixed.filter((f) => f.text !== f.unit.template).map((f) => ({ key: f.unit.name, type: GgufValueType.STRING, value: f.text }));
      if (set.length === 0) {
        io.err("nothing to fix: no file written\n");
        return errors > 0 ? 1 : 0;
      }
      const result = await writeGgufWithMetadata({ input: source.path, output: out, edits: { set }, signal: io.signal, overwrite });
      const back = await readGgufTemplates(result.outputs[0]);
      for (const s of set) if (back.templates.get(s.key) !== s.value) throw new Error(`${out} was written but ${s.key} does not read back identical`);
      io.out(`wrote ${result.outputs.join(", ")}: ${set.length} template(s) fixed; ${result.verifiedTensorCount}/${result.tensorCount} tensors verified unchanged\n`);
    } else {
      let text: string;
      if (source.kind === "json" && source.fileText !== undefined) {
        // Rewrite each changed string literal, last first so earlier offsets stay valid.
        const literals = findJsonTemplates(source.fileText);
        const edits = fixed.flatMap((f, i) => (f.text !== f.unit.template ? [{ start: literals[i].literal.start, end: literals[i].literal.end, newText: JSON.stringify(f.text) }] : []));
        text = applyEdits(source.fileText, edits);
      } else {
        text = fixed[0].text;
      }
      const applied = fixed.some((f) => f.text !== f.unit.template);
      if (out && !applied) {
        io.err("nothing to fix: no fix applied, no file written\n");
      } else if (out) {
        await writeFileAtomically(out, text, { overwrite });
        io.err(`wrote ${out}\n`);
      } else {
        if (!applied) io.err("nothing to fix: no fix applied; the text below is unchanged\n");
        io.out(text);
      }
    }
    return errors > 0 ? 1 : 0;
  } finally {
    engines.dispose();
  }
}

async function setCommand(args: readonly string[], io: Parameters<CliCommand["run"]>[1]): Promise<number> {
  const { flags, positional } = parseFlags(args, ["key"]);
  rejectUnknownFlags(flags, ["key", "overwrite"]);
  if (positional.length !== 3) throw new CliUsageError("give MODEL.gguf TEMPLATE.jinja OUT.gguf");
  const [model, templateFile, out] = positional;
  const key = flags.get("key")?.at(-1) ?? GGUF_TEMPLATE_KEY;
  if (key !== GGUF_TEMPLATE_KEY && !key.startsWith(`${GGUF_TEMPLATE_KEY}.`)) throw new CliUsageError(`--key must be ${GGUF_TEMPLATE_KEY} or ${GGUF_TEMPLATE_KEY}.<name>`);
  await refuseExistingOutputs([out], flags.has("overwrite"));
  let template = await readUtf8File(templateFile);
  if (templateFile.toLowerCase().endsWith(".json")) {
    const found = findJsonTemplates(template);
    if (found.length === 0) throw new Error(`${templateFile} has no chat_template`);
    template = (found.find((t) => t.name === "default") ?? found[0]).template;
  }
  if (template.trim().length === 0) throw new Error(`${templateFile} is empty`);
  const result = await writeGgufWithMetadata({ input: model, output: out, edits: { set: [{ key, type: GgufValueType.STRING, value: template }] }, signal: io.signal, overwrite: flags.has("overwrite") });
  const back = await readGgufTemplates(result.outputs[0]);
  if (back.templates.get(key) !== template) throw new Error(`${out} was written but ${key} does not read back identical`);
  io.out(`wrote ${result.outputs.join(", ")}: ${key} set (${template.length} characters); ${result.verifiedTensorCount}/${result.tensorCount} tensors verified unchanged\n`);
  return 0;
}

/** The package version, for SARIF's tool.driver.version (esbuild inlines the JSON). */
const STUDIO_VERSION: string = (packageJson as { version: string }).version;

const TARGETS_HELP = `--target ENGINE   lint against ENGINE (repeatable; ${ENGINE_IDS.join(", ")}; default all available)`;

export const templateCommand: CliCommand = {
  name: "template",
  summary: "lint or audit a chat template against the engines that run it, apply verified fixes, or set it in a GGUF",
  usage: `usage: gguf-studio template lint FILE [--target ENGINE]... [--json | --sarif]
       gguf-studio template audit FILE [--json | --sarif]
       gguf-studio template fix FILE [--out F [--overwrite]] [--unsafe] [--target ENGINE]...
       gguf-studio template set MODEL.gguf TEMPLATE.jinja OUT.gguf [--key tokenizer.chat_template.<name>] [--overwrite]

FILE is a .jinja file, a tokenizer_config.json (its chat_template strings) or a .gguf (its
tokenizer.chat_template* keys; the model's special tokens are used).

lint   prints each finding as FILE:LINE:COL: severity rule-id [engine] message (for a GGUF,
       positions are inside the template). Exit code 1 when there is an error-level finding.
audit  finds text the template emits that comes from none of the messages, tools, documented
       variables or special tokens: instructions (above all ones triggered by words in the user's
       text, found by rendering with and without the template's own literals), URLs, e-mail
       addresses, script, invisible characters, date/random dependence, a pre-filled answer.
       Renders only with the reference engine, in its sandboxed process. Exit code 1 on an error.
--sarif           lint/audit: SARIF 2.1.0 for code-scanning dashboards (regions in the .jinja or
                  tokenizer_config.json; a GGUF's template is named by its metadata key)
fix    applies the fixes verified safe (the template renders on every target and the reference
       engine's output is byte-identical on the whole conversation suite). Without --out the fixed
       .jinja/.json text goes to stdout; a GGUF needs --out and is never modified.
       --unsafe also applies fixes that were not verified safe.
set    writes OUT.gguf with the template set (tensor data copied and verified unchanged).

--overwrite       fix --out and set: replace an existing output (without it, it is refused)

${TARGETS_HELP}
--timeout S       wall-clock limit in seconds for one engine's renders of the suite (default ${DEFAULT_TIMEOUT_S});
                  a template that runs longer is reported as render-limit
`,
  async run(args, io) {
    const [sub, ...rest] = args;
    if (sub === "lint") return findingsCommand("lint", rest, io);
    if (sub === "audit") return findingsCommand("audit", rest, io);
    if (sub === "fix") return fixCommand(rest, io);
    if (sub === "set") return setCommand(rest, io);
    throw new CliUsageError(sub ? `unknown subcommand "${sub}" (lint, audit, fix or set)` : "give a subcommand: lint, audit, fix or set");
  },
};
