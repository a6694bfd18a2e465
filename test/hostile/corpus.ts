// The hostile-input corpus: GGUFs (and things posing as them) crafted to break a reader, an
// inspector or a writer. Each case says whether it is valid (must read) or not (must fail with a
// typed error); nothing may crash or hang. Used by the unit tier (hostileCorpus.unit.test.ts) and
// by the fuzz benchmark (scripts/bench/gguf-fuzz.mjs), which also mutates these headers at random.
import { execFileSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { buildGguf, smallModelSpec, TestGgufSpec, TestKv, TestTensor } from "../unit/gguf/ggufTestBuilder";

export type Expectation = "valid" | "invalid" | "either";

export interface CorpusCase {
  readonly name: string;
  readonly path: string;
  readonly expect: Expectation;
}

type Maker = () => Buffer;

/** Offset just past the first occurrence of `needle` (a key or tensor name). */
function after(b: Buffer, needle: string): number {
  const i = b.indexOf(Buffer.from(needle, "utf8"));
  if (i < 0) throw new Error(`corpus: ${needle} not in the base file`);
  return i + Buffer.byteLength(needle);
}

function patch(base: Buffer, edit: (b: Buffer) => void): Buffer {
  const b = Buffer.from(base);
  edit(b);
  return b;
}

/** Where a tensor's fields are: n_dims, dims, type, offset. */
function tensorFields(b: Buffer, name: string): { nDims: number; dims: number; type: number; offset: number } {
  const nDims = after(b, name);
  const n = b.readUInt32LE(nDims);
  return { nDims, dims: nDims + 4, type: nDims + 4 + 8 * n, offset: nDims + 4 + 8 * n + 4 };
}

function spec(extraKvs: TestKv[] = [], tensors?: TestTensor[], more: Partial<TestGgufSpec> = {}): TestGgufSpec {
  const base = smallModelSpec();
  return { ...base, kvs: [...(base.kvs ?? []), ...extraKvs], ...(tensors ? { tensors } : {}), ...more };
}

function nested(depth: number): TestKv["value"] {
  let v: TestKv["value"] = { elementType: 4, values: [1] };
  for (let i = 1; i < depth; i++) v = { elementType: 9, values: [v] };
  return v;
}

export function corpusMakers(): [string, Expectation, Maker][] {
  const base = buildGguf(smallModelSpec());
  const cases: [string, Expectation, Maker][] = [];
  const add = (name: string, expect: Expectation, make: Maker): void => { cases.push([name, expect, make]); };

  add("valid-small", "valid", () => base);
  add("valid-big-endian", "valid", () => buildGguf(smallModelSpec({ bigEndian: true })));
  add("valid-v2", "valid", () => buildGguf(smallModelSpec({ version: 2 })));
  add("valid-vocab-only", "valid", () => buildGguf(spec([], [], { noData: true })));
  add("valid-no-tensors-no-kvs", "valid", () => buildGguf({}));
  add("valid-alignment-64", "valid", () => buildGguf(smallModelSpec({ alignment: 64 })));
  add("valid-control-chars-in-names", "valid", () => buildGguf(spec([{ key: "x.\u001b]0;pwned\u0007", type: 8, value: "\u001b[2J\u0007" }])));
  add("valid-empty-strings", "valid", () => buildGguf(spec([{ key: "x.empty", type: 8, value: "" }, { key: "x.arr", type: 9, value: { elementType: 8, values: ["", "", ""] } }])));
  add("valid-depth-16", "valid", () => buildGguf(spec([{ key: "x.deep", type: 9, value: nested(16) }])));
  add("valid-long-string-crossing-window", "valid", () => buildGguf(spec([{ key: "x.pad", type: 8, value: "p".repeat(261_000) }, { key: "x.strs", type: 9, value: { elementType: 8, values: Array.from({ length: 40 }, (_, i) => `${i}`.padEnd(700, "s")) } }])));
  add("valid-latin1-key-and-value", "valid", () => patch(buildGguf(spec([{ key: "x.KEYKEY", type: 8, value: "VALUEVALUE" }])), (b) => {
    b.write("x.caf\xe9\xff", b.indexOf("x.KEYKEY"), "latin1");
    b.write("\xff\xfe\x80\x81\x82\xe9\xe9\xe9\xc3\x28", b.indexOf("VALUEVALUE"), "latin1");
  }));
  add("valid-unknown-ggml-type", "valid", () => patch(base, (b) => { b.writeUInt32LE(200, tensorFields(b, "output_norm.weight").type); }));

  // Magic and version.
  for (const [n, m] of [["GGML", "GGML"], ["ggup", "ggup"], ["zero", "\0\0\0\0"], ["FUGG", "FUGG"]] as const) add(`bad-magic-${n}`, "invalid", () => patch(base, (b) => { b.write(m, 0, "latin1"); }));
  for (const v of [0, 1, 4, 0xffffffff, 0x01000000]) add(`version-${v}`, "invalid", () => patch(base, (b) => { b.writeUInt32LE(v, 4); }));
  add("empty-file", "invalid", () => Buffer.alloc(0));
  add("magic-only", "invalid", () => Buffer.from("GGUF"));
  for (const n of [5, 8, 12, 16, 23]) add(`header-cut-${n}`, "invalid", () => base.subarray(0, n));

  // Counts.
  const big = [2n ** 64n - 1n, 2n ** 63n, 2n ** 53n, 2n ** 40n, 2n ** 32n, 100_000n];
  for (const c of big) add(`tensor-count-${c}`, "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(c, 8); }));
  for (const c of big) add(`kv-count-${c}`, "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(c, 16); }));
  add("kv-count-one-too-many", "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(b.readBigUInt64LE(16) + 1n, 16); }));
  add("tensor-count-one-too-many", "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(b.readBigUInt64LE(8) + 1n, 8); }));

  // Keys and string lengths.
  const keyLen = base.indexOf(Buffer.from("general.architecture")) - 8;
  for (const l of [0n, 2n ** 64n - 1n, 2n ** 53n, 2n ** 32n, BigInt(base.length)]) add(`key-length-${l}`, l === 0n ? "either" : "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(l, keyLen); }));
  const nameLen = after(base, "general.name") + 4;
  for (const l of [2n ** 64n - 1n, 2n ** 62n, 2n ** 32n + 3n, BigInt(base.length)]) add(`value-string-length-${l}`, "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(l, nameLen); }));
  add("duplicate-key", "invalid", () => buildGguf(spec([{ key: "general.name", type: 8, value: "again" }])));
  add("key-1mb", "valid", () => buildGguf(spec([{ key: `x.${"k".repeat(1 << 20)}`, type: 4, value: 1 }])));

  // Value types.
  for (const t of [13, 255, 0xffffffff, 0x80000000]) add(`value-type-${t}`, "invalid", () => patch(base, (b) => { b.writeUInt32LE(t, after(b, "general.name")); }));
  const arrKey = "llama.attention.head_count_kv";
  for (const t of [13, 0xffffffff]) add(`array-element-type-${t}`, "invalid", () => patch(base, (b) => { b.writeUInt32LE(t, after(b, arrKey) + 4); }));
  for (const c of [2n ** 64n - 1n, 2n ** 40n, 2n ** 32n, 1000n]) add(`array-count-${c}`, "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(c, after(b, arrKey) + 8); }));
  const tokens = "tokenizer.ggml.tokens";
  for (const c of [2n ** 64n - 1n, 2n ** 33n, 6n]) add(`string-array-count-${c}`, "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(c, after(b, tokens) + 8); }));
  add("string-array-element-length-huge", "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(2n ** 60n, after(b, tokens) + 16); }));
  add("nesting-17", "invalid", () => buildGguf(spec([{ key: "x.deep", type: 9, value: nested(17) }])));
  add("nesting-200", "invalid", () => buildGguf(spec([{ key: "x.deep", type: 9, value: nested(200) }])));
  add("array-of-empty-arrays", "valid", () => buildGguf(spec([{ key: "x.aa", type: 9, value: { elementType: 9, values: Array.from({ length: 5000 }, () => ({ elementType: 4, values: [] })) } }])));

  // Alignment.
  for (const [n, type, value] of [["0", 4, 0], ["3", 4, 3], ["48", 4, 48], ["2^31", 4, 2 ** 31], ["f32", 6, 32], ["str", 8, "32"], ["bool", 7, true], ["i8", 1, 32], ["f64", 12, 32]] as const) {
    add(`alignment-${n}`, n === "i8" ? "either" : "invalid", () => buildGguf(spec([{ key: "general.alignment", type, value }])));
  }
  add("alignment-array", "invalid", () => buildGguf(spec([{ key: "general.alignment", type: 9, value: { elementType: 4, values: [32] } }])));

  // Tensor infos.
  const tname = "blk.0.attn_q.weight";
  for (const n of [0, 5, 64, 0xffffffff]) add(`tensor-n-dims-${n}`, n === 0 ? "either" : "invalid", () => patch(base, (b) => { b.writeUInt32LE(n, tensorFields(b, tname).nDims); }));
  for (const d of [0n, 2n ** 63n, 2n ** 53n, 2n ** 31n, 3n]) add(`tensor-dim-${d}`, d === 0n ? "either" : "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(d, tensorFields(b, tname).dims); }));
  add("tensor-dims-product-overflow", "invalid", () => patch(base, (b) => { const f = tensorFields(b, tname); b.writeBigUInt64LE(2n ** 40n, f.dims); b.writeBigUInt64LE(2n ** 40n, f.dims + 8); }));
  for (const t of [4, 5, 999, 0xffffffff]) add(`tensor-ggml-type-${t}`, "either", () => patch(base, (b) => { b.writeUInt32LE(t, tensorFields(b, tname).type); }));
  for (const [n, o] of [["misaligned", 1n], ["huge", 2n ** 63n], ["2^53", 2n ** 53n], ["past-eof", BigInt(base.length)], ["zero-overlap", 0n]] as const) {
    add(`tensor-offset-${n}`, "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(o, tensorFields(b, "output.weight").offset); }));
  }
  add("tensor-duplicate-name", "invalid", () => buildGguf(spec([], [{ name: "a.weight", shape: [32], type: 0 }, { name: "a.weight", shape: [32], type: 0, offset: 128 }])));
  add("tensor-empty-name", "either", () => buildGguf(spec([], [{ name: "", shape: [32], type: 0 }])));
  add("tensor-name-1mb", "either", () => buildGguf(spec([], [{ name: "t".repeat(1 << 20), shape: [32], type: 0 }])));
  add("tensor-name-length-huge", "invalid", () => patch(base, (b) => { b.writeBigUInt64LE(2n ** 62n, b.indexOf(Buffer.from(tname)) - 8); }));
  add("tensor-data-truncated", "invalid", () => base.subarray(0, base.length - 100));
  add("tensor-block-size-mismatch", "invalid", () => buildGguf(spec([], [{ name: "q.weight", shape: [33, 2], type: 8, byteSize: 68 }])));

  // Truncated at 60 points through the header and 10 through the data.
  const headerEnd = base.indexOf(Buffer.from("output.weight")) + 40;
  for (let i = 1; i <= 60; i++) {
    const at = Math.floor((headerEnd * i) / 61);
    add(`truncated-header-${at}`, "invalid", () => base.subarray(0, at));
  }
  for (let i = 1; i <= 10; i++) {
    const at = headerEnd + Math.floor(((base.length - headerEnd) * i) / 11);
    add(`truncated-data-${at}`, "invalid", () => base.subarray(0, at));
  }
  return cases;
}

/** Writes every case (plus special files: a FIFO, a directory named *.gguf, a dangling link) into `dir`. */
export async function writeHostileCorpus(dir: string): Promise<CorpusCase[]> {
  await fsp.mkdir(dir, { recursive: true });
  const out: CorpusCase[] = [];
  for (const [name, expect, make] of corpusMakers()) {
    const p = path.join(dir, `${name}.gguf`);
    await fsp.writeFile(p, make());
    out.push({ name, path: p, expect });
  }
  const fifo = path.join(dir, "special-fifo.gguf");
  await fsp.rm(fifo, { force: true });
  execFileSync("mkfifo", [fifo]);
  out.push({ name: "special-fifo", path: fifo, expect: "invalid" });
  const folder = path.join(dir, "special-directory.gguf");
  await fsp.mkdir(folder, { recursive: true });
  out.push({ name: "special-directory", path: folder, expect: "invalid" });
  const dangling = path.join(dir, "special-dangling-link.gguf");
  await fsp.rm(dangling, { force: true });
  await fsp.symlink(path.join(dir, "does-not-exist.gguf"), dangling);
  out.push({ name: "special-dangling-link", path: dangling, expect: "invalid" });
  // A split set whose second shard is missing, and one whose second shard is a FIFO.
  const shard = (no: number) => buildGguf(spec([{ key: "split.no", type: 2, value: no }, { key: "split.count", type: 2, value: 2 }, { key: "split.tensors.count", type: 5, value: 7 }]));
  const missing = path.join(dir, "split-missing-00001-of-00002.gguf");
  await fsp.writeFile(missing, shard(0));
  out.push({ name: "split-missing-shard", path: missing, expect: "invalid" });
  const withFifo = path.join(dir, "split-fifo-00001-of-00002.gguf");
  await fsp.writeFile(withFifo, shard(0));
  const fifoShard = path.join(dir, "split-fifo-00002-of-00002.gguf");
  await fsp.rm(fifoShard, { force: true });
  execFileSync("mkfifo", [fifoShard]);
  out.push({ name: "split-fifo-shard", path: withFifo, expect: "invalid" });
  const wrongNo = path.join(dir, "split-wrongno-00001-of-00002.gguf");
  await fsp.writeFile(wrongNo, shard(1));
  await fsp.writeFile(path.join(dir, "split-wrongno-00002-of-00002.gguf"), shard(1));
  out.push({ name: "split-wrong-split-no", path: wrongNo, expect: "invalid" });
  return out;
}
