// Template sources (GGUF, tokenizer_config.json ranges) and bad input that must become
// diagnostics, never a crash or a hang.
import assert from "node:assert/strict";
import path from "node:path";
import { EngineSet, lintTemplate } from "../../../src/core/templates/index";
import { runTemplateRules } from "../../../src/core/templates/rules";
import { scanTemplate, statementKeyword } from "../../../src/core/templates/scanner";
import { findJsonTemplates, readGgufTemplates, templateRangeToJson } from "../../../src/core/templates/sources";
import { studioRoot } from "./helpers";

describe("chat templates: {% raw %} blocks", () => {
  it("no rule fires on code-like text inside {% raw %}, and the same text outside still does", () => {
    const inside = "{% raw %}{{ m.content.split('a', 1)[0] }}{% endraw %}{{ messages[0].content }}";
    const scanned = scanTemplate(inside);
    assert.equal(scanned.unterminated, false);
    assert.deepEqual(scanned.tags.map((t) => (t.kind === "statement" ? statementKeyword(scanned, t) : t.kind)), ["raw", "endraw", "expression"]);
    assert.deepEqual(runTemplateRules(inside, { targets: ["minja"] }), []);
    const outside = "{{ m.content.split('a', 1)[0] }}";
    assert.ok(runTemplateRules(outside, { targets: ["minja"] }).some((f) => f.ruleId === "compat/split-maxsplit"));
    const whitespace = "{%- raw -%}{{ x.split('a', 1) }}{%- endraw -%}";
    assert.deepEqual(runTemplateRules(whitespace, { targets: ["minja"] }), []);
    assert.equal(scanTemplate("{% raw %}{{ never closed").unterminated, true);
  });
});

describe("chat templates: sources", () => {
  it("reads the tiny-llama template and its special tokens from the GGUF", async () => {
    const t = await readGgufTemplates(path.join(studioRoot(), "test", "fixtures", "tiny-llama-f16.gguf"));
    const template = t.templates.get("tokenizer.chat_template");
    assert.ok(template?.includes("<|im_start|>"));
    assert.equal(t.tokens.bos, "<s>");
    assert.equal(t.tokens.eos, "</s>");
  });

  it("maps template ranges back into tokenizer_config.json string literals", () => {
    const template = "{% for m in messages %}\n{{ m.content.split('a', 1)[0] }}{% endfor %}";
    const json = JSON.stringify({ bos_token: "<s>", chat_template: template }, null, 2);
    const [found] = findJsonTemplates(json);
    assert.equal(found.template, template);
    const at = template.indexOf("split");
    const r = templateRangeToJson(found, { start: at, end: at + 5 });
    assert.equal(json.slice(r.start, r.end), "split");
    // The newline before it is the two characters \n in the JSON.
    const nl = templateRangeToJson(found, { start: template.indexOf("\n"), end: template.indexOf("\n") + 1 });
    assert.equal(json.slice(nl.start, nl.end), "\\n");
  });

  it("finds named templates in a chat_template list", () => {
    const json = JSON.stringify({ chat_template: [{ name: "default", template: "{{ a }}" }, { name: "tool_use", template: "{{ b }}" }] });
    assert.deepEqual(findJsonTemplates(json).map((t) => [t.name, t.template]), [["default", "{{ a }}"], ["tool_use", "{{ b }}"]]);
  });
});

describe("chat templates: bad input", function () {
  this.timeout(120_000);
  let engines: EngineSet;
  before(() => {
    // No render cache: "the engines still work" must be a real render after each runaway.
    engines = new EngineSet({ root: studioRoot(), timeoutMs: 3000, memoryCapMiB: 512, cacheEntries: 0 });
  });
  after(() => engines.dispose());

  it("reports invalid Jinja as a syntax error on llama.cpp with a position", async () => {
    const text = "{% for m in messages %}{{ m.content }\n{% endfor %}";
    const r = await lintTemplate(engines, text, { targets: ["llama.cpp"], verifyFixes: false });
    const f = r.findings.find((x) => x.ruleId === "syntax-error" && x.engine === "llama.cpp");
    assert.ok(f, r.findings.map((x) => x.ruleId).join(","));
    assert.equal(f.severity, "error");
  });

  it("flags a JSON-escaped template and offers to unescape it", async () => {
    const text = JSON.stringify("{% for m in messages %}{{ m.content }}\n{% endfor %}");
    const r = await lintTemplate(engines, text, { targets: ["hf-jinja"] });
    const f = r.findings.find((x) => x.ruleId === "source/json-escaped");
    assert.ok(f?.fixes?.[0]);
    assert.equal(f.fixes[0].edits[0].newText, "{% for m in messages %}{{ m.content }}\n{% endfor %}");
  });

  for (const [name, template] of [
    ["a huge range", "{% for i in range(1000000000) %}x{% endfor %}"],
    ["a string that doubles forever", "{% set s = namespace(v='x') %}{% for i in range(64) %}{% set s.v = s.v ~ s.v %}{% endfor %}{{ s.v }}"],
    ["deep macro recursion", "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"],
  ]) {
    it(`survives ${name} on every engine (diagnostic, then the engines still work)`, async () => {
      const r = await lintTemplate(engines, template, { targets: ["llama.cpp", "hf-jinja", "minja", "jinja2"], verifyFixes: false });
      const native = r.renders.get("llama.cpp") ?? [];
      assert.ok(native.every((o) => !o.ok), "the native engine cannot finish it");
      assert.ok(r.findings.some((f) => f.engine === "llama.cpp" && (f.ruleId === "render-limit" || f.ruleId === "render-error" || f.ruleId === "render-rejected")), r.findings.map((f) => `${f.ruleId}:${f.engine}`).join(","));
      const again = await engines.render("llama.cpp", "{{ 1 + 1 }}", [{}]);
      assert.deepEqual(again, [{ ok: true, output: "2" }]);
    });
  }
});
