import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { promises as fsp } from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { GgufValueType, readGgufFile, readGgufModel, summarizeGguf } from "../../../src/core/gguf";

const ROOT = path.resolve(__dirname, "../../../..");
const MOE = path.join(ROOT, "test/fixtures/tiny-moe-f16.gguf");

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

describe("gguf-studio CLI", () => {
  let dir: string;
  before(async () => { dir = await fsp.mkdtemp(path.join(os.tmpdir(), "gguf-cli-")); });
  after(async () => { await fsp.rm(dir, { recursive: true, force: true }); });

  it("inspect --json reports the same facts as the core", async () => {
    const r = await cli("inspect", MOE, "--json");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { summary: { parameterCount: number; architecture: { expertCount: number } }; tensors: { name: string }[]; metadata: { key: string }[] };
    const model = await readGgufModel(MOE);
    const s = summarizeGguf(model);
    assert.equal(j.summary.parameterCount, s.parameterCount);
    assert.equal(j.summary.architecture.expertCount, s.architecture.expertCount);
    assert.deepEqual(j.tensors.map((t) => t.name), model.tensors.map((t) => t.name));
    assert.deepEqual(j.metadata.map((m) => m.key), [...model.metadata.keys()]);
  });

  it("inspect --markdown has a row per layer and per tensor", async () => {
    const r = await cli("inspect", MOE, "--markdown");
    assert.equal(r.code, 0);
    const model = await readGgufModel(MOE);
    for (const t of model.tensors) assert.ok(r.out.includes(`| ${t.name} |`), t.name);
    const layers = new Set(model.tensors.map((t) => t.layer).filter((l) => l !== undefined));
    for (const l of layers) assert.ok(r.out.includes(`| blk.${l} |`));
  });

  it("set-metadata sets typed values, strings from files, and removes keys", async () => {
    const tpl = path.join(dir, "t.jinja");
    await fsp.writeFile(tpl, "{% for m in messages %}{{ m.content }}{% endfor %}\n");
    const out = path.join(dir, "out.gguf");
    const r = await cli("set-metadata", MOE, out, `tokenizer.chat_template=@${tpl}`, "llama.context_length=8192", "new.ratio=0.5", "new.big=5000000000", "new.flag=true", "new.tag:str=42", "new.at=@@home", "--remove", "general.size_label");
    assert.equal(r.code, 0, r.err);
    const f = await readGgufFile(out);
    const get = (k: string): { type: GgufValueType; value: unknown } | undefined => f.metadata.get(k);
    assert.equal(get("tokenizer.chat_template")?.value, await fsp.readFile(tpl, "utf8"));
    assert.equal(get("llama.context_length")?.value, 8192);
    assert.equal(get("llama.context_length")?.type, (await readGgufFile(MOE)).metadata.get("llama.context_length")?.type, "an existing key keeps its type");
    assert.equal(get("new.ratio")?.type, GgufValueType.FLOAT32);
    assert.equal(get("new.big")?.value, 5000000000n);
    assert.equal(get("new.flag")?.value, true);
    assert.equal(get("new.tag")?.value, "42");
    assert.equal(get("new.at")?.value, "@home");
    assert.equal(f.metadata.has("general.size_label"), false);
  });

  it("set-metadata sets arrays from JSON, keeping an existing array's element type", async () => {
    const out = path.join(dir, "arrays.gguf");
    const r = await cli("set-metadata", MOE, out, 'general.tags:[str]=["code","tiny"]', "new.sizes:[u32]=[1,2,3]", "new.weights:[f32]=[0.5,-1]");
    assert.equal(r.code, 0, r.err);
    const f = await readGgufFile(out);
    assert.deepEqual(f.metadata.get("general.tags")?.value, { kind: "array", elementType: GgufValueType.STRING, values: ["code", "tiny"] });
    assert.deepEqual(f.metadata.get("new.sizes")?.value, { kind: "array", elementType: GgufValueType.UINT32, values: [1, 2, 3] });
    assert.deepEqual(f.metadata.get("new.weights")?.value, { kind: "array", elementType: GgufValueType.FLOAT32, values: [0.5, -1] });
    // An existing array key without a type keeps its element type.
    const out2 = path.join(dir, "arrays2.gguf");
    assert.equal((await cli("set-metadata", out, out2, 'general.tags=["one"]')).code, 0);
    assert.deepEqual((await readGgufFile(out2)).metadata.get("general.tags")?.value, { kind: "array", elementType: GgufValueType.STRING, values: ["one"] });
    // Bad arrays: not JSON, not an array, an element of the wrong type, nesting. Nothing is written.
    for (const bad of ["x:[u8]=[1,", "x:[u8]=5", "x:[u8]=[300]", 'x:[str]=[["a"]]', "x:[nope]=[1]"]) {
      const res = await cli("set-metadata", MOE, path.join(dir, "bad-array.gguf"), bad);
      assert.notEqual(res.code, 0, bad);
      assert.match(res.err, /x/, bad);
    }
    await assert.rejects(fsp.access(path.join(dir, "bad-array.gguf")));
  });

  it("fails with clear messages and non-zero exit codes", async () => {
    const missing = await cli("inspect", path.join(dir, "nope.gguf"));
    assert.equal(missing.code, 1);
    assert.match(missing.err, /cannot open/);
    const bad = path.join(dir, "bad.gguf");
    await fsp.writeFile(bad, "GGML and then some bytes to read");
    const magic = await cli("inspect", bad);
    assert.equal(magic.code, 1);
    assert.match(magic.err, /not a GGUF file.*bad-magic/);
    assert.equal((await cli("set-metadata", MOE, path.join(dir, "x.gguf"), "x:u8=300")).code, 1);
    assert.equal((await cli("set-metadata", MOE, path.join(dir, "x.gguf"), "x:nope=1")).code, 2);
    assert.equal((await cli("set-metadata", MOE, path.join(dir, "x.gguf"))).code, 2);
    assert.equal((await cli("set-metadata", MOE, MOE, "a=1")).code, 1);
    assert.equal((await cli("bogus")).code, 2);
    await assert.rejects(fsp.access(path.join(dir, "x.gguf")));
  });

  it("the built dist/cli.js runs as a process", function () {
    const bin = path.join(ROOT, "dist/cli.js");
    try { execFileSync(process.execPath, [bin, "--help"], { stdio: "ignore" }); } catch { this.skip(); }
    const ok = spawnSync(process.execPath, [bin, "inspect", MOE], { encoding: "utf8" });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /experts\s+4/);
    const bad = spawnSync(process.execPath, [bin, "inspect"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
  });
});
