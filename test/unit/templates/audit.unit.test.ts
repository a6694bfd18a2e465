// The template audit (issue 13): every poisoned template (13 techniques, written for this test
// in test/fixtures/templates-poisoned) has a finding of warning or worse; no real template of
// the corpus has a finding above info; SARIF output of lint and audit validates against the
// SARIF 2.1.0 JSON schema (test/fixtures/sarif-schema-2.1.0.json, from @microsoft/jest-sarif).
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Ajv from "ajv";
import draft4 from "ajv/lib/refs/json-schema-draft-04.json";
import { runCli } from "../../../src/cli/main";
import { auditTemplate, type EngineSet } from "../../../src/core/templates/index";
import { createEngines, studioRoot } from "./helpers";
import { realTemplateCorpus } from "./realCorpus";

const ROOT = studioRoot();
const POISONED = path.join(ROOT, "test", "fixtures", "templates-poisoned");

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

function sarifValidator(): (doc: unknown) => string[] {
  const ajv = new Ajv({ schemaId: "id", allErrors: true });
  ajv.addMetaSchema(draft4);
  const schema = JSON.parse(fs.readFileSync(path.join(ROOT, "test", "fixtures", "sarif-schema-2.1.0.json"), "utf8")) as object;
  const validate = ajv.compile(schema);
  return (doc) => (validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.dataPath} ${e.message ?? ""}`));
}

describe("chat templates: audit", function () {
  this.timeout(300_000);
  let engines: EngineSet;
  before(() => {
    engines = createEngines();
  });
  after(() => engines.dispose());

  const poisoned = fs.readdirSync(POISONED).filter((f) => f.endsWith(".jinja")).sort();

  it("has at least 10 poisoned techniques", () => assert.ok(poisoned.length >= 10, String(poisoned.length)));

  for (const file of poisoned) {
    it(`flags ${file} with a warning or worse, with rule id, range and evidence`, async () => {
      const text = fs.readFileSync(path.join(POISONED, file), "utf8");
      const r = await auditTemplate(engines, text);
      const serious = r.findings.filter((f) => f.severity === "warning" || f.severity === "error");
      assert.ok(serious.length > 0, `${file}: ${r.findings.map((f) => `${f.severity} ${f.ruleId}`).join(", ") || "no findings"}`);
      for (const f of serious) {
        assert.ok(f.ruleId.startsWith("audit/") && f.evidence !== undefined && f.message.length > 0, f.ruleId);
        assert.ok(f.range.start >= 0 && f.range.end <= text.length && f.range.start <= f.range.end, `${f.ruleId} range ${f.range.start}-${f.range.end}`);
      }
    });
  }

  it("the trigger word is found by rendering with and without it, at the branch", async () => {
    const text = fs.readFileSync(path.join(POISONED, "02-trigger-word.jinja"), "utf8");
    const f = (await auditTemplate(engines, text)).findings.find((x) => x.ruleId === "audit/content-trigger");
    assert.ok(f);
    assert.match(f.message, /"invoice"/);
    assert.match(f.evidence ?? "", /IBAN/);
    assert.ok(text.slice(f.range.start, f.range.end).includes("invoice"), text.slice(f.range.start, f.range.end));
  });

  it("a default system prompt is at most an info, with its exact text", async () => {
    const t = "{%- if messages[0].role != 'system' %}{{ '<|im_start|>system\\nYou are a helpful assistant. Answer the questions of the user.<|im_end|>\\n' }}{%- endif %}{%- for m in messages %}{{ '<|im_start|>' + m.role + '\\n' + m.content + '<|im_end|>\\n' }}{%- endfor %}{%- if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{%- endif %}";
    const r = await auditTemplate(engines, t);
    assert.deepEqual(r.findings.filter((f) => f.severity !== "info").map((f) => f.ruleId), []);
    assert.ok(r.findings.some((f) => f.ruleId === "audit/template-text" && f.evidence === "You are a helpful assistant. Answer the questions of the user."), JSON.stringify(r.findings.map((f) => f.evidence)));
  });

  it("no real template of the corpus has a finding above info (at least 30)", async () => {
    const corpus = realTemplateCorpus(ROOT);
    assert.ok(corpus.length >= 30);
    const bad: string[] = [];
    for (const t of corpus) {
      const r = await auditTemplate(engines, t.text);
      for (const f of r.findings.filter((x) => x.severity !== "info" && x.severity !== "hint")) bad.push(`${t.name}: ${f.severity} ${f.ruleId} ${f.message.slice(0, 120)}`);
    }
    assert.deepEqual(bad, []);
  });

  it("writes SARIF 2.1.0 for audit and lint that validates against the schema, with regions in the file", async () => {
    const validate = sarifValidator();
    const poisonedFile = path.join(POISONED, "02-trigger-word.jinja");
    const audit = await cli("template", "audit", poisonedFile, "--sarif");
    assert.equal(audit.code, 1, "an error-level audit finding fails the command");
    const doc = JSON.parse(audit.out) as { runs: { results: { ruleId: string; level: string; locations: { physicalLocation: { region?: { startLine: number } } }[] }[] }[] };
    assert.deepEqual(validate(doc), []);
    const hit = doc.runs[0].results.find((r) => r.ruleId === "audit/content-trigger");
    assert.equal(hit?.level, "error");
    assert.equal(hit?.locations[0].physicalLocation.region?.startLine, 1);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-sarif-"));
    try {
      const json = path.join(dir, "tokenizer_config.json");
      fs.writeFileSync(json, JSON.stringify({ bos_token: "<s>", chat_template: "{% for m in messages %}{{ m.content.split('x', 1)[0] }}{% endfor %}" }, null, 2));
      const lint = await cli("template", "lint", json, "--sarif");
      const ldoc = JSON.parse(lint.out) as { runs: { tool: { driver: { rules: { id: string }[] } }; results: { ruleId: string; locations: { physicalLocation: { region?: { startLine: number; startColumn: number } } }[] }[] }[] };
      assert.deepEqual(validate(ldoc), []);
      const split = ldoc.runs[0].results.find((r) => r.ruleId === "compat/split-maxsplit");
      assert.equal(split?.locations[0].physicalLocation.region?.startLine, 3, "chat_template is on line 3 of the JSON");
      assert.ok(ldoc.runs[0].tool.driver.rules.some((r) => r.id === "compat/split-maxsplit"));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
