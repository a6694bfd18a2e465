// The llama.cpp template corpus: no false errors, and no "safe" fix that changes output.
import assert from "node:assert/strict";
import { applyEdits, ENGINE_IDS, lintTemplate, type EngineSet, type LintResult } from "../../../src/core/templates/index";
import { corpusTemplates, createEngines } from "./helpers";

describe("chat templates: llama.cpp corpus", function () {
  this.timeout(300_000);
  let engines: EngineSet;
  const results = new Map<string, { text: string; result: LintResult }>();

  before(async () => {
    engines = createEngines();
    for (const t of corpusTemplates()) {
      results.set(t.name, { text: t.text, result: await lintTemplate(engines, t.text, { targets: ENGINE_IDS }) });
    }
  });
  after(() => engines.dispose());

  it("lints every template of the corpus (at least 60)", () => {
    assert.ok(results.size >= 60, `only ${results.size} templates`);
    assert.ok(engines.isAvailable("llama.cpp"), "the native engine must be available (node esbuild.mjs builds the worker)");
  });

  it("reports no error-level finding on templates that render natively", () => {
    const offenders: string[] = [];
    let renderedNatively = 0;
    for (const [name, { result }] of results) {
      const native = result.renders.get("llama.cpp") ?? [];
      const plain = result.suite.findIndex((c) => c.name === "plain");
      if (!native[plain]?.ok) continue;
      renderedNatively++;
      for (const f of result.findings.filter((x) => x.severity === "error")) offenders.push(`${name}: ${f.ruleId} [${f.engine}] ${f.message}`);
    }
    assert.ok(renderedNatively >= 60, `only ${renderedNatively} render natively`);
    assert.deepEqual(offenders, []);
  });

  it("keeps reference output identical for every fix marked safe", async () => {
    let safe = 0;
    let offered = 0;
    engines.clearCache(); // re-render for real, independently of the verification's renders
    for (const [name, { text, result }] of results) {
      const before = result.renders.get(result.reference) ?? [];
      for (const fix of result.findings.flatMap((f) => f.fixes ?? [])) {
        offered++;
        assert.equal(typeof fix.safe, "boolean", `${name}: fix "${fix.title}" was not verified`);
        if (!fix.safe) continue;
        safe++;
        const fixed = applyEdits(text, fix.edits);
        const after = await engines.render(result.reference, fixed, result.suite.map((c) => c.context));
        before.forEach((b, i) => {
          if (!b.ok) return;
          const a = after[i];
          assert.ok(a.ok, `${name}: "${fix.title}" breaks ${result.suite[i].name}`);
          assert.equal(a.output, b.output, `${name}: "${fix.title}" changes ${result.suite[i].name}`);
        });
      }
    }
    assert.ok(offered > 0, "the corpus should trigger at least one fixable rule");
    assert.ok(safe > 0, "at least one corpus fix should verify as safe");
  });
});
