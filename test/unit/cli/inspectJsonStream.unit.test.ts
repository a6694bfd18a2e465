// `inspect --json` is streamed in bounded pieces with one compact line per tensor, so millions of
// tensors never become one string; the document is the same as the whole-object rendering.
import assert from "node:assert/strict";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { modelToJson } from "../../../src/cli/inspectFormat";
import { readGgufModel, summarizeGguf } from "../../../src/core/gguf";
import { buildGguf, smallModelSpec } from "../gguf/ggufTestBuilder";

describe("inspect --json streaming", function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-inspect-stream-")); });
  after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  it("writes 60,000 tensors in pieces of at most 1 MB, one line per tensor, equal to the whole rendering", async () => {
    const tensors = Array.from({ length: 60_000 }, (_, i) => ({ name: `blk.${Math.floor(i / 64)}.ffn_down_exps.${i}.weight`, shape: [32], type: 0, fill: i }));
    const file = path.join(dir, "many.gguf");
    await fsp.writeFile(file, buildGguf(smallModelSpec({ tensors })));
    const pieces: string[] = [];
    const code = await runCli(["inspect", file, "--json"], { out: (t) => { pieces.push(t); }, err: () => undefined, signal: new AbortController().signal });
    assert.equal(code, 0);
    assert.ok(pieces.length > 10, `streamed in ${pieces.length} piece(s)`);
    assert.ok(Math.max(...pieces.map((p) => p.length)) <= 1 << 20, "no piece over 1 MB");
    const text = pieces.join("");
    const model = await readGgufModel(file);
    assert.deepEqual(JSON.parse(text), modelToJson(model, summarizeGguf(model)));
    const tensorLines = text.split("\n").filter((l) => l.trimStart().startsWith('{"name":'));
    assert.equal(tensorLines.length, 60_000, "one compact line per tensor");
  });

  it("an empty model streams valid JSON too", async () => {
    const file = path.join(dir, "empty.gguf");
    await fsp.writeFile(file, buildGguf({}));
    let text = "";
    assert.equal(await runCli(["inspect", file, "--json"], { out: (t) => { text += t; }, err: () => undefined, signal: new AbortController().signal }), 0);
    const j = JSON.parse(text) as { tensors: unknown[]; metadata: unknown[] };
    assert.deepEqual([j.tensors, j.metadata], [[], []]);
  });
});
