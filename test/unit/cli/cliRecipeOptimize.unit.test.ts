// `gguf-studio recipe optimize` on tiny-llama with the real tools and a tiny measurement budget.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import { locateTools } from "../../../src/core/native/toolLocator";
import { parseRecipe } from "../../../src/core/quant/recipeParse";
import { estimateOutputFileBytes, loadRecipeModel, resolveForModel } from "../../../src/core/quant/recipeFile";

const ROOT = path.resolve(__dirname, "../../../..");
const FIXTURES = path.join(ROOT, "test/fixtures");
const TINY_LLAMA = path.join(FIXTURES, "tiny-llama-f16.gguf");
const CODE_CALIB = path.join(FIXTURES, "code-calib.txt");
const CODE_EVAL = path.join(FIXTURES, "code-eval.txt");
const found = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found;
const TOOLS_DIR = found["llama-quantize"] && found["llama-perplexity"] ? path.dirname(found["llama-quantize"].path) : undefined;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

interface OptimizeJson {
  recipeFile: string; quantFile: string; budgetBytes: number; fileBytes: number; meanKld: number;
  evaluations: number; newEvaluations: number; measurementsFile: string; wallMs: number;
}

describe("gguf-studio recipe optimize", function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => { dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "gguf-cli-optimize-")); });
  after(async () => { if (dir) await fs.promises.rm(dir, { recursive: true, force: true }); });

  it("rejects bad usage with exit code 2 and names the problem", async () => {
    const out = path.join(dir, "x.quant.json");
    const noBudget = await cli("recipe", "optimize", TINY_LLAMA, "--calib", CODE_CALIB, "--eval", CODE_EVAL, "--out", out);
    assert.equal(noBudget.code, 2);
    assert.match(noBudget.err, /--budget/);
    const badBudget = await cli("recipe", "optimize", TINY_LLAMA, "--budget", "4 potatoes", "--calib", CODE_CALIB, "--eval", CODE_EVAL, "--out", out);
    assert.equal(badBudget.code, 2);
    assert.match(badBudget.err, /cannot read the budget "4 potatoes"/);
    const noSub = await cli("recipe", TINY_LLAMA);
    assert.equal(noSub.code, 2);
    assert.match(noSub.err, /unknown recipe subcommand/);
    const badOut = await cli("recipe", "optimize", TINY_LLAMA, "--budget", "3MB", "--calib", CODE_CALIB, "--eval", CODE_EVAL, "--out", path.join(dir, "x.json"));
    assert.equal(badOut.code, 2);
    assert.match(badOut.err, /\.quant\.json/);
    const badEvals = await cli("recipe", "optimize", TINY_LLAMA, "--budget", "3MB", "--calib", CODE_CALIB, "--eval", CODE_EVAL, "--out", out, "--max-evals", "-1");
    assert.equal(badEvals.code, 2);
    assert.equal(fs.existsSync(out), false);
  });

  it("refuses a budget below the smallest possible size, naming that size", async function () {
    if (!TOOLS_DIR) this.skip();
    const out = path.join(dir, "tiny.quant.json");
    const r = await cli("recipe", "optimize", TINY_LLAMA, "--budget", "1MB", "--calib", CODE_CALIB, "--eval", CODE_EVAL,
      "--out", out, "--tools", TOOLS_DIR as string, "--work", path.join(dir, "work"));
    assert.equal(r.code, 1);
    assert.match(r.err, /budget of 1000000 bytes is below the smallest possible size .*\((\d+) bytes/);
    const smallest = Number(/\((\d+) bytes/.exec(r.err)?.[1]);
    assert.ok(smallest > 1_000_000 && smallest < fs.statSync(TINY_LLAMA).size, `smallest ${smallest}`);
    assert.equal(fs.existsSync(out), false);
  });

  it("writes a valid recipe whose quant fits the budget, and reports measured KLD", async function () {
    if (!TOOLS_DIR) this.skip();
    const out = path.join(dir, "tiny-opt.quant.json");
    const budget = 3_900_000;
    const r = await cli("recipe", "optimize", TINY_LLAMA, "--budget", String(budget), "--calib", CODE_CALIB, "--eval", CODE_EVAL,
      "--out", out, "--max-evals", "2", "--probe-chunks", "2", "--verify-chunks", "2", "--threads", "2",
      "--tools", TOOLS_DIR as string, "--work", path.join(dir, "work"), "--json");
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /probe \d+\/\d+: /);
    const res = JSON.parse(r.out) as OptimizeJson;
    assert.equal(res.budgetBytes, budget);
    assert.equal(res.newEvaluations, 2);
    assert.ok(Number.isFinite(res.meanKld) && res.meanKld > 0, `mean KLD ${res.meanKld}`);

    const { recipe, warnings } = parseRecipe(await fs.promises.readFile(out, "utf8"), out);
    assert.deepEqual(warnings.filter((w) => w.severity === "error"), []);
    assert.ok(recipe.rules.length > 0);
    const quantBytes = fs.statSync(res.quantFile).size;
    assert.equal(quantBytes, res.fileBytes);
    assert.ok(quantBytes <= budget, `${quantBytes} > ${budget}`);
    // The recipe alone (re-resolved against the base) also predicts a size within the budget.
    const model = await loadRecipeModel(TINY_LLAMA);
    assert.ok(estimateOutputFileBytes(model, resolveForModel(recipe, model)) <= budget);

    // The measurements stay in the work folder, where a rerun resumes from them.
    const cached = JSON.parse(await fs.promises.readFile(res.measurementsFile, "utf8")) as { evaluations: number };
    assert.equal(cached.evaluations, 2);
  });
});
