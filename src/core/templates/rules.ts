// Known-incompatibility rules: constructs that some engine (or some engine VERSION we cannot
// run, e.g. older minja builds vendored by apps) cannot handle. They are predictions, so every
// finding is labelled rule-based; the exact engines' renders are reported separately.
// Rules match on the scanner's code view (strings masked, text blanked), so offsets are exact.
import { bracketArguments, codeStructure, literalArgument, onlyWhitespaceBetween, operandStart, tagAt, tagIndexContaining, type Bracket } from "./codeStructure";
import { scanTemplate, statementKeyword, type ScannedTemplate } from "./scanner";
import type { EngineId, Severity, TemplateFinding, TemplateFix, TextEdit } from "./types";

export interface RuleMatch {
  readonly start: number;
  readonly end: number;
  readonly fix?: TemplateFix;
  readonly detail?: string;
}

export interface TemplateRule {
  readonly id: string;
  /** Engines (or engine families) the construct breaks or diverges on. */
  readonly engines: readonly EngineId[];
  /** Which builds of those engines, in words (e.g. "older minja builds"). */
  readonly scope: string;
  readonly severity: Severity;
  readonly message: string;
  readonly find: (s: ScannedTemplate) => RuleMatch[];
}

function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  const g = new RegExp(re.source, re.flags.includes("g") ? re.flags : re.flags + "g");
  let m: RegExpExecArray | null;
  while ((m = g.exec(text))) {
    yield m;
    if (m[0].length === 0) g.lastIndex++;
  }
}

function fix(title: string, ...edits: TextEdit[]): TemplateFix {
  return { title, edits };
}

/**
 * Calls `name(` in the code view, with their argument bracket. The regex is a literal word plus
 * `(`, so it cannot backtrack; arguments come from the linear bracket structure.
 */
function* calls(s: ScannedTemplate, name: string, method: boolean): Generator<{ at: number; bracket: Bracket }> {
  const { byOpen } = codeStructure(s);
  for (const m of matches(new RegExp(`${method ? "\\." : "\\b"}${name}\\(`), s.code)) {
    const bracket = byOpen.get(m.index + m[0].length - 1);
    if (bracket) yield { at: m.index, bracket };
  }
}

/** `x.split(sep, 1)` → expressions without maxsplit, chosen by how the result is indexed. */
function splitMaxsplit(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  const { byOpen } = codeStructure(s);
  for (const { at, bracket } of calls(s, "split", true)) {
    const args = bracketArguments(s, bracket);
    if (args.length !== 2 || args[1].text !== "1" || !literalArgument(s, args[0])) continue;
    const opStart = operandStart(s, at);
    if (opStart === at) continue;
    const operand = s.text.slice(opStart, at);
    const sep = args[0].text;
    // An optional subscript right after the call: [0], [1] or [-1].
    let end = bracket.close + 1;
    let index: string | undefined;
    let k = end;
    while (k < s.code.length && (s.code[k] === " " || s.code[k] === "\t")) k++;
    const sub = byOpen.get(k);
    if (sub && sub.char === "[" && sub.colons.length === 0 && sub.commas.length === 0) {
      const inner = s.text.slice(sub.open + 1, sub.close).trim();
      if (inner === "0" || inner === "1" || inner === "-1") {
        index = inner;
        end = sub.close + 1;
      }
    }
    let replacement: string | undefined;
    if (index === "0") replacement = `${operand}.split(${sep})[0]`;
    else if (index === "1") replacement = `(${operand}.split(${sep})[1:] | join(${sep}))`;
    else if (index === "-1") replacement = `((${operand}.split(${sep})[1:] | join(${sep})) if ${sep} in ${operand} else ${operand})`;
    out.push({
      start: at + 1,
      end,
      fix: replacement ? fix("Rewrite split(sep, 1) without maxsplit", { start: opStart, end, newText: replacement }) : undefined,
    });
  }
  return out;
}

