import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { locateTools } from "../../../src/core/native/toolLocator";
import { runTool } from "../../../src/core/native/toolRunner";
import { groupTensors } from "../../../src/core/quant/optimizer";
import { allowedType, imatrixCoverage } from "../../../src/core/quant/optimizerRun";
import { loadRecipeModel } from "../../../src/core/quant/recipeFile";

const root = path.resolve(__dirname, "../../../..");
const TINY_LLAMA = path.join(root, "test", "fixtures", "tiny-llama-f16.gguf");

describe("optimizer: imatrix-only types go only where the imatrix has data", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-opt-im-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("reads coverage from a real imatrix and keeps IQ2_XXS off token_embd and output", async function () {
    const imatrixTool = locateTools({ extensionRoot: root, pathEnv: "" }).found["llama-imatrix"];
    if (!imatrixTool) this.skip();
    const imatrix = path.join(dir, "im.gguf");
    await runTool({
      executable: imatrixTool.path,
      args: ["-m", TINY_LLAMA, "-f", path.join(root, "test", "fixtures", "code-calib.txt"), "-o", imatrix, "-c", "128", "--chunks", "2", "-t", "2"],
    });
    const covered = await imatrixCoverage(imatrix);
    assert.ok(covered.has("blk.0.attn_q.weight"));
    assert.equal(covered.has("token_embd.weight"), false, "llama-imatrix never sees the embedding lookup");
    assert.equal(covered.has("output.weight"), false, "llama-imatrix skips output.weight by default");

    const groups = groupTensors((await loadRecipeModel(TINY_LLAMA)).tensors);
    const group = (id: string) => {
      const g = groups.find((x) => x.id === id);
      assert.ok(g, `group ${id}`);
      return g;
    };
    assert.equal(allowedType(group("token_embd"), "IQ2_XXS", covered), false);
    assert.equal(allowedType(group("output"), "IQ2_XS", covered), false);
    assert.equal(allowedType(group("token_embd"), "Q3_K", covered), true);
    assert.equal(allowedType(group("blk.0.attn_q"), "IQ2_XXS", covered), true);
    assert.equal(allowedType(group("blk.0.attn_q"), "IQ2_XXS", undefined), false, "no imatrix: no imatrix-only types");
  });
});
