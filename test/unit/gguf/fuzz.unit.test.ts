// Seeded mutation fuzz over the fixtures' headers: bit flips, truncations, length/count fields set
// to extremes, type fields set to random values. Every outcome must be a clean parse or a GgufError.
import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import path from "node:path";
import { GgufError, readGgufFile } from "../../../src/core/gguf";
import { makeTempDir, removeTempDir } from "./ggufTestBuilder";

const FIXTURES = path.resolve(__dirname, "../../../../test/fixtures");
const ITERATIONS_PER_FIXTURE = 5000;

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Offsets of every u64 length/count field and u32 type field in a little-endian header. */
function fieldOffsets(h: Buffer, tensorInfoOffset: number, tensorCount: number): { u64: number[]; u32: number[] } {
  const u64 = [8, 16];
  const u32: number[] = [4];
  let p = 24;
  const skipValue = (type: number): void => {
    const fixed: Record<number, number> = { 0: 1, 1: 1, 7: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 10: 8, 11: 8, 12: 8 };
    if (fixed[type] !== undefined) { p += fixed[type]; return; }
    if (type === 8) { u64.push(p); p += 8 + Number(h.readBigUInt64LE(p)); return; }
    u32.push(p);
    const et = h.readUInt32LE(p);
    u64.push(p + 4);
    const n = Number(h.readBigUInt64LE(p + 4));
    p += 12;
    // Record only the first few element lengths of big arrays: enough targets, bounded work.
    for (let i = 0; i < n; i++) {
      const before = u64.length;
      skipValue(et);
      if (i > 8) u64.length = before;
    }
  };
  while (p < tensorInfoOffset) {
    u64.push(p);
    p += 8 + Number(h.readBigUInt64LE(p));
    u32.push(p);
    const t = h.readUInt32LE(p);
    p += 4;
    skipValue(t);
  }
  for (let i = 0; i < tensorCount; i++) {
    u64.push(p);
    p += 8 + Number(h.readBigUInt64LE(p));
    u32.push(p);
    const nd = h.readUInt32LE(p);
    p += 4;
    for (let k = 0; k < nd; k++) { u64.push(p); p += 8; }
    u32.push(p);
    p += 4;
    u64.push(p);
    p += 8;
  }
  return { u64, u32 };
}

describe("gguf reader mutation fuzz", function () {
  this.timeout(60_000);
  let dir: string;
  before(async () => { dir = await makeTempDir(); });
  after(async () => { await removeTempDir(dir); });

  it(`survives ${2 * ITERATIONS_PER_FIXTURE} mutated headers with only typed errors`, async () => {
    const counts = { runs: 0, parsed: 0, typedErrors: 0, crashes: 0, hangs: 0 };
    const crashes: string[] = [];
    const byCode = new Map<string, number>();
    const started = Date.now();
    for (const [fi, name] of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"].entries()) {
      const src = path.join(FIXTURES, name);
      const info = await readGgufFile(src);
      const fullSize = info.fileSize;
      const header = (await fsp.readFile(src)).subarray(0, info.tensorDataOffset);
      const { u64, u32 } = fieldOffsets(header, info.tensorInfoOffset, info.tensors.length);
      // Sparse copy: real header, zero data (the reader never looks at tensor bytes).
      const target = path.join(dir, `fuzz-${name}`);
      await fsp.writeFile(target, header);
      await fsp.truncate(target, fullSize);
      const h = await fsp.open(target, "r+");
      const rnd = mulberry32(0x5eed + fi);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
      const extremes = [0n, 1n, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, BigInt(fullSize), BigInt(fullSize - 1), BigInt(header.length)];
      try {
        for (let i = 0; i < ITERATIONS_PER_FIXTURE; i++) {
          const mode = i % 4;
          let restore: () => Promise<void>;
          let what: string;
          if (mode === 0) {
            const flips = 1 + Math.floor(rnd() * 8);
            const at = Array.from({ length: flips }, () => Math.floor(rnd() * header.length));
            for (const a of at) await h.write(Buffer.from([header[a] ^ (1 << Math.floor(rnd() * 8))]), 0, 1, a);
            what = `bitflip@${at.join(",")}`;
            restore = async () => { for (const a of at) await h.write(header, a, 1, a); };
          } else if (mode === 1) {
            const len = rnd() < 0.8 ? Math.floor(rnd() * header.length) : Math.floor(rnd() * fullSize);
            await h.truncate(len);
            what = `truncate@${len}`;
            restore = async () => { await h.truncate(fullSize); if (len < header.length) await h.write(header, len, header.length - len, len); };
          } else if (mode === 2) {
            const at = pick(u64);
            const v = Buffer.alloc(8);
            v.writeBigUInt64LE(pick(extremes));
            await h.write(v, 0, 8, at);
            what = `u64@${at}=${v.readBigUInt64LE()}`;
            restore = async () => { await h.write(header, at, 8, at); };
          } else {
            const at = pick(u32);
            const v = Buffer.alloc(4);
            v.writeUInt32LE(rnd() < 0.5 ? Math.floor(rnd() * 64) : Math.floor(rnd() * 2 ** 32));
            await h.write(v, 0, 4, at);
            what = `u32@${at}=${v.readUInt32LE()}`;
            restore = async () => { await h.write(header, at, 4, at); };
          }
          const t0 = Date.now();
          try {
            // Most runs keep big arrays lazy (the fast path the UI uses); every 8th materializes all.
            await readGgufFile(target, { maxMaterializedArrayLength: i % 8 === 0 ? Infinity : 64 });
            counts.parsed++;
          } catch (e) {
            if (e instanceof GgufError) {
              counts.typedErrors++;
              byCode.set(e.code, (byCode.get(e.code) ?? 0) + 1);
            } else {
              counts.crashes++;
              if (crashes.length < 5) crashes.push(`${name} ${what}: ${String(e)}`);
            }
          }
          if (Date.now() - t0 > 2000) counts.hangs++;
          counts.runs++;
          await restore();
        }
      } finally {
        await h.close();
      }
    }
    console.log(`      fuzz: ${counts.runs} runs in ${Date.now() - started} ms, ${counts.parsed} parsed, ${counts.typedErrors} typed errors, ${counts.crashes} crashes, ${counts.hangs} hangs`);
    console.log(`      by code: ${[...byCode.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}=${n}`).join(" ")}`);
    assert.deepEqual(crashes, []);
    assert.equal(counts.crashes, 0);
    assert.equal(counts.hangs, 0);
    assert.equal(counts.runs, 2 * ITERATIONS_PER_FIXTURE);
    assert.ok(counts.typedErrors > counts.runs / 4, "the mutations must actually break most headers");
  });
});