function sliceStep(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const b of codeStructure(s).byOpen.values()) {
    if (b.char !== "[" || b.colons.length !== 2 || b.commas.length > 0) continue;
    const opStart = operandStart(s, b.open);
    const reversing =
      opStart < b.open &&
      s.text.slice(b.open + 1, b.colons[0]).trim() === "" &&
      s.text.slice(b.colons[0] + 1, b.colons[1]).trim() === "" &&
      s.text.slice(b.colons[1] + 1, b.close).trim() === "-1";
    out.push({
      start: b.open,
      end: b.close + 1,
      fix: reversing
        ? fix("Replace [::-1] with | reverse", { start: opStart, end: b.close + 1, newText: `(${s.text.slice(opStart, b.open)} | reverse)` })
        : undefined,
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** `{% for k in xs | reject("in", ys) %}` → `{% for k in xs if k not in ys %}`. */
function rejectIn(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const filter of ["reject", "select"]) {
    for (const { at, bracket } of calls(s, filter, false)) {
      // Preceded by `|` (whitespace allowed): a filter, not a method or a variable.
      let p = at - 1;
      while (p >= 0 && /\s/.test(s.code[p])) p--;
      if (s.code[p] !== "|") continue;
      const args = bracketArguments(s, bracket);
      if (args.length !== 2 || literalArgument(s, args[0])?.value !== "in") continue;
      const start = p;
      const end = bracket.close + 1;
      const tag = tagAt(s, start);
      let f: TemplateFix | undefined;
      if (tag && statementKeyword(s, tag) === "for") {
        const loop = /^\s*for\s+([A-Za-z_]\w*)\s+in\s/.exec(s.code.slice(tag.innerStart, Math.min(tag.innerEnd, tag.innerStart + 200)));
        if (loop && s.code.slice(end, tag.innerEnd).trim() === "") {
          const test = filter === "reject" ? "not in" : "in";
          f = fix(`Use a loop filter instead of ${filter}("in")`, { start, end, newText: `if ${loop[1]} ${test} ${args[1].text}` });
        }
      }
      out.push({ start: at, end, fix: f });
    }
  }
  return out.sort((a, b) => a.start - b.start);
}

/** `x.replace(a, b, n)`: llama.cpp throws; a count of 1 has an exact rewrite without it. */
function replaceCount(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const { at, bracket } of calls(s, "replace", false)) {
    const args = bracketArguments(s, bracket);
    if (args.length !== 3 || args.some((a) => a.text === "")) continue;
    const end = bracket.close + 1;
    let f: TemplateFix | undefined;
    const opStart = s.code[at - 1] === "." ? operandStart(s, at - 1) : at;
    const old = literalArgument(s, args[0]);
    if (args[2].text === "1" && opStart < at - 1 && old && old.value !== "") {
      const x = s.text.slice(opStart, at - 1);
      const [a, b] = [args[0].text, args[1].text];
      f = fix("Replace only the first occurrence without a count", {
        start: opStart,
        end,
        newText: `((${x}.split(${a})[0] ~ ${b} ~ (${x}.split(${a})[1:] | join(${a}))) if ${a} in ${x} else ${x})`,
      });
    }
    out.push({ start: at, end, fix: f });
  }
  return out;
}

/** `', '.join(xs)` → `(xs | join(', '))`. */
function stringJoinMethod(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  const { byOpen } = codeStructure(s);
  for (const lit of s.strings) {
    if (lit.quote.length !== 1 || !s.code.startsWith(".join(", lit.end)) continue;
    const bracket = byOpen.get(lit.end + 5);
    if (!bracket) continue;
    const args = bracketArguments(s, bracket);
    if (args.length !== 1) continue;
    const sep = s.text.slice(lit.start, lit.end);
    const end = bracket.close + 1;
    out.push({ start: lit.start, end, fix: fix("Use the join filter", { start: lit.start, end, newText: `(${args[0].text} | join(${sep}))` }) });
  }
  return out;
}

function tojsonKwargs(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const m of matches(/tojson\(([^()]*)\)/, s.code)) {
    const args = m[1];
    const ascii = /(,\s*)?\bensure_ascii\s*=\s*False\b(\s*,)?/.exec(args);
    if (!/\b(ensure_ascii|sort_keys|separators)\s*=/.test(args)) continue;
    let f: TemplateFix | undefined;
    if (ascii && !/\b(sort_keys|separators)\s*=/.test(args)) {
      const argsStart = m.index + "tojson(".length;
      const rest = (args.slice(0, ascii.index) + args.slice(ascii.index + ascii[0].length)).trim();
      f = rest.length === 0
        ? fix("Drop ensure_ascii=False (the default in transformers)", { start: m.index, end: m.index + m[0].length, newText: "tojson" })
        : fix("Drop ensure_ascii=False (the default in transformers)", { start: argsStart, end: argsStart + args.length, newText: s.text.slice(argsStart, argsStart + args.length).replace(/(,\s*)?\bensure_ascii\s*=\s*False\b(\s*,)?/, (_x, a?: string, b?: string) => (a && b ? ", " : "")) });
    }
    out.push({ start: m.index, end: m.index + m[0].length, fix: f });
  }
  return out;
}

