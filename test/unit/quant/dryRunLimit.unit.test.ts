// llama-quantize's --dry-run gets a time limit; past it the tool is killed and our own resolver's
// size estimate answers. With the real tool built, the two estimates are compared.
import assert from "node:assert/strict";
import path from "node:path";
import { estimateQuantizedSize, inspectSource } from "../../../src/core/quant/quantizeJob";
import { resolveRecipe } from "../../../src/core/quant/recipeResolve";
import { FIXTURES, TINY_MOE, realTools } from "./quantTestSupport";

const SLOW_QUANTIZE = path.join(FIXTURES, "fake-tools/llama-quantize-slow");

describe("quantize dry run: time limit and our own estimate", () => {
  it("kills a dry run past its limit and answers with our own estimate", async () => {
    const source = await inspectSource(TINY_MOE);
    const started = Date.now();
    const estimate = await estimateQuantizedSize({ source: TINY_MOE, output: "/tmp/never.gguf", type: "Q8_0" }, source, { executables: { quantize: SLOW_QUANTIZE }, dryRunLimitMs: 500 });
    assert.ok(Date.now() - started < 60_000, "answered long before the fake tool's 600 s");
    assert.equal(estimate.method, "own-estimate");
    const file = source.model.shards[0].file;
    const own = resolveRecipe({ version: 1, baseType: "Q8_0", rules: [] }, file.tensors, { alignment: file.alignment });
    assert.equal(estimate.bytes, file.tensorDataOffset + own.paddedTensorBytes);
    assert.ok(estimate.bytes < source.bytes * 0.6, "Q8_0 is a little over half of F16");
    assert.equal(estimate.tensorTypes.size, source.model.tensors.length);
  });

  it("a cancel during the dry run is a cancel, not a fallback", async () => {
    const source = await inspectSource(TINY_MOE);
    const abort = new AbortController();
    setImmediate(() => abort.abort());
    await assert.rejects(estimateQuantizedSize({ source: TINY_MOE, output: "/tmp/never.gguf", type: "Q8_0" }, source, { executables: { quantize: SLOW_QUANTIZE }, signal: abort.signal, dryRunLimitMs: 60_000 }), /cancelled/);
  });

  it("our own estimate is within 10% of llama-quantize's dry run (real tool)", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    const source = await inspectSource(TINY_MOE);
    for (const type of ["Q8_0", "Q4_K_M", "Q6_K"]) {
      const tool = await estimateQuantizedSize({ source: TINY_MOE, output: "/tmp/never.gguf", type }, source, { executables: { quantize: tools.quantize } });
      const own = await estimateQuantizedSize({ source: TINY_MOE, output: "/tmp/never.gguf", type }, source, { executables: { quantize: SLOW_QUANTIZE }, dryRunLimitMs: 200 });
      assert.equal(tool.method, "dry-run");
      assert.ok(Math.abs(own.bytes - tool.bytes) / tool.bytes < 0.1, `${type}: own ${own.bytes} vs tool ${tool.bytes}`);
    }
  });
});
