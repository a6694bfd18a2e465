import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { gguf as hfGguf } from "@huggingface/gguf";
import { readGgufModel, summarizeGguf, ggmlTypeById } from "../../../src/core/gguf";
import { makeTempDir, removeTempDir, smallModelSpec, testTensorBytes, writeTestGguf } from "./ggufTestBuilder";

const ROOT = path.resolve(__dirname, "../../../..");
const FIXTURES = path.join(ROOT, "test/fixtures");

describe("gguf summary", () => {
  let dir: string;
  before(async () => { dir = await makeTempDir(); });
  after(async () => { await removeTempDir(dir); });

  it("totals, histogram and groups of a built model match its spec", async () => {
    const spec = smallModelSpec();
    const s = summarizeGguf(await readGgufModel(await writeTestGguf(dir, "s.gguf", spec)));
    const tensors = spec.tensors!;
    const bytes = tensors.reduce((a, t) => a + testTensorBytes(t), 0);
    const params = tensors.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0);
    assert.equal(s.tensorCount, tensors.length);
    assert.equal(s.tensorBytes, bytes);
    assert.equal(s.parameterCount, params);
    assert.equal(s.bitsPerWeight, (bytes * 8) / params);
    const q8 = s.typeHistogram.find((h) => h.typeName === "Q8_0");
    assert.equal(q8?.tensorCount, tensors.filter((t) => t.type === 8).length);
    assert.deepEqual(s.byLayer.map((g) => g.group), ["blk.0", "blk.1", "non-layer"]);
    const blk1 = tensors.filter((t) => t.name.startsWith("blk.1."));
    assert.equal(s.byLayer[1].bytes, blk1.reduce((a, t) => a + testTensorBytes(t), 0));
    const attnQ = s.byKind.find((g) => g.group === "attn_q");
    assert.equal(attnQ?.tensorCount, 2);
    assert.equal(attnQ?.bitsPerWeight, ggmlTypeById(8)!.typeSize * 8 / ggmlTypeById(8)!.blockSize);
    assert.deepEqual(s.architecture, {
      architecture: "llama", name: "tést-ünïcode ✓", contextLength: 2048, embeddingLength: 64, blockCount: 2,
      headCount: 4, headCountKv: [2, 1], vocabSize: 5, chatTemplatePresent: true, chatTemplateNames: ["default"],
      fileType: 7, fileTypeName: "MOSTLY_Q8_0",
    });
  });

  it("agrees with @huggingface/gguf shapes on the MoE fixture", async () => {
    const p = path.join(FIXTURES, "tiny-moe-f16.gguf");
    const s = summarizeGguf(await readGgufModel(p));
    const hf = await hfGguf(p, { allowLocalFile: true });
    const params = hf.tensorInfos.reduce((a, t) => a + t.shape.reduce((x, y) => x * Number(y), 1), 0);
    assert.equal(s.parameterCount, params);
    assert.equal(s.byLayer.reduce((a, g) => a + g.bytes, 0), s.tensorBytes);
    assert.equal(s.typeHistogram.reduce((a, h) => a + h.bytes, 0), s.tensorBytes);
    const meta = hf.metadata as unknown as Record<string, unknown>;
    assert.equal(s.architecture.expertCount, Number(meta["llama.expert_count"]));
    assert.equal(s.architecture.expertUsedCount, Number(meta["llama.expert_used_count"]));
    assert.equal(s.byKind.find((g) => g.group === "ffn_down_exps")?.tensorCount, Number(meta["llama.block_count"]));
  });

  it("reads a split set made by llama-gguf-split as one model (when the tool is built)", async function () {
    const tool = path.join(ROOT, "bin/linux-x64-cpu/llama-gguf-split");
    if (!fs.existsSync(tool)) this.skip();
    const src = path.join(FIXTURES, "tiny-llama-f16.gguf");
    execFileSync(tool, ["--split", "--split-max-tensors", "20", src, path.join(dir, "tl")], { stdio: "ignore" });
    const whole = summarizeGguf(await readGgufModel(src));
    const model = await readGgufModel(path.join(dir, "tl-00002-of-00003.gguf"));
    const s = summarizeGguf(model);
    assert.equal(model.isSplit, true);
    assert.equal(model.shards.length, Math.ceil(whole.tensorCount / 20));
    assert.ok(model.shards.every((x) => x.tensorCount <= 20 && x.tensorCount > 0));
    assert.equal(model.shards.reduce((a, x) => a + x.tensorCount, 0), whole.tensorCount);
    assert.equal(model.shards.reduce((a, x) => a + x.tensorBytes, 0), whole.tensorBytes);
    assert.equal(s.tensorBytes, whole.tensorBytes);
    assert.equal(s.parameterCount, whole.parameterCount);
    assert.deepEqual(s.architecture, whole.architecture);
    fs.rmSync(path.join(dir, "tl-00002-of-00003.gguf"));
    await assert.rejects(readGgufModel(path.join(dir, "tl-00001-of-00003.gguf")), /missing/);
  });
});
