// Searching a big metadata array pages through it on disk instead of decoding every element at
// once (a 50M-element array took 15 s and 1.1 GB for one search); results match a full decode.
import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGgufFile } from "../../../src/core/gguf";
import { MetadataArrayBrowser } from "../../../src/core/models/arrayBrowser";
import { buildGguf } from "../gguf/ggufTestBuilder";

describe("metadata array search pages through lazy arrays", () => {
  let dir: string;
  before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-array-search-")); });
  after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  it("finds the same matches as a full decode while decoding at most one page at a time", async () => {
    const tokens = Array.from({ length: 100_000 }, (_, i) => (i % 997 === 0 ? `▁Needle${i}` : `tok${i}`));
    const file = path.join(dir, "vocab.gguf");
    await fsp.writeFile(file, buildGguf({ kvs: [{ key: "tokenizer.ggml.tokens", type: 9, value: { elementType: 8, values: tokens } }] }));
    const header = await readGgufFile(file);
    const browser = new MetadataArrayBrowser(file, header.metadata);
    try {
      const page = await browser.page("tokenizer.ggml.tokens", 0, 50, "needle");
      const expected = tokens.map((t, i) => [t, i] as const).filter(([t]) => t.toLowerCase().includes("needle"));
      assert.equal(page.total, expected.length);
      assert.deepEqual(page.entries.map((e) => e.index), expected.slice(0, 50).map(([, i]) => i));
      for (const e of page.entries) assert.match(e.value, new RegExp(`Needle${e.index}\\b`));
      const second = await browser.page("tokenizer.ggml.tokens", 50, 50, "needle");
      assert.deepEqual(second.entries.map((e) => e.index), expected.slice(50, 100).map(([, i]) => i));
      assert.ok(browser.largestRead > 0 && browser.largestRead < tokens.length / 4, `decoded ${browser.largestRead} elements at once`);
    } finally {
      await browser.close();
    }
  });
});
