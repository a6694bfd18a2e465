import assert from "node:assert/strict";
import path from "node:path";
import { estimateOutputFileBytes, loadRecipeModel, resolveForModel } from "../../../src/core/quant/recipeFile";
import { buildStartingRecipe } from "../../../src/core/quant/recipeStarts";
import { buildState, kindPattern } from "../../../src/host/recipes/recipeView";

const fixture = (n: string) => path.resolve(__dirname, "../../../../test/fixtures", n);

describe("recipe editor state (host view model, no vscode)", () => {
  it("shows the core's exact totals, every kind group and why each tensor got its type", async () => {
    const model = await loadRecipeModel(fixture("tiny-moe-f16.gguf"));
    const recipe = buildStartingRecipe("dynamic", model.tensors, "Q3_K");
    const { message } = buildState(recipe, model, "/tmp/x.quant.json");
    assert.equal(message.type, "state");
    if (message.type !== "state") return;
    const r = resolveForModel(recipe, model);
    assert.equal(message.totals.fileBytes, estimateOutputFileBytes(model, r));
    assert.equal(message.totals.tensorBytes, r.tensorBytes);
    assert.equal(message.tensorCount, model.tensors.length);
    assert.equal(message.groups.reduce((s, g) => s + g.bytes, 0), r.tensors.filter((t) => t.source.by !== "kept").reduce((s, t) => s + t.bytes, 0));
    const exps = message.groups.find((g) => g.kind === "ffn_up_exps");
    assert.equal(exps?.type, "Q3_K");
    const router = message.rows.find((x) => x.name === "blk.0.ffn_gate_inp.weight");
    assert.match(router?.why ?? "", /kept: MoE router/);
    const attn = message.rows.find((x) => x.name === "blk.1.attn_q.weight");
    assert.match(attn?.why ?? "", /^rule \d+: \\\.attn_/);
  });

  it("a kind pattern matches that kind in every layer and nothing else", () => {
    const re = new RegExp(kindPattern("ffn_up"));
    assert.ok(re.test("blk.0.ffn_up.weight") && re.test("blk.31.ffn_up.weight"));
    assert.ok(!re.test("blk.0.ffn_up_exps.weight") && !re.test("blk.0.ffn_up_shexp.weight"));
    assert.ok(new RegExp(kindPattern("output")).test("output.weight"));
    assert.ok(!new RegExp(kindPattern("output")).test("blk.0.attn_output.weight"));
  });
});
