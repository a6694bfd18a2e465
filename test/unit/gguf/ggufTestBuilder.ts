// Test-only GGUF builder, written independently of the production encoder so that a bug in one
// is caught by the other. Builds small files in memory, optionally with deliberate corruptions.
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";

export type TestValue = number | bigint | boolean | string | { elementType: number; values: TestValue[] };

export interface TestKv { key: string; type: number; value: TestValue }
export interface TestTensor {
  name: string;
  shape: number[];
  /** ggml type id; data size computed for F32(0)/F16(1)/Q8_0(8), else give `byteSize`. */
  type: number;
  byteSize?: number;
  /** Relative offset override (default: packed, aligned). */
  offset?: number;
  /** Seed of the deterministic fill bytes. */
  fill?: number;
}

export interface TestGgufSpec {
  version?: number;
  bigEndian?: boolean;
  kvs?: TestKv[];
  tensors?: TestTensor[];
  alignment?: number;
  /** Override the counts written in the header (corruptions). */
  tensorCountOverride?: bigint;
  kvCountOverride?: bigint;
  /** Omit the data section (vocab-only style, unpadded). */
  noData?: boolean;
}

class Out {
  parts: Buffer[] = [];
  length = 0;
  constructor(private readonly be: boolean) {}
  push(b: Buffer): void { this.parts.push(b); this.length += b.length; }
  u8(v: number): void { this.push(Buffer.from([v & 0xff])); }
  u32(v: number): void { const b = Buffer.alloc(4); if (this.be) b.writeUInt32BE(v >>> 0); else b.writeUInt32LE(v >>> 0); this.push(b); }
  u64(v: number | bigint): void { const b = Buffer.alloc(8); if (this.be) b.writeBigUInt64BE(BigInt(v)); else b.writeBigUInt64LE(BigInt(v)); this.push(b); }
  str(s: string): void { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.push(b); }
  value(type: number, v: TestValue): void {
    const b = Buffer.alloc(8);
    const be = this.be;
    switch (type) {
      case 0: this.u8(Number(v)); return;
      case 1: b.writeInt8(Number(v)); this.push(b.subarray(0, 1)); return;
      case 2: if (be) b.writeUInt16BE(Number(v)); else b.writeUInt16LE(Number(v)); this.push(b.subarray(0, 2)); return;
      case 3: if (be) b.writeInt16BE(Number(v)); else b.writeInt16LE(Number(v)); this.push(b.subarray(0, 2)); return;
      case 4: this.u32(Number(v)); return;
      case 5: if (be) b.writeInt32BE(Number(v)); else b.writeInt32LE(Number(v)); this.push(b.subarray(0, 4)); return;
      case 6: if (be) b.writeFloatBE(Number(v)); else b.writeFloatLE(Number(v)); this.push(b.subarray(0, 4)); return;
      case 7: this.u8(v ? 1 : 0); return;
      case 8: this.str(String(v)); return;
      case 9: {
        const a = v as { elementType: number; values: TestValue[] };
        this.u32(a.elementType);
        this.u64(a.values.length);
        for (const x of a.values) this.value(a.elementType, x);
        return;
      }
      case 10: this.u64(BigInt(v as bigint)); return;
      case 11: if (be) b.writeBigInt64BE(BigInt(v as bigint)); else b.writeBigInt64LE(BigInt(v as bigint)); this.push(b); return;
      case 12: if (be) b.writeDoubleBE(Number(v)); else b.writeDoubleLE(Number(v)); this.push(b); return;
      default: this.u32(0); // unknown type: write something so the reader hits the type error first
    }
  }
}

export function testTensorBytes(t: TestTensor): number {
  if (t.byteSize !== undefined) return t.byteSize;
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.type === 0) return n * 4;
  if (t.type === 1) return n * 2;
  if (t.type === 8) return (n / 32) * 34;
  throw new Error(`give byteSize for type ${t.type}`);
}

