import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { readGgufModel } from "../../../src/core/gguf";
import { REPO_ROOT, TINY_LLAMA, realTools, sha256File, tempDir } from "./quantTestSupport";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(args, { out: (t) => void (out += t), err: (t) => void (err += t), signal: new AbortController().signal });
  return { code, out, err };
}

describe("gguf-studio quantize", function () {
  this.timeout(60_000);
  let dir: string;
  const toolsDir = path.join(REPO_ROOT, "bin/linux-x64-cpu");
  before(function () {
    if (!realTools()) this.skip();
  });
  beforeEach(() => {
    dir = tempDir("qcli");
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("--dry-run prints the estimate and writes nothing", async () => {
    const r = await cli(["quantize", TINY_LLAMA, path.join(dir, "o.gguf"), "Q4_K_M", "--dry-run", "--json", "--tools", toolsDir]);
    assert.equal(r.code, 0, r.err);
    const facts = JSON.parse(r.out) as { estimatedBytes: number; sourceBytes: number; needsImatrix: boolean };
    assert.ok(facts.estimatedBytes > 0 && facts.estimatedBytes < facts.sourceBytes / 2);
    assert.equal(facts.needsImatrix, false);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("quantizes with the same runner and reports size, ratio and hash", async () => {
    const out = path.join(dir, "o.gguf");
    const r = await cli(["quantize", TINY_LLAMA, out, "q8_0", "--threads", "2", "--tools", toolsDir]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`sha256 ${sha256File(out)}`));
    assert.match(r.err, /quantize: 100%/);
    assert.ok((await readGgufModel(out)).tensors.some((t) => t.typeName === "Q8_0"));
  });

  it("exits 1 with the reason for an IQ type without an imatrix, and 2 for bad usage", async () => {
    const r = await cli(["quantize", TINY_LLAMA, path.join(dir, "o.gguf"), "IQ2_XXS", "--tools", toolsDir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /needs an importance matrix.*\(needs-imatrix\)/);
    assert.equal((await cli(["quantize", TINY_LLAMA, "Q4_K_M"])).code, 2);
    assert.equal((await cli(["quantize", TINY_LLAMA, path.join(dir, "o.gguf"), "Q9"])).code, 2);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
