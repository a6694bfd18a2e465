// `gguf-studio quantize --recipe` and `gguf-studio kld` on the fixtures, with the real tools.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { KldResultsStore } from "../../../src/core/eval/resultsStore";
import { readGgufModel } from "../../../src/core/gguf";
import { locateTools } from "../../../src/core/native/toolLocator";
import { estimateOutputFileBytes, loadRecipeFile, loadRecipeModel, resolveForModel } from "../../../src/core/quant/recipeFile";
import { serializeRecipe } from "../../../src/core/quant/recipeParse";
import { buildStartingRecipe } from "../../../src/core/quant/recipeStarts";

const ROOT = path.resolve(__dirname, "../../../..");
const FIXTURES = path.join(ROOT, "test/fixtures");
const TINY_LLAMA = path.join(FIXTURES, "tiny-llama-f16.gguf");
const CODE_EVAL = path.join(FIXTURES, "code-eval.txt");
const found = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found;
const TOOLS_DIR = found["llama-quantize"] ? path.dirname(found["llama-quantize"].path) : undefined;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

/** Runs with os.tmpdir() pointing at `tmp`, so what the command leaves in the temp folder can be seen. */
async function cliWithTmp(tmp: string, ...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = process.env.TMPDIR;
  process.env.TMPDIR = tmp;
  try {
    return await cli(...argv);
  } finally {
    if (saved === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = saved;
  }
}

interface KldJson {
  results: { quantName: string; quantBytes: number; chunks: number; contextSize: number; summary: { meanKld: { value: number; error?: number }; kld99_9?: number; sameTopP: { value: number } } }[];
}

describe("gguf-studio quantize --recipe and kld", function () {
  this.timeout(300_000);
  let dir: string;
  let recipeFile: string;
  let recipeQuant: string;
  let q8: string;
  before(async function () {
    if (!TOOLS_DIR || !found["llama-perplexity"]) this.skip();
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "gguf-cli-recipe-"));
    const model = await loadRecipeModel(TINY_LLAMA);
    recipeFile = path.join(dir, "tiny-dynamic.quant.json");
    await fs.promises.writeFile(recipeFile, serializeRecipe({ ...buildStartingRecipe("dynamic", model.tensors, "Q3_K"), model: TINY_LLAMA }));
    recipeQuant = path.join(dir, "tiny-dynamic.gguf");
    q8 = path.join(dir, "tiny-Q8_0.gguf");
  });
  after(async () => {
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it("quantize --recipe writes every tensor with the type the recipe resolves to, at the predicted size, and cleans its temp files", async () => {
    const tmp = path.join(dir, "tmp");
    await fs.promises.mkdir(tmp);
    const r = await cliWithTmp(tmp, "quantize", TINY_LLAMA, recipeQuant, "--recipe", recipeFile, "--threads", "2", "--tools", TOOLS_DIR ?? "");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /wrote .*tiny-dynamic\.gguf/);
    const model = await loadRecipeModel(TINY_LLAMA);
    const { recipe } = await loadRecipeFile(recipeFile);
    const resolution = resolveForModel(recipe, model);
    const written = await readGgufModel(recipeQuant);
    const expected = new Map(resolution.tensors.map((t) => [t.name, t.type]));
    assert.equal(written.tensors.length, expected.size);
    for (const t of written.tensors) assert.equal(t.typeName, expected.get(t.name), t.name);
    assert.ok(new Set(written.tensors.map((t) => t.typeName)).size >= 3, "the recipe mixes several types");
    assert.equal(fs.statSync(recipeQuant).size, estimateOutputFileBytes(model, resolution));
    assert.deepEqual(await fs.promises.readdir(tmp), [], "the compiled tensor-type file is removed");
  });

  it("quantize --recipe --dry-run --json reports the recipe's own estimate next to the tool's", async () => {
    const out = path.join(dir, "dry.gguf");
    const r = await cli("quantize", TINY_LLAMA, out, "--recipe", recipeFile, "--dry-run", "--json", "--tools", TOOLS_DIR ?? "");
    assert.equal(r.code, 0, r.err);
    const facts = JSON.parse(r.out) as { recipeEstimatedBytes: number; estimatedBytes: number; commandLine: string };
    assert.equal(facts.recipeEstimatedBytes, facts.estimatedBytes);
    assert.match(facts.commandLine, /--tensor-type-file/);
    assert.equal(fs.existsSync(out), false);
  });

  it("quantize --recipe refuses a TYPE, --tensor-type and a missing recipe", async () => {
    const out = path.join(dir, "never.gguf");
    assert.equal((await cli("quantize", TINY_LLAMA, out, "Q4_K_M", "--recipe", recipeFile)).code, 2);
    assert.equal((await cli("quantize", TINY_LLAMA, out, "--recipe", recipeFile, "--tensor-type", "ffn_down=q8_0")).code, 2);
    const missing = await cli("quantize", TINY_LLAMA, out, "--recipe", path.join(dir, "nope.quant.json"), "--tools", TOOLS_DIR ?? "");
    assert.equal(missing.code, 1);
    assert.match(missing.err, /nope\.quant\.json/);
    assert.equal(fs.existsSync(out), false);
  });

  it("kld --json scores each quant; Q8_0 is closer to the base than the ~3-bit recipe", async () => {
    const q = await cli("quantize", TINY_LLAMA, q8, "Q8_0", "--threads", "2", "--tools", TOOLS_DIR ?? "");
    assert.equal(q.code, 0, q.err);
    const cache = path.join(dir, "cache");
    const r = await cli("kld", TINY_LLAMA, recipeQuant, q8, "--text", CODE_EVAL, "--ctx", "128", "--chunks", "3", "--threads", "2", "--cache", cache, "--json", "--tools", TOOLS_DIR ?? "");
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as KldJson;
    assert.deepEqual(j.results.map((x) => x.quantName), ["tiny-dynamic.gguf", "tiny-Q8_0.gguf"]);
    for (const x of j.results) {
      assert.equal(x.contextSize, 128);
      assert.equal(x.chunks, 3);
      assert.ok(Number.isFinite(x.summary.meanKld.value) && x.summary.meanKld.value >= 0);
      assert.ok(x.summary.meanKld.error !== undefined);
      assert.ok(x.summary.kld99_9 !== undefined && x.summary.kld99_9 >= x.summary.meanKld.value);
    }
    const [mix, eight] = j.results;
    assert.equal(mix.quantBytes, fs.statSync(recipeQuant).size);
    assert.ok(eight.summary.meanKld.value < mix.summary.meanKld.value, `${eight.summary.meanKld.value} < ${mix.summary.meanKld.value}`);
    assert.ok(eight.summary.sameTopP.value >= mix.summary.sameTopP.value);
    assert.ok((await fs.promises.readdir(cache)).some((f) => f.endsWith(".kld")), "--cache keeps the base logits");

    // The built CLI as a process prints the same numbers as a table (the base logits now come from the cache).
    const bin = path.join(ROOT, "dist/cli.js");
    if (!fs.existsSync(bin)) return;
    // --store also adds the results to a KLD results store (what the chart reads; npm start seeds it this way).
    const store = path.join(dir, "store");
    const p = spawnSync(process.execPath, [bin, "kld", TINY_LLAMA, recipeQuant, q8, "--text", CODE_EVAL, "--ctx", "128", "--chunks", "3", "--threads", "2", "--cache", cache, "--tools", TOOLS_DIR ?? "", "--store", store], { encoding: "utf8" });
    assert.equal(p.status, 0, p.stderr);
    const stored = await new KldResultsStore(store).listBases();
    assert.equal(stored.length, 1, "one results file for the one base");
    assert.equal(stored[0].data.base.path, TINY_LLAMA);
    const byName = new Map(stored[0].data.results.map((r) => [r.quantName, r]));
    assert.equal(byName.get("tiny-dynamic.gguf")?.origin, "recipe", "a quant next to its X.quant.json counts as a recipe");
    assert.equal(byName.get("tiny-dynamic.gguf")?.recipePath, recipeFile);
    assert.equal(byName.get("tiny-Q8_0.gguf")?.origin, "preset");
    for (const x of j.results) assert.equal(byName.get(x.quantName)?.summary.meanKld?.value, x.summary.meanKld.value, "the stored numbers are the printed ones");
    assert.match(p.stdout, /mean KLD\s+99\.9% KLD\s+same top p/);
    for (const x of j.results) {
      const row = p.stdout.split("\n").find((l) => l.startsWith(x.quantName));
      assert.ok(row, x.quantName);
      assert.ok(row.includes(`${x.summary.meanKld.value.toFixed(6)} ± ${(x.summary.meanKld.error ?? 0).toFixed(6)}`), row);
      assert.ok(row.includes(`${x.summary.sameTopP.value.toFixed(3)}%`), row);
    }
  });

  it("kld refuses missing arguments with usage errors", async () => {
    assert.equal((await cli("kld", TINY_LLAMA, recipeQuant)).code, 2, "no --text");
    assert.equal((await cli("kld", TINY_LLAMA, "--text", CODE_EVAL)).code, 2, "no quant");
    assert.equal((await cli("kld", TINY_LLAMA, recipeQuant, "--text", CODE_EVAL, "--chunks", "x")).code, 2);
  });
});