export function buildGguf(spec: TestGgufSpec): Buffer {
  const be = spec.bigEndian ?? false;
  const o = new Out(be);
  const align = spec.alignment ?? 32;
  const kvs = [...(spec.kvs ?? [])];
  if (spec.alignment !== undefined) kvs.push({ key: "general.alignment", type: 4, value: spec.alignment });
  const tensors = spec.tensors ?? [];
  o.push(Buffer.from("GGUF", "latin1"));
  o.u32(spec.version ?? 3);
  o.u64(spec.tensorCountOverride ?? BigInt(tensors.length));
  o.u64(spec.kvCountOverride ?? BigInt(kvs.length));
  for (const kv of kvs) { o.str(kv.key); o.u32(kv.type); o.value(kv.type, kv.value); }
  let next = 0;
  const placed: { t: TestTensor; offset: number; size: number }[] = [];
  for (const t of tensors) {
    const size = testTensorBytes(t);
    const offset = t.offset ?? next;
    placed.push({ t, offset, size });
    next = Math.ceil((offset + size) / align) * align;
    o.str(t.name);
    o.u32(t.shape.length);
    for (const d of t.shape) o.u64(d);
    o.u32(t.type);
    o.u64(offset);
  }
  if (spec.noData || tensors.length === 0) return Buffer.concat(o.parts);
  const pad = (align - (o.length % align)) % align;
  o.push(Buffer.alloc(pad));
  const dataLen = placed.reduce((m, p) => Math.max(m, p.offset + p.size), 0);
  const data = Buffer.alloc(Math.ceil(dataLen / align) * align);
  for (const p of placed) {
    let x = (p.t.fill ?? 7) >>> 0;
    for (let i = 0; i < p.size && p.offset + i < data.length; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      data[p.offset + i] = x >>> 24;
    }
  }
  o.push(data);
  return Buffer.concat(o.parts);
}

let tmpRoot: string | undefined;
/** A fresh temp dir per test file; removed by the caller with removeTempDir. */
export async function makeTempDir(): Promise<string> {
  tmpRoot = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-test-"));
  return tmpRoot;
}
export async function removeTempDir(dir: string): Promise<void> {
  await fsp.rm(dir, { recursive: true, force: true });
}
export async function writeTestGguf(dir: string, name: string, spec: TestGgufSpec | Buffer): Promise<string> {
  const p = path.join(dir, name);
  await fsp.writeFile(p, Buffer.isBuffer(spec) ? spec : buildGguf(spec));
  return p;
}

/** A small llama-like model: two layers plus embeddings/output, with metadata. */
export function smallModelSpec(extra: Partial<TestGgufSpec> = {}): TestGgufSpec {
  return {
    kvs: [
      { key: "general.architecture", type: 8, value: "llama" },
      { key: "general.name", type: 8, value: "tést-ünïcode ✓" },
      { key: "general.file_type", type: 4, value: 7 },
      { key: "llama.context_length", type: 4, value: 2048 },
      { key: "llama.embedding_length", type: 4, value: 64 },
      { key: "llama.block_count", type: 4, value: 2 },
      { key: "llama.attention.head_count", type: 4, value: 4 },
      { key: "llama.attention.head_count_kv", type: 9, value: { elementType: 4, values: [2, 1] } },
      { key: "tokenizer.ggml.tokens", type: 9, value: { elementType: 8, values: ["<s>", "</s>", "a", "b", "ü"] } },
      { key: "tokenizer.chat_template", type: 8, value: "{{ messages }}" },
      { key: "test.nested", type: 9, value: { elementType: 9, values: [{ elementType: 5, values: [-1, 2] }, { elementType: 8, values: ["x"] }] } },
      { key: "test.i64", type: 11, value: -5n },
      { key: "test.f64", type: 12, value: 0.25 },
      { key: "test.bool", type: 7, value: true },
    ],
    tensors: [
      { name: "token_embd.weight", shape: [64, 5], type: 1, fill: 1 },
      { name: "blk.0.attn_q.weight", shape: [64, 64], type: 8, fill: 2 },
      { name: "blk.0.ffn_down.weight", shape: [64, 32], type: 1, fill: 3 },
      { name: "blk.1.attn_q.weight", shape: [64, 64], type: 8, fill: 4 },
      { name: "blk.1.attn_norm.weight", shape: [64], type: 0, fill: 5 },
      { name: "output_norm.weight", shape: [64], type: 0, fill: 6 },
      { name: "output.weight", shape: [64, 5], type: 1, fill: 7 },
    ],
    ...extra,
  };
}
