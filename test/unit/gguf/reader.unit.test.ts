import assert from "node:assert/strict";
import path from "node:path";
import { gguf as hfGguf } from "@huggingface/gguf";
import {
  GgufLazyArray, GgufValue, GgufValueType, readArrayPage, readGgufFile, readGgufModel, metadataNumberArray, GgufArrayPager,
} from "../../../src/core/gguf";
import { buildGguf, makeTempDir, removeTempDir, smallModelSpec, testTensorBytes, writeTestGguf } from "./ggufTestBuilder";

const FIXTURES = path.resolve(__dirname, "../../../../test/fixtures");
const fixture = (n: string): string => path.join(FIXTURES, n);

function plain(v: GgufValue | undefined): unknown {
  if (typeof v === "object" && v !== null) {
    if (v.kind === "array") return v.values.map(plain);
    return { lazy: v.count };
  }
  return v;
}

describe("gguf reader", () => {
  let dir: string;
  before(async () => { dir = await makeTempDir(); });
  after(async () => { await removeTempDir(dir); });

  for (const name of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"]) {
    it(`agrees with @huggingface/gguf on ${name}`, async () => {
      const ours = await readGgufFile(fixture(name), { maxMaterializedArrayLength: Infinity });
      const theirs = await hfGguf(fixture(name), { allowLocalFile: true });
      assert.equal(ours.tensors.length, theirs.tensorInfos.length);
      assert.equal(ours.tensorDataOffset, Number(theirs.tensorDataOffset));
      theirs.tensorInfos.forEach((t, i) => {
        const o = ours.tensors[i];
        assert.equal(o.name, t.name);
        assert.deepEqual(o.shape, t.shape.map(Number));
        assert.equal(o.ggmlType, t.dtype);
        assert.equal(o.offset, Number(t.offset));
      });
      const meta = theirs.metadata as unknown as Record<string, unknown>;
      for (const e of ours.metadata.values()) {
        const expected = meta[e.key];
        const got = plain(e.value);
        if (typeof expected === "bigint") assert.equal(BigInt(got as bigint), expected, e.key);
        else assert.deepEqual(got, expected, e.key);
      }
      // llama.cpp packs tensors back to back: the last one ends at the (aligned) end of the file.
      const end = Math.max(...ours.tensors.map((t) => t.fileOffset + (t.byteSize ?? 0)));
      assert.equal(Math.ceil(end / ours.alignment) * ours.alignment, ours.fileSize);
    });
  }

  it("computes per-tensor bytes, bpw, layer and kind", async () => {
    const spec = smallModelSpec();
    const p = await writeTestGguf(dir, "small.gguf", spec);
    const f = await readGgufFile(p);
    const q = f.tensors.find((t) => t.name === "blk.1.attn_q.weight");
    assert.ok(q);
    assert.equal(q.typeName, "Q8_0");
    assert.equal(q.elementCount, 64 * 64);
    assert.equal(q.byteSize, testTensorBytes(spec.tensors![3]));
    assert.equal(q.bitsPerWeight, 8.5);
    assert.equal(q.layer, 1);
    assert.equal(q.kind, "attn_q");
    const emb = f.tensors.find((t) => t.name === "token_embd.weight");
    assert.equal(emb?.layer, undefined);
    assert.equal(emb?.kind, "token_embd");
    assert.equal(f.tensors.find((t) => t.name === "output.weight")?.kind, "output");
    assert.equal(f.metadata.get("general.name")?.value, "tést-ünïcode ✓");
    assert.deepEqual(plain(f.metadata.get("test.nested")?.value), [[-1, 2], ["x"]]);
    assert.equal(f.metadata.get("test.i64")?.value, -5n);
    assert.equal(f.metadata.get("test.bool")?.value, true);
    assert.deepEqual(metadataNumberArray(f.metadata, "llama.attention.head_count_kv"), [2, 1]);
    assert.equal(f.metadata.get("general.file_type")?.type, GgufValueType.UINT32);
  });

  it("reads big-endian and v2 files the same as little-endian v3", async () => {
    const le = await readGgufFile(await writeTestGguf(dir, "le.gguf", smallModelSpec()), { maxMaterializedArrayLength: Infinity });
    for (const [name, extra] of [["be.gguf", { bigEndian: true }], ["v2.gguf", { version: 2 }], ["be-v2.gguf", { bigEndian: true, version: 2 }]] as const) {
      const other = await readGgufFile(await writeTestGguf(dir, name, smallModelSpec(extra)), { maxMaterializedArrayLength: Infinity });
      assert.equal(other.littleEndian, !("bigEndian" in extra));
      assert.equal(other.version, "version" in extra ? 2 : 3);
      assert.deepEqual([...other.metadata.values()].map((e) => [e.key, plain(e.value)]), [...le.metadata.values()].map((e) => [e.key, plain(e.value)]));
      assert.deepEqual(other.tensors.map((t) => [t.name, t.shape, t.ggmlType, t.offset]), le.tensors.map((t) => [t.name, t.shape, t.ggmlType, t.offset]));
    }
  });

  it("reports an unknown ggml type by id and keeps reading", async () => {
    const spec = smallModelSpec();
    spec.tensors!.push({ name: "blk.1.future.weight", shape: [64], type: 200, byteSize: 40 });
    const f = await readGgufFile(await writeTestGguf(dir, "unknown-type.gguf", spec));
    const t = f.tensors.find((x) => x.name === "blk.1.future.weight");
    assert.equal(t?.typeKnown, false);
    assert.equal(t?.typeName, "UNKNOWN(200)");
    assert.equal(t?.byteSize, undefined);
    assert.equal(f.tensors.length, spec.tensors!.length);
  });

  it("keeps big arrays lazy and pages through them, fixed and variable size", async () => {
    const tokens = Array.from({ length: 3000 }, (_, i) => `tok-${i}-${"é".repeat(i % 7)}`);
    const scores = Array.from({ length: 3000 }, (_, i) => i / 2);
    for (const bigEndian of [false, true]) {
      const p = await writeTestGguf(dir, `vocab-${bigEndian}.gguf`, {
        bigEndian,
        kvs: [
          { key: "tokenizer.ggml.tokens", type: 9, value: { elementType: 8, values: tokens } },
          { key: "tokenizer.ggml.scores", type: 9, value: { elementType: 6, values: scores } },
          { key: "after", type: 8, value: "still read" },
        ],
      });
      const f = await readGgufFile(p, { maxMaterializedArrayLength: 100 });
      const tok = f.metadata.get("tokenizer.ggml.tokens")?.value as GgufLazyArray;
      assert.equal(tok.kind, "lazy-array");
      assert.equal(tok.count, 3000);
      assert.equal(f.metadata.get("after")?.value, "still read");
      assert.deepEqual(await readArrayPage(p, tok, 0, 3), tokens.slice(0, 3));
      assert.deepEqual(await readArrayPage(p, tok, 1000, 300), tokens.slice(1000, 1300));
      assert.deepEqual(await readArrayPage(p, tok, 2990, 50), tokens.slice(2990));
      const pager = await GgufArrayPager.open(p);
      try {
        assert.deepEqual(await pager.page(f.metadata.get("tokenizer.ggml.scores")?.value as GgufLazyArray, 257, 5), scores.slice(257, 262));
      } finally {
        await pager.close();
      }
    }
  });

  it("accepts vocab-only files whose header is not padded", async () => {
    const buf = buildGguf({ kvs: [{ key: "general.architecture", type: 8, value: "llama" }, { key: "x", type: 0, value: 1 }] });
    assert.notEqual(buf.length % 32, 0);
    const f = await readGgufFile(await writeTestGguf(dir, "vocab-only.gguf", buf));
    assert.equal(f.tensors.length, 0);
    assert.ok(f.tensorDataOffset > f.fileSize);
  });

  it("reads a single file as a one-shard model", async () => {
    const m = await readGgufModel(fixture("tiny-moe-f16.gguf"));
    assert.equal(m.isSplit, false);
    assert.equal(m.shards.length, 1);
    assert.equal(m.shards[0].tensorCount, m.tensors.length);
    assert.equal(m.shards[0].tensorBytes, m.tensors.reduce((s, t) => s + (t.byteSize ?? 0), 0));
  });
});
