// `gguf-studio diff` and its core on known pairs: an edited copy (metadata only), the F16 fixture
// against its Q4_K_M quant made by the real llama-quantize, a split set against its single file,
// and two architectures that cannot be aligned.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { GgufValueType, readGgufModel, writeGgufWithMetadata } from "../../../src/core/gguf";
import { diffModels } from "../../../src/core/models/modelDiff";
import { buildTensorScheme, NON_LAYER_ROW, OTHER_ROW } from "../../../src/shared/tensorScheme";
import { realTools } from "../quant/quantTestSupport";
import { ggufSplitTool, splitModel, tempDir, tinyLlama, tinyMoe } from "./helpers";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

describe("model diff", function () {
  this.timeout(120_000);
  let dir: string;
  before(() => { dir = tempDir("diff"); });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it("reports changed, added and removed metadata with long arrays summarized", async () => {
    const edited = path.join(dir, "edited.gguf");
    const tokens = (await readGgufModel(tinyLlama)).metadata.get("tokenizer.ggml.tokens");
    assert.ok(tokens && typeof tokens.value === "object" && tokens.value.kind === "array");
    const values = [...tokens.value.values];
    values[4000] = "changed-token";
    await writeGgufWithMetadata({
      input: tinyLlama, output: edited, edits: {
        set: [
          { key: "general.name", type: GgufValueType.STRING, value: "renamed" },
          { key: "general.tags", type: GgufValueType.ARRAY, value: { kind: "array", elementType: GgufValueType.STRING, values: ["a", "b"] } },
          { key: "tokenizer.ggml.tokens", type: GgufValueType.ARRAY, value: { kind: "array", elementType: GgufValueType.STRING, values } },
        ],
        remove: ["llama.rope.dimension_count"],
      },
    });
    const d = await diffModels(await readGgufModel(tinyLlama), await readGgufModel(edited));
    const byKey = new Map(d.metadata.map((m) => [m.key, m]));
    assert.deepEqual(byKey.get("general.name"), { key: "general.name", status: "changed", a: '"mA"', b: '"renamed"' });
    assert.deepEqual(byKey.get("general.tags"), { key: "general.tags", status: "added", b: '["a", "b"]' });
    assert.equal(byKey.get("llama.rope.dimension_count")?.status, "removed");
    // 4096 tokens: summarized, and the one changed token still makes them differ.
    assert.equal(byKey.get("tokenizer.ggml.tokens")?.status, "changed");
    assert.match(byKey.get("tokenizer.ggml.tokens")?.a ?? "", /^\[str × 4096: /);
    assert.equal(d.metadata.length, 4);
    assert.equal(d.tensors.length, 0);
    assert.equal(d.tensorsSame, 57);
    // The same pair with the vocabulary left on disk: compared byte for byte.
    const lazy = await diffModels(await readGgufModel(tinyLlama, { maxMaterializedArrayLength: 16 }), await readGgufModel(edited, { maxMaterializedArrayLength: 16 }));
    assert.match(lazy.metadata.find((m) => m.key === "tokenizer.ggml.tokens")?.b ?? "", /\[str × 4096\] \(contents differ\)/);
    const same = await diffModels(await readGgufModel(tinyLlama, { maxMaterializedArrayLength: 16 }), await readGgufModel(tinyLlama, { maxMaterializedArrayLength: 16 }));
    assert.deepEqual(same.metadata, []);
  });

  it("compares the F16 fixture with its Q4_K_M quant: types, bytes and bpw per kind and layer", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    const quant = path.join(dir, "llama-Q4_K_M.gguf");
    assert.equal((await cli("quantize", tinyLlama, quant, "Q4_K_M", "--threads", "2", "--tools", path.dirname(tools.quantize))).code, 0);
    const d = await diffModels(await readGgufModel(tinyLlama), await readGgufModel(quant));
    assert.ok(d.alignable);
    const a = await readGgufModel(tinyLlama);
    const b = await readGgufModel(quant);
    // Every quantized tensor is listed with both types, the norms are not.
    const quantized = b.tensors.filter((t) => t.ggmlType !== a.tensors.find((x) => x.name === t.name)?.ggmlType);
    assert.equal(d.tensors.length, quantized.length);
    assert.ok(d.tensors.every((t) => t.status === "type" && t.typeA === "F16"));
    assert.ok(d.tensors.some((t) => t.name === "output.weight" && t.typeB === "Q6_K"));
    // Per kind: the sums are the files' own tensor bytes, and the deltas add up.
    const sum = (rows: readonly { bytesA: number; bytesB: number; deltaBytes: number }[]) => rows.reduce((s, r) => [s[0] + r.bytesA, s[1] + r.bytesB, s[2] + r.deltaBytes], [0, 0, 0]);
    assert.deepEqual(sum(d.byKind), [d.a.tensorBytes, d.b.tensorBytes, d.b.tensorBytes - d.a.tensorBytes]);
    assert.deepEqual(sum(d.byLayer), [d.a.tensorBytes, d.b.tensorBytes, d.b.tensorBytes - d.a.tensorBytes]);
    const attnNorm = d.byKind.find((r) => r.group === "attn_norm");
    assert.equal(attnNorm?.deltaBytes, 0);
    assert.equal(d.byKind.find((r) => r.group === "attn_q")?.bpwB, 4.5);
    assert.equal(d.byLayer.length, 7);
    // The metadata diff names the file type and the quantization keys llama-quantize adds.
    assert.ok(d.metadata.some((m) => m.key === "general.file_type" && m.a === "1" && m.b === "15"));
    // The CLI's three formats.
    const text = await cli("diff", tinyLlama, quant);
    assert.equal(text.code, 0);
    assert.match(text.out, /~ output\.weight: F16 → Q6_K/);
    assert.match(text.out, /per kind \(\d+ of \d+ differ/);
    const md = await cli("diff", tinyLlama, quant, "--markdown");
    assert.match(md.out, /\| `output\.weight` \| type \| F16 \| Q6_K \|/);
    const json = JSON.parse((await cli("diff", tinyLlama, quant, "--json")).out) as { tensors: unknown[]; byKind: unknown[] };
    assert.equal(json.tensors.length, d.tensors.length);
    assert.equal(json.byKind.length, d.byKind.length);
  });

  it("reads a split set as one model: no tensor differs from the single file", async function () {
    if (!ggufSplitTool()) this.skip();
    const shards = splitModel(tinyMoe, dir, "moe-split", 10);
    const d = await diffModels(await readGgufModel(tinyMoe), await readGgufModel(shards[1]));
    assert.equal(d.b.shards, shards.length);
    assert.equal(d.tensors.length, 0);
    assert.equal(d.tensorsSame, 43);
    assert.ok(d.byKind.every((r) => r.deltaBytes === 0));
  });

  it("diffs the metadata of unrelated architectures and says the tensors cannot be aligned", async () => {
    const other = path.join(dir, "qwen.gguf");
    await writeGgufWithMetadata({ input: tinyMoe, output: other, edits: { set: [{ key: "general.architecture", type: GgufValueType.STRING, value: "qwen2" }] } });
    const d = await diffModels(await readGgufModel(tinyLlama), await readGgufModel(other));
    assert.equal(d.alignable, false);
    assert.match(d.notAlignableReason ?? "", /llama vs qwen2/);
    assert.ok(d.metadata.some((m) => m.key === "general.architecture"));
    assert.deepEqual(d.tensors, []);
    const text = await cli("diff", tinyLlama, other);
    assert.equal(text.code, 0);
    assert.match(text.out, /tensors: not alignable: the architectures differ/);
  });

  it("puts names outside the layer/kind scheme in an \"other\" row, never dropping them", () => {
    const t = (name: string, layer?: number, kind = name) => ({ name, layer, kind });
    const scheme = buildTensorScheme([
      t("token_embd.weight", undefined, "token_embd"), t("blk.0.attn_q.weight", 0, "attn_q"), t("blk.1.attn_q.weight", 1, "attn_q"),
      t("blk.0.attn_q.17.weight", 0, "attn_q.17"), t("blk.1.only_here.weight", 1, "only_here"), t("Weird Name!", undefined, "Weird Name!"),
    ]);
    assert.deepEqual(scheme.kinds, ["attn_q"]);
    assert.deepEqual(scheme.nonLayerKinds, ["token_embd"]);
    assert.deepEqual([...scheme.rowOf], [NON_LAYER_ROW, 0, 1, OTHER_ROW, OTHER_ROW, OTHER_ROW]);
  });
});
