import assert from "node:assert/strict";
import { GgufError, GgufErrorCode, readGgufFile, readGgufModel } from "../../../src/core/gguf";
import { buildGguf, makeTempDir, removeTempDir, smallModelSpec, TestGgufSpec, writeTestGguf } from "./ggufTestBuilder";

async function expectGgufError(p: Promise<unknown>, code: GgufErrorCode, offset?: number): Promise<GgufError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof GgufError, `expected GgufError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (offset !== undefined) assert.equal(e.offset, offset, e.message);
    return e;
  }
  assert.fail(`expected GgufError ${code}`);
}

/** Byte offset of the first occurrence of `needle` in the built file (to aim corruptions). */
function find(buf: Buffer, needle: string): number {
  const i = buf.indexOf(Buffer.from(needle, "utf8"));
  assert.ok(i >= 0);
  return i;
}

describe("gguf reader on bad input", () => {
  let dir: string;
  before(async () => { dir = await makeTempDir(); });
  after(async () => { await removeTempDir(dir); });
  const read = async (name: string, b: Buffer | TestGgufSpec): Promise<unknown> => readGgufFile(await writeTestGguf(dir, name, b));

  it("bad magic", async () => {
    const b = buildGguf(smallModelSpec());
    b.write("GGML", 0, "latin1");
    await expectGgufError(read("magic.gguf", b), "bad-magic", 0);
  });

  it("empty and truncated files", async () => {
    await expectGgufError(read("empty.gguf", Buffer.alloc(0)), "truncated");
    const b = buildGguf(smallModelSpec());
    const at = find(b, "output_norm.weight") + "output_norm.weight".length + 6; // inside a tensor's dims
    const e = await expectGgufError(read("trunc.gguf", b.subarray(0, at)), "truncated");
    assert.ok(e.offset !== undefined && e.offset <= at);
  });

  it("unsupported version", async () => {
    await expectGgufError(read("v1.gguf", smallModelSpec({ version: 1 })), "unsupported-version", 4);
    await expectGgufError(read("v9.gguf", smallModelSpec({ version: 9 })), "unsupported-version", 4);
  });

  it("huge tensor count and huge KV count", async () => {
    await expectGgufError(read("tc.gguf", smallModelSpec({ tensorCountOverride: 2n ** 40n })), "count-too-large", 8);
    await expectGgufError(read("kc.gguf", smallModelSpec({ kvCountOverride: 2n ** 50n })), "count-too-large", 16);
    await expectGgufError(read("kc64.gguf", smallModelSpec({ kvCountOverride: 2n ** 64n - 1n })), "value-out-of-range", 16);
  });

  it("string length past the end of the file", async () => {
    const b = buildGguf(smallModelSpec());
    const at = find(b, "general.name") - 8; // the key's length field
    b.writeBigUInt64LE(BigInt(b.length), at);
    await expectGgufError(read("strlen.gguf", b), "length-past-eof", at);
  });

  it("array length past the end of the file", async () => {
    const b = buildGguf(smallModelSpec());
    const countAt = find(b, "tokenizer.ggml.tokens") + "tokenizer.ggml.tokens".length + 4 + 4;
    b.writeBigUInt64LE(10n ** 12n, countAt);
    await expectGgufError(read("arrlen.gguf", b), "length-past-eof", countAt);
  });

  it("unknown value type", async () => {
    const b = buildGguf(smallModelSpec());
    const typeAt = find(b, "test.f64") + "test.f64".length;
    b.writeUInt32LE(77, typeAt);
    await expectGgufError(read("vtype.gguf", b), "unknown-value-type", typeAt);
  });

  it("arrays nested too deeply", async () => {
    let v: { elementType: number; values: unknown[] } = { elementType: 4, values: [1] };
    for (let i = 0; i < 40; i++) v = { elementType: 9, values: [v] };
    await expectGgufError(read("deep.gguf", { kvs: [{ key: "deep", type: 9, value: v as never }] }), "nesting-too-deep");
  });

  it("overlapping tensor data", async () => {
    const spec = smallModelSpec();
    spec.tensors![2].offset = 32; // inside token_embd's 640 bytes
    await expectGgufError(read("overlap.gguf", spec), "overlapping-tensors");
  });

  it("tensor data past the end of the file", async () => {
    const b = buildGguf(smallModelSpec());
    await expectGgufError(read("data-eof.gguf", b.subarray(0, b.length - 64)), "tensor-data-past-eof");
    const spec = smallModelSpec({ noData: true });
    await expectGgufError(read("no-data.gguf", spec), "tensor-data-past-eof");
  });

  it("misaligned tensor offsets, bad alignment, bad shapes and duplicates", async () => {
    const spec = smallModelSpec();
    spec.tensors![1].offset = 641;
    await expectGgufError(read("misaligned.gguf", spec), "misaligned-tensor");
    await expectGgufError(read("align.gguf", smallModelSpec({ alignment: 48 })), "bad-alignment");
    const five = smallModelSpec();
    five.tensors![0].shape = [64, 5, 1, 1, 1];
    await expectGgufError(read("dims.gguf", five), "bad-tensor-shape");
    const q8 = smallModelSpec();
    q8.tensors![1].shape = [48, 64];
    q8.tensors![1].byteSize = 48 * 64;
    await expectGgufError(read("block.gguf", q8), "bad-tensor-shape");
    const dup = smallModelSpec();
    dup.tensors![2].name = dup.tensors![1].name;
    await expectGgufError(read("dup.gguf", dup), "duplicate-tensor");
    const dupKey = smallModelSpec();
    dupKey.kvs!.push({ ...dupKey.kvs![0] });
    await expectGgufError(read("dupkey.gguf", dupKey), "duplicate-key");
  });

  it("split set with a missing shard", async () => {
    const shard = (no: number): TestGgufSpec => ({
      kvs: [
        { key: "split.no", type: 2, value: no },
        { key: "split.count", type: 2, value: 3 },
        { key: "split.tensors.count", type: 5, value: 3 },
      ],
      tensors: [{ name: `blk.${no}.attn_q.weight`, shape: [32], type: 0 }],
    });
    await writeTestGguf(dir, "m-00001-of-00003.gguf", shard(0));
    await writeTestGguf(dir, "m-00003-of-00003.gguf", shard(2));
    const e = await expectGgufError(readGgufModel(`${dir}/m-00001-of-00003.gguf`), "missing-shard");
    assert.match(e.message, /m-00002-of-00003\.gguf/);
    await writeTestGguf(dir, "m-00002-of-00003.gguf", shard(2)); // wrong split.no
    await expectGgufError(readGgufModel(`${dir}/m-00003-of-00003.gguf`), "bad-split");
  });

  it("a missing file is a typed io error", async () => {
    await expectGgufError(readGgufFile(`${dir}/nope.gguf`), "io");
  });
});
