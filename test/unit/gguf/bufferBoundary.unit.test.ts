// Strings that cross the reader's window (the first read is 256 KiB) must read like any other:
// both array shapes (materialized, ≤ 4096 entries; lazy, more) and a seeded fuzz that moves the
// window's edge through every part of a string (length field, first bytes, last bytes).
import assert from "node:assert/strict";
import { GgufLazyArray, readArrayPage, readGgufFile } from "../../../src/core/gguf";
import { buildGguf, makeTempDir, removeTempDir, TestKv, writeTestGguf } from "./ggufTestBuilder";

const WINDOW = 256 * 1024;

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

/** Strings of the given lengths, each distinct so a misplaced read shows. */
function strings(lengths: readonly number[]): string[] {
  return lengths.map((n, i) => `${i}:`.padEnd(n, String.fromCharCode(97 + (i % 26))));
}

/** A file whose first array holds `values`, after a padding string of `pad` bytes. */
function spec(pad: number, values: string[]): { kvs: TestKv[] } {
  return {
    kvs: [
      { key: "general.architecture", type: 8, value: "llama" },
      { key: "test.pad", type: 8, value: "p".repeat(pad) },
      { key: "test.strings", type: 9, value: { elementType: 8, values } },
      { key: "test.after", type: 4, value: 7 },
    ],
  };
}

describe("gguf reader: strings across the read window", () => {
  let dir: string;
  before(async () => { dir = await makeTempDir(); });
  after(async () => { await removeTempDir(dir); });

  it("reads a ≤4096-entry string array whose >256-byte string crosses the window's end", async () => {
    // 1000 strings of 300 bytes: the string holding byte 262144 starts less than 264 bytes before it,
    // which is exactly where the old "has(8 + 256)" shortcut went wrong.
    const values = strings(new Array<number>(1000).fill(300));
    const probe = buildGguf(spec(0, values));
    const arrayStart = probe.indexOf(Buffer.from("0:aaa")) - 8; // first element's length field
    // Choose the pad so the window's end lies 280 bytes into some element (its length field + 272 bytes).
    const k = Math.floor((WINDOW - arrayStart) / 308) - 1;
    const pad = WINDOW - (arrayStart + k * 308 + 280);
    const file = await readGgufFile(await writeTestGguf(dir, "cross.gguf", spec(pad, values)));
    const got = file.metadata.get("test.strings")?.value;
    assert.ok(got && typeof got === "object" && got.kind === "array");
    assert.deepEqual(got.values, values);
    assert.equal(file.metadata.get("test.after")?.value, 7);
  });

  it("reads and pages a >4096-entry (lazy) string array crossing the window", async () => {
    const values = strings(Array.from({ length: 5000 }, (_, i) => (i % 7 === 0 ? 1000 : 60)));
    const path = await writeTestGguf(dir, "lazy.gguf", spec(1234, values));
    const file = await readGgufFile(path);
    const lazy = file.metadata.get("test.strings")?.value as GgufLazyArray;
    assert.equal(lazy.kind, "lazy-array");
    assert.deepEqual(await readArrayPage(path, lazy, 0, lazy.count), values);
    const all = await readGgufFile(path, { maxMaterializedArrayLength: Infinity });
    const full = all.metadata.get("test.strings")?.value;
    assert.ok(full && typeof full === "object" && full.kind === "array");
    assert.deepEqual(full.values, values);
  });

  it("fuzz: the window's edge at every part of a string, both shapes", async () => {
    const rand = mulberry32(0x9e3779b9);
    for (let trial = 0; trial < 40; trial++) {
      const count = trial % 2 === 0 ? 1 + Math.floor(rand() * 4096) : 4097 + Math.floor(rand() * 500);
      // Lengths around the 256-byte shortcut and far beyond it; total above the window.
      const lengths = Array.from({ length: count }, () => {
        const r = rand();
        return r < 0.3 ? Math.floor(rand() * 16) : r < 0.6 ? 240 + Math.floor(rand() * 40) : Math.floor(rand() * 1500);
      });
      // Now and then one string bigger than the window itself.
      if (rand() < 0.2) lengths[Math.floor(rand() * count)] = 260_000 + Math.floor(rand() * 300_000);
      const values = strings(lengths.map((n) => Math.max(n, String(count).length + 1)));
      const pad = Math.floor(rand() * 270_000);
      const path = await writeTestGguf(dir, `fuzz-${trial}.gguf`, spec(pad, values));
      for (const limit of [4096, Infinity]) {
        const file = await readGgufFile(path, { maxMaterializedArrayLength: limit });
        const v = file.metadata.get("test.strings")?.value;
        assert.ok(v && typeof v === "object", `trial ${trial}`);
        const got = v.kind === "array" ? v.values : await readArrayPage(path, v, 0, v.count);
        assert.deepEqual(got, values, `trial ${trial}: count ${count}, pad ${pad}, limit ${limit}`);
        assert.equal(file.metadata.get("test.after")?.value, 7);
      }
    }
  });
});
