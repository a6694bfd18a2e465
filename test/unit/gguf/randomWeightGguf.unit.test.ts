import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { GgufFile, GgufValue, readGgufFile } from "../../../src/core/gguf";

const ROOT = path.resolve(__dirname, "../../../..");
const SCRIPT = path.join(ROOT, "scripts/bench/randomWeightGguf.mjs");
const fixture = (n: string): string => path.join(ROOT, "test/fixtures", n);

function write(out: string, args: string[]): ReturnType<typeof spawnSync> {
  return spawnSync(process.execPath, [SCRIPT, ...args, "--out", out], { encoding: "utf8" });
}

function plain(v: GgufValue | undefined): unknown {
  if (typeof v === "object" && v !== null) return v.kind === "array" ? v.values.map(plain) : { lazy: v.count };
  return v;
}

const read = (p: string): Promise<GgufFile> => readGgufFile(p, { maxMaterializedArrayLength: Infinity });
const tensorTable = (f: GgufFile): Map<string, string> => new Map(f.tensors.map((t) => [t.name, `${t.shape.join("x")} ${t.typeName}`]));

function f16(bits: number): number {
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
  return bits & 0x8000 ? -v : v;
}

describe("scripts/bench/randomWeightGguf.mjs", () => {
  let dir: string;
  before(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-random-")); });
  after(() => { fs.rmSync(dir, { recursive: true, force: true }); });

  for (const [name, args] of [
    ["tiny-llama-f16.gguf", ["--layers", "6", "--hidden", "256", "--ffn", "768", "--heads", "8", "--kv-heads", "4"]],
    ["tiny-moe-f16.gguf", ["--layers", "4", "--hidden", "256", "--ffn", "512", "--heads", "8", "--kv-heads", "4", "--experts", "4", "--experts-used", "2"]],
  ] as const) {
    it(`with ${name}'s shape, writes its tensor names, shapes, types, llama hparams and tokenizer keys`, async () => {
      const out = path.join(dir, `like-${name}`);
      const r = write(out, [...args]);
      assert.equal(r.status, 0, String(r.stderr));
      const [ours, theirs] = await Promise.all([read(out), read(fixture(name))]);
      assert.deepEqual(new Map([...tensorTable(ours)].sort()), new Map([...tensorTable(theirs)].sort()));
      for (const e of theirs.metadata.values()) {
        if (e.key.startsWith("tokenizer.") || e.key.startsWith("llama.") || e.key === "general.file_type" || e.key === "general.architecture") {
          const mine = ours.metadata.get(e.key);
          assert.ok(mine, `${e.key} missing`);
          assert.equal(mine.type, e.type, e.key);
          assert.deepEqual(plain(mine.value), plain(e.value), e.key);
        }
      }
    });
  }

  it("writes a 2-layer × 64 model deterministically, N(0, 0.02) weights and unit norms, and keeps it on a rerun", async () => {
    const args = ["--layers", "2", "--hidden", "64", "--ffn", "256", "--heads", "4", "--kv-heads", "2", "--seed", "7"];
    const a = path.join(dir, "a.gguf");
    const b = path.join(dir, "b.gguf");
    assert.equal(write(a, args).status, 0);
    assert.equal(write(b, args).status, 0);
    assert.ok(fs.readFileSync(a).equals(fs.readFileSync(b)), "same seed, same bytes");
    const again = write(a, args);
    assert.equal(again.status, 0);
    assert.match(String(again.stdout), /already written with these parameters, kept/);
    const other = path.join(dir, "c.gguf");
    assert.equal(write(other, [...args.slice(0, -1), "8"]).status, 0);
    assert.ok(!fs.readFileSync(a).equals(fs.readFileSync(other)), "another seed, other weights");

    const f = await read(a);
    assert.equal(f.tensors.length, 2 + 2 * 9 + 1);
    const bytes = fs.readFileSync(a);
    const emb = f.tensors.find((t) => t.name === "token_embd.weight")!;
    assert.deepEqual(emb.shape, [64, 4096]);
    const data = bytes.subarray(f.tensorDataOffset + emb.offset, f.tensorDataOffset + emb.offset + emb.byteSize!);
    let sum = 0;
    let sq = 0;
    const n = data.length / 2;
    for (let i = 0; i < n; i++) { const v = f16(data.readUInt16LE(2 * i)); sum += v; sq += v * v; }
    const mean = sum / n;
    const std = Math.sqrt(sq / n - mean * mean);
    assert.ok(Math.abs(mean) < 0.001, `mean ${mean}`);
    assert.ok(Math.abs(std - 0.02) < 0.001, `std ${std}`);
    const norm = f.tensors.find((t) => t.name === "blk.1.ffn_norm.weight")!;
    assert.equal(norm.typeName, "F32");
    const normData = bytes.subarray(f.tensorDataOffset + norm.offset, f.tensorDataOffset + norm.offset + norm.byteSize!);
    for (let i = 0; i < 64; i++) assert.equal(normData.readFloatLE(4 * i), 1);
  });

  it("refuses a shape llama.cpp cannot run, naming the problem, and leaves no file", () => {
    const out = path.join(dir, "bad.gguf");
    const r = write(out, ["--layers", "2", "--hidden", "64", "--ffn", "256", "--heads", "5"]);
    assert.notEqual(r.status, 0);
    assert.match(String(r.stderr), /hidden 64 is not a multiple of heads 5/);
    assert.ok(!fs.existsSync(out));
  });
});