function strftimeNow(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const m of matches(/\bstrftime_now\(([^()]*)\)/, s.code)) {
    const tag = tagAt(s, m.index);
    const guarded = tag && /strftime_now\s+is\s+defined/.test(s.code.slice(tag.innerStart, tag.innerEnd));
    if (guarded) continue;
    const call = s.text.slice(m.index, m.index + m[0].length);
    out.push({
      start: m.index,
      end: m.index + m[0].length,
      fix: fix("Guard strftime_now with `is defined`", { start: m.index, end: m.index + m[0].length, newText: `(${call} if strftime_now is defined else "")` }),
    });
  }
  return out;
}

function simple(re: RegExp, fixer?: (m: RegExpExecArray, s: ScannedTemplate) => TemplateFix | undefined): (s: ScannedTemplate) => RuleMatch[] {
  return (s) => [...matches(re, s.code)].map((m) => ({ start: m.index, end: m.index + m[0].length, fix: fixer?.(m, s) }));
}

/** Tags whose keyword is one of `keywords` (e.g. break/continue, generation). */
function statements(keywords: readonly string[], fixer?: (s: ScannedTemplate, start: number, end: number, kw: string) => TemplateFix | undefined) {
  return (s: ScannedTemplate): RuleMatch[] =>
    s.tags
      .filter((t) => t.kind === "statement" && keywords.includes(statementKeyword(s, t)))
      .map((t) => ({ start: t.start, end: t.end, fix: fixer?.(s, t.start, t.end, statementKeyword(s, t)) }));
}

/** `{% for x in y %}{% if c %}{% continue %}{% endif %}` → `{% for x in y if not (c) %}`. */
function continueAtLoopHead(s: ScannedTemplate, start: number): TemplateFix | undefined {
  const k = tagIndexContaining(s, start);
  const [forTag, ifTag, tag, endifTag] = [s.tags[k - 2], s.tags[k - 1], s.tags[k], s.tags[k + 1]];
  if (k < 2 || !endifTag || tag.start !== start) return undefined;
  if (statementKeyword(s, forTag) !== "for" || statementKeyword(s, ifTag) !== "if" || statementKeyword(s, endifTag) !== "endif") return undefined;
  if (!onlyWhitespaceBetween(s.text, forTag.end, ifTag.start) || !onlyWhitespaceBetween(s.text, ifTag.end, tag.start) || !onlyWhitespaceBetween(s.text, tag.end, endifTag.start)) return undefined;
  const forInner = s.code.slice(forTag.innerStart, forTag.innerEnd);
  if (/\bif\b/.test(forInner) || s.code.includes("loop.")) return undefined;
  const head = s.text.slice(forTag.start, forTag.innerEnd).trimEnd();
  const condition = s.text.slice(ifTag.innerStart, ifTag.innerEnd).trim().replace(/^if\s/, "").trim();
  return fix("Turn the leading `if … continue` into a loop filter", {
    start: forTag.start,
    end: endifTag.end,
    newText: `${head} if not (${condition})${s.text.slice(forTag.start + head.length, forTag.end)}`,
  });
}

function tripleQuoted(s: ScannedTemplate): RuleMatch[] {
  return s.strings
    .filter((x) => x.quote.length === 3)
    .map((x) => ({
      start: x.start,
      end: x.end,
      fix: fix("Convert to an ordinary string literal", { start: x.start, end: x.end, newText: JSON.stringify(x.value) }),
    }));
}

