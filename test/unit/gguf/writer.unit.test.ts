import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { GgufError, GgufValueType, readGgufFile, readGgufModel, writeGgufWithMetadata, GgufFile } from "../../../src/core/gguf";
import { makeTempDir, removeTempDir, smallModelSpec, writeTestGguf } from "./ggufTestBuilder";

const FIXTURES = path.resolve(__dirname, "../../../../test/fixtures");

async function tensorHashes(f: GgufFile): Promise<Map<string, string>> {
  const buf = await fsp.readFile(f.path);
  return new Map(f.tensors.map((t) => [t.name, createHash("sha256").update(buf.subarray(t.fileOffset, t.fileOffset + (t.byteSize ?? 0))).digest("hex")]));
}
async function sha(p: string): Promise<string> {
  return createHash("sha256").update(await fsp.readFile(p)).digest("hex");
}

describe("gguf metadata writer", () => {
  let dir: string;
  before(async () => { dir = await makeTempDir(); });
  after(async () => { await removeTempDir(dir); });

  for (const name of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"]) {
    it(`round-trips ${name}: unchanged rewrite is byte-identical, edits land, tensors unchanged`, async () => {
      const src = path.join(FIXTURES, name);
      const before = await sha(src);
      const same = path.join(dir, `same-${name}`);
      await writeGgufWithMetadata({ input: src, output: same, edits: {} });
      assert.equal(await sha(same), before);

      const out = path.join(dir, `edited-${name}`);
      const template = "{% for m in messages %}{{ m.content }}\n{% endfor %}✓";
      const res = await writeGgufWithMetadata({
        input: src, output: out,
        edits: { set: [{ key: "tokenizer.chat_template", type: GgufValueType.STRING, value: template }, { key: "studio.note", type: GgufValueType.UINT64, value: 2n ** 60n }], remove: ["general.size_label"] },
      });
      assert.equal(await sha(src), before, "source untouched");
      const a = await readGgufFile(src);
      const b = await readGgufFile(out);
      assert.equal(res.verifiedTensorCount, a.tensors.length);
      assert.equal(b.metadata.get("tokenizer.chat_template")?.value, template);
      assert.equal(b.metadata.get("studio.note")?.value, 2n ** 60n);
      assert.equal(b.metadata.has("general.size_label"), false);
      assert.deepEqual([...b.metadata.keys()].filter((k) => k !== "studio.note"), [...a.metadata.keys()].filter((k) => k !== "general.size_label"));
      assert.equal(b.tensorDataOffset % b.alignment, 0);
      assert.deepEqual(await tensorHashes(b), await tensorHashes(a));
      assert.deepEqual((await fsp.readdir(dir)).filter((f) => f.endsWith(".tmp")), []);
    });
  }

  it("respects a non-default general.alignment and big-endian sources", async () => {
    for (const [n, extra] of [["align64.gguf", { alignment: 64 }], ["be.gguf", { bigEndian: true }]] as const) {
      const src = await writeTestGguf(dir, n, smallModelSpec(extra));
      const out = path.join(dir, `out-${n}`);
      await writeGgufWithMetadata({ input: src, output: out, edits: { set: [{ key: "general.name", type: GgufValueType.STRING, value: "a much longer name than before" }] } });
      const a = await readGgufFile(src);
      const b = await readGgufFile(out);
      assert.equal(b.alignment, a.alignment);
      assert.equal(b.littleEndian, a.littleEndian);
      assert.equal(b.tensorDataOffset % a.alignment, 0);
      assert.deepEqual(await tensorHashes(b), await tensorHashes(a));
    }
  });

  it("aborts and deletes the output when a tensor hash does not match", async () => {
    const src = path.join(FIXTURES, "tiny-llama-f16.gguf");
    const out = path.join(dir, "corrupted.gguf");
    let corrupted = "";
    await assert.rejects(
      writeGgufWithMetadata({
        input: src, output: out, edits: {},
        beforeVerify: async (temp) => {
          const f = await readGgufFile(temp);
          const t = f.tensors[f.tensors.length - 1];
          corrupted = t.name;
          const h = await fsp.open(temp, "r+");
          try { await h.write(Buffer.from([0xff, 0x00, 0xaa]), 0, 3, t.fileOffset + 1); } finally { await h.close(); }
        },
      }),
      (e: unknown) => e instanceof GgufError && e.code === "hash-mismatch" && e.message.includes(corrupted),
    );
    const left = await fsp.readdir(dir);
    assert.equal(left.includes("corrupted.gguf"), false);
    assert.deepEqual(left.filter((f) => f.includes("corrupted")), []);
  });

  it("cancellation leaves no files behind", async () => {
    const src = path.join(FIXTURES, "tiny-moe-f16.gguf");
    const ctl = new AbortController();
    await assert.rejects(
      writeGgufWithMetadata({ input: src, output: path.join(dir, "cancel.gguf"), edits: {}, signal: ctl.signal, onProgress: (f) => { if (f > 0.1) ctl.abort(); } }),
      (e: unknown) => e instanceof GgufError && e.code === "cancelled",
    );
    assert.deepEqual((await fsp.readdir(dir)).filter((f) => f.includes("cancel")), []);
  });

  it("refuses to overwrite the source, layout keys and mistyped values", async () => {
    const src = await writeTestGguf(dir, "refuse.gguf", smallModelSpec());
    await assert.rejects(writeGgufWithMetadata({ input: src, output: src, edits: {} }), (e: unknown) => e instanceof GgufError && e.code === "same-path");
    const out = path.join(dir, "refuse-out.gguf");
    await assert.rejects(writeGgufWithMetadata({ input: src, output: out, edits: { set: [{ key: "general.alignment", type: GgufValueType.UINT32, value: 64 }] } }), (e: unknown) => e instanceof GgufError && e.code === "bad-edit");
    await assert.rejects(writeGgufWithMetadata({ input: src, output: out, edits: { set: [{ key: "x", type: GgufValueType.UINT8, value: 300 }] } }), (e: unknown) => e instanceof GgufError && e.code === "bad-edit");
    await assert.rejects(fsp.access(out));
  });

  it("rewrites every shard of a split set made by the writer's own reader input", async () => {
    // Build a 3-shard set with the test builder, as llama-gguf-split lays it out.
    const spec = smallModelSpec();
    const all = spec.tensors!;
    const parts = [all.slice(0, 3), all.slice(3, 5), all.slice(5)];
    for (let i = 0; i < 3; i++) {
      const split = [
        { key: "split.no", type: 2, value: i },
        { key: "split.count", type: 2, value: 3 },
        { key: "split.tensors.count", type: 5, value: all.length },
      ];
      await writeTestGguf(dir, `set-0000${i + 1}-of-00003.gguf`, { kvs: i === 0 ? [...spec.kvs!, ...split] : split, tensors: parts[i] });
    }
    const model = await readGgufModel(path.join(dir, "set-00002-of-00003.gguf"));
    assert.equal(model.isSplit, true);
    assert.deepEqual(model.shards.map((s) => s.tensorCount), [3, 2, 2]);
    assert.deepEqual(model.tensors.map((t) => t.name), all.map((t) => t.name));
    assert.deepEqual(model.tensors.map((t) => t.shardIndex), [0, 0, 0, 1, 1, 2, 2]);
    assert.equal(model.metadata.get("general.architecture")?.value, "llama");

    const res = await writeGgufWithMetadata({
      input: path.join(dir, "set-00003-of-00003.gguf"), output: path.join(dir, "new-00001-of-00003.gguf"),
      edits: { set: [{ key: "tokenizer.chat_template", type: GgufValueType.STRING, value: "fixed" }] },
    });
    assert.equal(res.outputs.length, 3);
    const edited = await readGgufModel(res.outputs[0]);
    assert.equal(edited.metadata.get("tokenizer.chat_template")?.value, "fixed");
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(await tensorHashes(edited.shards[i].file), await tensorHashes(model.shards[i].file));
    }
    await assert.rejects(writeGgufWithMetadata({ input: res.outputs[0], output: path.join(dir, "plain.gguf"), edits: {} }), (e: unknown) => e instanceof GgufError && e.code === "bad-edit");
  });
});
