import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { LogitsCache } from "../../../src/core/eval/logitsCache";
import { locateTools } from "../../../src/core/native/toolLocator";
import { ToolCancelledError } from "../../../src/core/native/toolRunner";
import { ProbeEngineError } from "../../../src/core/quant/probeEngine";
import {
  BudgetError, chooseTypes, groupBytes, groupTensors, monotoneOptions, parseBudget, recipeFromChoice, type Sensitivity, type TensorGroup,
} from "../../../src/core/quant/optimizer";
import { bracketTypes, fillUnmeasured, optimizeRecipe, type MeasurementsFile } from "../../../src/core/quant/optimizerRun";
import { estimateOutputFileBytes, loadRecipeModel, resolveForModel } from "../../../src/core/quant/recipeFile";
import { parseRecipe } from "../../../src/core/quant/recipeParse";

const ROOT = path.resolve(__dirname, "../../../..");
const fixture = (n: string) => path.join(ROOT, "test", "fixtures", n);
const tools = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found;

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("optimizer: budgets", () => {
  it("reads bytes, decimal and binary sizes and bits per weight", () => {
    assert.deepEqual(parseBudget("4326656"), { kind: "bytes", bytes: 4326656 });
    assert.deepEqual(parseBudget("2.5GB"), { kind: "bytes", bytes: 2_500_000_000 });
    assert.deepEqual(parseBudget("1GiB"), { kind: "bytes", bytes: 1024 ** 3 });
    assert.deepEqual(parseBudget("4.5 bpw"), { kind: "bpw", bitsPerWeight: 4.5 });
    assert.throws(() => parseBudget("lots"), BudgetError);
    assert.throws(() => parseBudget("-3GB"), BudgetError);
  });
});

describe("optimizer: choosing types under a byte budget", () => {
  let groups: TensorGroup[];
  const types = ["Q2_K", "Q3_K", "Q4_K", "Q6_K", "Q8_0"];
  before(async () => {
    groups = groupTensors((await loadRecipeModel(fixture("tiny-llama-f16.gguf"))).tensors);
  });

  /** Synthetic sensitivities with the real shape: error falls ~4× per extra bit, scaled per group. */
  function sensitivities(seed: number, gs: readonly TensorGroup[]): Sensitivity {
    const r = rng(seed);
    return new Map(gs.map((g) => {
      const scale = 0.001 + r() * 0.05;
      return [g.id, new Map(types.map((t) => [t, scale * 4 ** -(groupBytes(g, t) * 8 / g.elementCount) * (0.8 + 0.4 * r())]))];
    }));
  }

  it("groups by layer and kind and leaves out what llama-quantize keeps", () => {
    assert.ok(groups.some((g) => g.id === "blk.0.ffn_down"));
    assert.ok(groups.some((g) => g.id === "token_embd"));
    assert.ok(!groups.some((g) => /norm/.test(g.id)));
    for (const g of groups) for (const t of g.tensors) assert.match(t.name, new RegExp(g.pattern));
  });

  it("stays within budget and matches the exhaustive optimum on small instances", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const small = groups.slice(seed % 10, (seed % 10) + 4);
      const sens = sensitivities(seed, small);
      const min = small.reduce((s, g) => s + groupBytes(g, "Q2_K"), 0);
      const max = small.reduce((s, g) => s + groupBytes(g, "Q8_0"), 0);
      const budget = Math.floor(min + (max - min) * rng(seed * 7)());
      const c = chooseTypes(small, types, sens, budget);
      assert.ok(c.bytes <= budget);
      let best = Infinity;
      const walk = (i: number, bytes: number, kld: number) => {
        if (bytes > budget) return;
        if (i === small.length) { best = Math.min(best, kld); return; }
        for (const t of types) walk(i + 1, bytes + groupBytes(small[i], t), kld + (sens.get(small[i].id)?.get(t) ?? 0));
      };
      walk(0, 0, 0);
      // Dynamic programming: optimal up to the byte rounding.
      assert.ok(c.predictedKld <= best * 1.01 + 1e-12, `seed ${seed}: ${c.predictedKld} vs optimum ${best}`);
    }
  });

  it("beats every uniform type that fits the same budget", () => {
    const sens = sensitivities(99, groups);
    for (const budgetType of ["Q3_K", "Q4_K", "Q6_K"]) {
      const budget = groups.reduce((s, g) => s + groupBytes(g, budgetType), 0);
      const c = chooseTypes(groups, types, sens, budget);
      const uniform = groups.reduce((s, g) => s + (sens.get(g.id)?.get(budgetType) ?? 0), 0);
      assert.ok(c.bytes <= budget && c.predictedKld <= uniform, budgetType);
    }
  });

  it("refuses a budget below the smallest possible size", () => {
    const sens = sensitivities(3, groups);
    const min = groups.reduce((s, g) => s + groupBytes(g, "Q2_K"), 0);
    assert.throws(() => chooseTypes(groups, types, sens, min - 1), /below the smallest possible size/);
  });

  it("cleans noisy measurements into a monotone ladder", () => {
    const g = groups[0];
    const opts = monotoneOptions(g, types, new Map([["Q2_K", 0.05], ["Q3_K", 0.01], ["Q4_K", 0.012], ["Q6_K", -0.0001], ["Q8_0", 0.0002]]));
    for (let i = 1; i < opts.length; i++) assert.ok(opts[i].kld <= opts[i - 1].kld && opts[i].bytes > opts[i - 1].bytes);
    assert.ok(opts.every((o) => o.kld >= 0));
  });

  it("writes a valid recipe that gives every group exactly its chosen type", async () => {
    const model = await loadRecipeModel(fixture("tiny-moe-f16.gguf"));
    const moeGroups = groupTensors(model.tensors);
    const sens: Sensitivity = new Map(moeGroups.map((g, i) => [g.id, new Map(types.map((t, j) => [t, (i + 1) * 0.01 * 0.3 ** j]))]));
    const budget = moeGroups.reduce((s, g) => s + groupBytes(g, "Q4_K"), 0);
    const choice = chooseTypes(moeGroups, types, sens, budget);
    const recipe = recipeFromChoice(moeGroups, choice, "test", { budget });
    const { recipe: reparsed } = parseRecipe(JSON.stringify(recipe));
    const r = resolveForModel(reparsed, model);
    for (const g of moeGroups) for (const t of g.tensors) assert.equal(r.tensors.find((a) => a.name === t.name)?.type, choice.types.get(g.id), t.name);
    assert.equal(r.tensors.filter((a) => a.source.by !== "kept").reduce((s, a) => s + a.bytes, 0), choice.bytes);
  });

  it("probes only types near the budget's bits per weight", () => {
    assert.deepEqual(bracketTypes(["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0"], 4.9), ["Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K"]);
    assert.equal(bracketTypes(["Q2_K", "Q3_K", "Q8_0"], 1.0).length, 3);
  });

  it("estimates unmeasured groups from measured ones of the same kind", () => {
    const m: Record<string, Record<string, number>> = { "blk.0.ffn_down": { Q2_K: 0.02, Q8_0: 0.0001 } };
    const gs = groups.filter((g) => /ffn_down$/.test(g.id));
    fillUnmeasured(gs, ["Q2_K", "Q8_0"], m);
    assert.equal(m["blk.3.ffn_down"].Q2_K, 0.02);
  });
});