function nullContentSlice(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  for (const b of codeStructure(s).byOpen.values()) {
    if (b.char !== "[" || b.colons.length !== 1 || b.commas.length > 0) continue;
    if (!/^-?\d*:-?\d*$/.test(s.code.slice(b.open + 1, b.close).replace(/\s+/g, ""))) continue;
    const opStart = operandStart(s, b.open);
    const operand = s.text.slice(opStart, b.open);
    if (!/(?:\.content|\[(['"])content\1\])$/.test(operand)) continue;
    if (s.text[opStart - 1] === "(") continue; // already wrapped, e.g. (message.content or '')[:n]
    out.push({
      start: opStart,
      end: b.close + 1,
      fix: fix("Treat null content as an empty string", { start: opStart, end: b.open, newText: `(${operand} or "")` }),
    });
  }
  return out.sort((a, b) => a.start - b.start);
}

/** `{{ tools }}`, `{{ tool.function.parameters }}`, … printed without tojson: jinja2 prints a Python repr. */
function printWithoutTojson(s: ScannedTemplate): RuleMatch[] {
  const out: RuleMatch[] = [];
  const value = /^(\s*)(tools|tool|[A-Za-z_]\w*(?:\.\w+|\[(['"])\w+\3\])*(?:\.|\[['"])(?:function|parameters|properties|arguments)(?:['"]\])?)(\s*)$/;
  for (const t of s.tags) {
    if (t.kind !== "expression" || t.innerEnd - t.innerStart > 200) continue;
    const m = value.exec(s.text.slice(t.innerStart, t.innerEnd));
    if (!m) continue;
    const start = t.innerStart + m[1].length;
    const end = start + m[2].length;
    out.push({ start, end, fix: fix("Print it as JSON with | tojson", { start, end, newText: `${m[2]} | tojson` }) });
  }
  return out;
}

export const TEMPLATE_RULES: readonly TemplateRule[] = [
  { id: "compat/split-maxsplit", engines: ["minja"], scope: "minja", severity: "warning", message: "split() with a maxsplit argument is not supported by minja (“split method must have between 1 and 1 positional arguments”)", find: splitMaxsplit },
  { id: "compat/slice-step", engines: ["minja"], scope: "older minja builds", severity: "warning", message: "Slices with a step (e.g. [::-1]) fail in older minja builds (“Expected value expression”)", find: sliceStep },
  { id: "compat/reject-in", engines: ["hf-jinja", "minja"], scope: "@huggingface/jinja and older minja builds", severity: "warning", message: "select/reject with the \"in\" test is unsupported in @huggingface/jinja and older minja (“Unknown method”)", find: rejectIn },
  { id: "compat/tojson-kwargs", engines: ["minja", "llama.cpp"], scope: "older minja builds; llama.cpp for ensure_ascii=True/sort_keys=True", severity: "warning", message: "tojson keyword arguments are not portable: older minja rejects them and llama.cpp throws on ensure_ascii=True or sort_keys=True", find: tojsonKwargs },
  { id: "compat/strftime-now", engines: ["minja", "hf-jinja"], scope: "apps that do not define strftime_now", severity: "info", message: "strftime_now is not a Jinja builtin; engines or apps that do not define it fail with “Object is not callable: null”", find: strftimeNow },
  { id: "compat/strip-argument", engines: ["hf-jinja", "minja"], scope: "@huggingface/jinja ignores the argument; older minja cannot call it", severity: "warning", message: "strip/lstrip/rstrip with a character argument: @huggingface/jinja ignores the argument and older minja fails (“Value is not callable: null”)", find: simple(/\.(?:l|r)?strip\(\s*[^)\s]/) },
  { id: "compat/loop-controls", engines: ["minja"], scope: "older minja builds", severity: "warning", message: "{% break %} / {% continue %} are unsupported in older minja (“Expected block keyword”)", find: statements(["break", "continue"], (s, start, _end, kw) => (kw === "continue" ? continueAtLoopHead(s, start) : undefined)) },
  { id: "compat/generation-tag", engines: ["minja", "hf-jinja", "llama.cpp"], scope: "engines outside transformers (older builds)", severity: "info", message: "{% generation %} is a transformers-only tag; other engines may not know it", find: statements(["generation"], (s, start, end) => {
    const close = s.tags.find((t) => t.start >= end && t.kind === "statement" && statementKeyword(s, t) === "endgeneration");
    return close ? fix("Remove the generation tags (keeps their content)", { start, end, newText: "" }, { start: close.start, end: close.end, newText: "" }) : undefined;
  }) },
  { id: "compat/triple-quotes", engines: ["minja"], scope: "minja and other non-Python engines", severity: "warning", message: "Triple-quoted strings are Python-only syntax (minja: “Expected closing expression tag”)", find: tripleQuoted },
  { id: "compat/upper-on-schema-type", engines: ["hf-jinja", "minja"], scope: "@huggingface/jinja, minja, some llama.cpp builds", severity: "warning", message: "A JSON-schema `type` may be a list (e.g. [\"string\", \"null\"]); string filters on it fail in strict engines (“Unknown filter 'upper' for type Array”)", find: simple(/\btype\s*\|\s*(?:upper|lower|capitalize|title)\b|\btype\.(?:upper|lower)\(\)/) },
  { id: "compat/null-content-slice", engines: ["llama.cpp", "minja", "hf-jinja", "jinja2"], scope: "every engine, on tool-call messages with null content", severity: "warning", message: "Slicing message content fails when content is null (assistant tool-call messages): “Cannot subscript null”", find: nullContentSlice },
  { id: "llama.cpp/split-no-argument", engines: ["llama.cpp"], scope: "llama.cpp's engine", severity: "warning", message: "split() with no argument splits on single spaces only in llama.cpp (Python splits on runs of whitespace)", find: simple(/\.split\(\s*\)/) },
  { id: "llama.cpp/replace-count", engines: ["llama.cpp"], scope: "llama.cpp's engine", severity: "warning", message: "replace() with a count is not implemented in llama.cpp's engine", find: replaceCount },
  { id: "llama.cpp/string-join-method", engines: ["llama.cpp", "minja", "hf-jinja"], scope: "every non-Python engine", severity: "warning", message: "str.join() is Python-only; use the join filter", find: stringJoinMethod },
  { id: "compat/print-without-tojson", engines: ["llama.cpp", "minja", "hf-jinja"], scope: "every non-Python engine", severity: "warning", message: "Tool definitions printed without tojson: jinja2 (transformers) prints a Python repr ({'type': …, 'x': None}) and other engines print JSON, so the prompt differs between engines", find: printWithoutTojson },
  { id: "llama.cpp/unique-filter", engines: ["llama.cpp"], scope: "llama.cpp's engine", severity: "warning", message: "The unique filter is not implemented in llama.cpp's engine", find: simple(/\|\s*unique\b/) },
  { id: "llama.cpp/map-filter", engines: ["llama.cpp", "hf-jinja"], scope: "llama.cpp's engine and @huggingface/jinja", severity: "warning", message: "map() is only supported with attribute= in llama.cpp's engine and @huggingface/jinja", find: simple(/\bmap\(\s*(?!attribute\s*=)(?:'_*'|"_*")/) },
  { id: "llama.cpp/floor-division", engines: ["llama.cpp"], scope: "llama.cpp's engine", severity: "warning", message: "`//` (floor division) is a parse error in llama.cpp's engine", find: simple(/\/\//) },
  { id: "llama.cpp/startswith-tuple", engines: ["llama.cpp", "minja"], scope: "llama.cpp's engine and minja", severity: "warning", message: "startswith/endswith with a tuple fails in llama.cpp's engine and minja", find: simple(/\.(?:starts|ends)with\(\s*\(/) },
  { id: "llama.cpp/unsupported-test", engines: ["llama.cpp", "minja", "hf-jinja"], scope: "non-Python engines", severity: "warning", message: "The sameas/escaped/filter tests are not supported outside jinja2", find: simple(/\bis\s+(?:not\s+)?(?:sameas|escaped|filter)\b/) },
  { id: "llama.cpp/leading-character", engines: ["llama.cpp"], scope: "llama.cpp's lexer", severity: "warning", message: "llama.cpp's lexer drops a template's first character when it is directly followed by {% or {#", find: (s) =>
    /^[^{\s]\{[%#]/.test(s.text) ? [{ start: 0, end: 1, fix: fix("Emit the first character from an expression", { start: 0, end: 1, newText: `{{ ${JSON.stringify(s.text[0])} }}` }) }] : [] },
];

export interface RuleOptions {
  /** Only rules affecting one of these engines run. */
  readonly targets: readonly EngineId[];
}

/** Runs every rule relevant to the targets. Pure: text in, findings (with fix edits) out. */
export function runTemplateRules(text: string, options: RuleOptions, scanned: ScannedTemplate = scanTemplate(text)): TemplateFinding[] {
  if (scanned.unterminated) return [];
  const findings: TemplateFinding[] = [];
  for (const rule of TEMPLATE_RULES) {
    const engine = rule.engines.find((e) => options.targets.includes(e));
    if (!engine) continue;
    for (const m of rule.find(scanned)) {
      findings.push({
        ruleId: rule.id,
        kind: "rule",
        severity: rule.severity,
        message: `${rule.message} [rule-based: ${rule.scope}]`,
        range: { start: m.start, end: Math.max(m.end, m.start + 1) },
        engine,
        ruleBased: true,
        fixes: m.fix ? [m.fix] : undefined,
      });
    }
  }
  return findings;
}
