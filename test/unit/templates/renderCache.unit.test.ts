// The render-outcome cache: unchanged text and the text of an applied verified fix are answered
// without rendering, with the same findings; load-dependent failures are never kept.
import assert from "node:assert/strict";
import { applyEdits, ENGINE_IDS, EngineSet, lintTemplate } from "../../../src/core/templates/index";
import { RenderCache } from "../../../src/core/templates/renderCache";
import type { RenderOutcome } from "../../../src/core/templates/types";
import { studioRoot } from "./helpers";

const SPLIT_MAXSPLIT =
  "{%- for message in messages -%}{%- set content = message.content.split('</think>', 1)[-1] -%}<|{{ message.role }}|>{{ content }}{%- endfor -%}{%- if add_generation_prompt %}<|assistant|>{% endif -%}";

describe("chat templates: render cache", function () {
  this.timeout(120_000);
  let engines: EngineSet;
  before(() => {
    engines = new EngineSet({ root: studioRoot(), poolSize: 1 });
  });
  after(() => engines.dispose());

  it("answers a re-lint of unchanged text from the cache with the same findings", async () => {
    const first = await lintTemplate(engines, SPLIT_MAXSPLIT, { targets: ENGINE_IDS, verifyFixes: false });
    const hits = engines.cacheHits;
    const second = await lintTemplate(engines, SPLIT_MAXSPLIT, { targets: ENGINE_IDS, verifyFixes: false });
    assert.equal(engines.cacheHits - hits, second.renders.size, "every engine should be answered from the cache");
    assert.deepEqual(second.findings, first.findings);
    assert.deepEqual([...second.renders], [...first.renders]);
  });

  it("lints the text of an applied verified fix without rendering it again", async () => {
    const result = await lintTemplate(engines, SPLIT_MAXSPLIT, { targets: ENGINE_IDS });
    const fix = result.findings.flatMap((f) => f.fixes ?? []).find((f) => f.safe);
    assert.ok(fix, result.findings.map((f) => `${f.ruleId} ${f.fixes?.map((x) => x.verdict).join(";") ?? ""}`).join("\n"));
    const hits = engines.cacheHits;
    const again = await lintTemplate(engines, applyEdits(SPLIT_MAXSPLIT, fix.edits), { targets: ENGINE_IDS, verifyFixes: false });
    assert.equal(engines.cacheHits - hits, again.renders.size);
    assert.ok(!again.findings.some((f) => f.ruleId === "compat/split-maxsplit"));
  });

  it("keeps parse and render outcomes, never timeouts, crashes or cancellations", () => {
    const cache = new RenderCache(8);
    const deterministic: RenderOutcome[] = [{ ok: true, output: "a" }, { ok: false, stage: "render", error: "boom" }, { ok: false, stage: "parse", error: "bad" }];
    cache.remember("d", deterministic);
    assert.deepEqual(cache.get("d"), deterministic);
    for (const stage of ["timeout", "limit", "crash", "unavailable"] as const) {
      cache.remember(stage, [{ ok: true, output: "a" }, { ok: false, stage, error: stage }]);
      assert.equal(cache.get(stage), undefined, `${stage} outcomes must be rendered again`);
    }
  });

  it("evicts the least recently used batch beyond its capacity", () => {
    const cache = new RenderCache(2);
    const out = (s: string): RenderOutcome[] => [{ ok: true, output: s }];
    cache.remember("a", out("a"));
    cache.remember("b", out("b"));
    assert.ok(cache.get("a")); // a is now the most recent
    cache.remember("c", out("c"));
    assert.equal(cache.get("b"), undefined);
    assert.deepEqual(cache.get("a"), out("a"));
    assert.deepEqual(cache.get("c"), out("c"));
  });
});