describe("optimizer run on tiny-llama (probes, cache, resume, cancel, verification)", function () {
  this.timeout(600_000);
  let dir: string;
  before(function () {
    if (!tools["llama-quantize"] || !tools["llama-perplexity"]) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "optimizer-test-"));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  const options = (extra: object) => ({
    quantize: tools["llama-quantize"]?.path as string, perplexity: tools["llama-perplexity"]?.path as string,
    basePath: fixture("tiny-llama-f16.gguf"), evalPath: path.join(dir, "eval.txt"), workDir: path.join(dir, "work"),
    cache: new LogitsCache(path.join(dir, "cache"), 1024 ** 3), threads: 2, probeChunks: 2, verifyChunks: 4, contextSize: 256,
    candidateTypes: ["Q2_K", "Q6_K"], budget: { kind: "bytes" as const, bytes: 4_400_000 }, ...extra,
  });

  it("measures, caches after each probe, resumes, and stays within the budget", async () => {
    fs.writeFileSync(path.join(dir, "eval.txt"), fs.readFileSync(fixture("code-eval.txt"), "utf8").slice(0, 20_000));
    const abort = new AbortController();
    let probes = 0;
    await assert.rejects(optimizeRecipe(options({ signal: abort.signal, maxEvaluations: 5, onProgress: (p: { phase: string }) => { if (p.phase === "probe" && ++probes === 3) abort.abort(); } })), (e: unknown) => {
      assert.ok(e instanceof ToolCancelledError, `expected a cancellation, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      return true;
    });
    const files = fs.readdirSync(path.join(dir, "work")).filter((f) => f.startsWith("measurements-"));
    assert.equal(files.length, 1);
    const kept = JSON.parse(fs.readFileSync(path.join(dir, "work", files[0]), "utf8")) as MeasurementsFile;
    assert.equal(kept.evaluations, 2, "the two finished probes were kept after cancel");
    const result = await optimizeRecipe(options({ maxEvaluations: 2 }));
    assert.equal(result.newEvaluations, 2);
    assert.equal(result.evaluations, 4, "resumed from the cached measurements");
    assert.ok(result.verified.fileBytes <= 4_400_000, `${result.verified.fileBytes}`);
    assert.ok(result.verified.meanKld > 0 && Number.isFinite(result.predictedKld));
    const model = await loadRecipeModel(fixture("tiny-llama-f16.gguf"));
    assert.equal(estimateOutputFileBytes(model, resolveForModel(result.recipe, model)), result.verified.fileBytes);
    await assert.rejects(optimizeRecipe(options({ budget: { kind: "bytes", bytes: 1_000_000 } })), BudgetError);
  });
});

describe("optimizer run with the probe engine (sparse design: kill, resume, plan, verification)", function () {
  this.timeout(600_000);
  let dir: string;
  before(function () {
    if (!tools["llama-quantize"] || !tools["llama-perplexity"] || !tools["gguf-studio-probe"]) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "optimizer-engine-test-"));
    fs.writeFileSync(path.join(dir, "eval.txt"), fs.readFileSync(fixture("code-eval.txt"), "utf8").slice(0, 40_000));
    fs.writeFileSync(path.join(dir, "calib.txt"), fs.readFileSync(fixture("code-calib.txt"), "utf8").slice(0, 40_000));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  const options = (extra: object) => ({
    quantize: tools["llama-quantize"]?.path as string, perplexity: tools["llama-perplexity"]?.path as string, engine: tools["gguf-studio-probe"]?.path as string,
    basePath: fixture("tiny-moe-f16.gguf"), evalPath: path.join(dir, "eval.txt"), probeTextPath: path.join(dir, "calib.txt"), workDir: path.join(dir, "work"),
    cache: new LogitsCache(path.join(dir, "cache"), 1024 ** 3), threads: 2, probeChunks: 2, verifyChunks: 2, contextSize: 128,
    candidateTypes: ["Q2_K", "Q4_K", "Q6_K", "Q8_0"], budget: { kind: "bpw" as const, bitsPerWeight: 4.0 }, ...extra,
  });

  it("a probe text too short for the proxy's activation statistics still gets the engine's own error", async () => {
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, "def f(x):\n    return x\n");
    const lines: string[] = [];
    await assert.rejects(
      optimizeRecipe(options({ probeTextPath: short, imatrixTool: tools["llama-imatrix"]?.path, workDir: path.join(dir, "work-short"), onLine: (l: string) => lines.push(l) })),
      (e: unknown) => e instanceof ProbeEngineError && e.code === "text-too-short",
    );
    assert.ok(lines.some((l) => l.startsWith("activation statistics for the proxy failed")), "the failed llama-imatrix run is said, not fatal");
    assert.deepEqual(fs.readdirSync(path.join(dir, "work-short")).filter((f) => f.includes(".imatrix")), [], "no partial statistics file is left");
  });

  it("keeps every reading when stopped mid-run, resumes, stays within G + 2·T + 10 evaluations and the budget", async () => {
    const abort = new AbortController();
    let probes = 0;
    await assert.rejects(optimizeRecipe(options({ signal: abort.signal, onProgress: (p: { phase: string; done: number }) => { if (p.phase === "probe" && p.done > 0 && ++probes === 4) abort.abort(); } })), ToolCancelledError);
    const file = fs.readdirSync(path.join(dir, "work")).find((f) => f.startsWith("measurements-") && f.includes("-engine-"));
    assert.ok(file, "an engine measurements file");
    const kept = JSON.parse(fs.readFileSync(path.join(dir, "work", file), "utf8")) as MeasurementsFile;
    const keptReadings = Object.values(kept.measurements).reduce((n, c) => n + Object.keys(c).length, 0);
    assert.ok(keptReadings >= 3, `${keptReadings} readings kept after the stop`);

    const progress: { rate?: number; etaMs?: number }[] = [];
    const result = await optimizeRecipe(options({ onProgress: (p: { rate?: number; etaMs?: number }) => progress.push(p) }));
    const model = await loadRecipeModel(fixture("tiny-moe-f16.gguf"));
    const groups = groupTensors(model.tensors);
    const types = result.fit ? Object.keys(result.fit.typeCorrection).length : 0;
    assert.equal(result.design, "sparse");
    assert.ok(result.evaluations + result.refinement.evaluations <= groups.length + 2 * types + 10, `${result.evaluations} probes + ${result.refinement.evaluations} in context for ${groups.length} groups and ${types} types`);
    assert.ok(result.newEvaluations < groups.length + 2 * types + 10 - keptReadings + 1, "the rerun did not measure again what was kept");
    assert.ok(progress.some((p) => p.rate !== undefined && p.rate > 0 && p.etaMs !== undefined), "progress reports probes per second and an ETA");
    assert.ok(result.costs.loadMs > 0 && result.costs.medianProbeMs > 0 && result.costs.verifyWallMs > 0);
    assert.ok(result.verified.fileBytes <= result.budgetBytes, `${result.verified.fileBytes} > ${result.budgetBytes}`);
    assert.equal(estimateOutputFileBytes(model, resolveForModel(result.recipe, model)), result.verified.fileBytes);
    assert.ok(result.verified.meanKld > 0 && Number.isFinite(result.verified.meanKld));
  });
});
