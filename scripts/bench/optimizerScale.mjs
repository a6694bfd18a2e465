// bench:optimizer-scale — what a probe costs as models grow, old path vs probe engine, side by side.
// Random-weight llama GGUFs of growing size (scripts/bench/randomWeightGguf.mjs; their KLDs mean
// nothing, their costs are real). Per model:
//   T_eval      one base forward pass over the probe chunks (the engine's base pass, and an
//               evaluate([]) that also computes the KLD);
//   old path    per probe: llama-quantize writes the probe GGUF + llama-perplexity reloads it and evaluates;
//   engine      model load once, then per probe: quantize one group in memory + evaluate + restore;
//   optimize    total wall time of `optimizeRecipe` with the engine (sparse design) where --full-run
//               names the model, else projected from the measured per-probe cost.
//   node scripts/bench/optimizerScale.mjs [--presets small,medium,1b] [--chunks 4] [--ctx 256] [--probes 5] [--old-probes 2] [--full-run small]
// Writes .bench/scale/results.json and prints Markdown.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadCore, root } from "./coreBundle.mjs";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };

const presets = arg("presets", "small,medium,1b").split(",");
const chunks = Number(arg("chunks", "4"));
const ctx = Number(arg("ctx", "256"));
const nProbes = Number(arg("probes", "5"));
const nOld = Number(arg("old-probes", "2"));
const fullRun = new Set(arg("full-run", "small").split(",").filter(Boolean));
const threads = Math.max(1, os.cpus().length);

const { core, tools, done } = await loadCore("scale", ["./src/core/quant/optimizer", "./src/core/quant/optimizerRun", "./src/core/quant/optimizerMeasure", "./src/core/quant/optimizerSparse", "./src/core/quant/probeEngine", "./src/core/eval/kldJob", { from: "./src/core/eval/logitsCache", names: ["LogitsCache"] }, { from: "./src/core/quant/recipeFile", names: ["loadRecipeModel"] }, { from: "./src/core/gguf/splitSet", names: ["readGgufModel"] }, { from: "./src/core/gguf/ggmlTypes", names: ["ggmlTypeName"] }], { need: ["llama-quantize", "llama-perplexity", "gguf-studio-probe"] });
const text = path.join(root, "test", "fixtures", "code-calib.txt");
const work = path.join(root, ".bench", "scale");
fs.mkdirSync(work, { recursive: true });
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

const report = { date: new Date().toISOString(), cpu: os.cpus()[0]?.model, cores: os.cpus().length, load: os.loadavg(), chunks, ctx, models: [] };
for (const preset of presets) {
  const basePath = path.join(work, `${preset}-f16.gguf`);
  const gen = spawnSync(process.execPath, [path.join(root, "scripts", "bench", "randomWeightGguf.mjs"), "--preset", preset], { stdio: "inherit" });
  if (gen.status !== 0) throw new Error(`could not write the ${preset} model`);
  const model = await core.loadRecipeModel(basePath);
  const groups = core.groupTensors(model.tensors);
  const params = model.tensors.reduce((s, t) => s + t.elementCount, 0);
  const fileBytes = fs.statSync(basePath).size;
  const sample = [0.1, 0.3, 0.5, 0.7, 0.9, 0.2, 0.6].slice(0, nProbes).map((f) => groups[Math.floor(f * (groups.length - 1))]);

  // New path: the engine.
  const tStart = Date.now();
  const engine = await core.ProbeEngine.start({ executable: tools["gguf-studio-probe"].path, basePath, textPath: text, contextSize: ctx, chunks, threads });
  const startMs = Date.now() - tStart;
  const tE = Date.now();
  await engine.evaluate([], "the base against itself");
  const tEvalMs = Date.now() - tE;
  const probeMs = [];
  for (const g of sample) {
    const t0 = Date.now();
    await engine.evaluate(g.tensors.map((x) => ({ name: x.name, type: "Q4_K" })), `${g.id} at Q4_K`);
    probeMs.push(Date.now() - t0);
  }
  const tW = Date.now();
  await engine.weightErrors(groups.flatMap((g) => g.tensors.map((t) => t.name)), ["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0"]);
  const weightErrorMs = Date.now() - tW;
  await engine.close();

  // Old path: a probe GGUF written by llama-quantize, reloaded and evaluated by llama-perplexity.
  const base = await core.readGgufModel(basePath);
  const cache = new core.LogitsCache(path.join(work, "logits"), 8 * 1024 ** 3);
  const logits = await core.ensureBaseLogits({ perplexity: tools["llama-perplexity"].path, toolVersion: "", basePath, quants: [], evalPath: text, contextSize: ctx, chunks, threads, cache }, base, []);
  const sourceType = core.ggmlTypeName(groups[0].tensors[0].ggmlType);
  const oldMs = [];
  for (const g of sample.slice(0, nOld)) {
    const recipe = { version: 1, baseType: "Q4_K", rules: [{ pattern: ".", type: sourceType }, { pattern: g.pattern, type: "Q4_K" }] };
    const t0 = Date.now();
    await core.quantizeAndMeasure({ quantize: tools["llama-quantize"].path, perplexity: tools["llama-perplexity"].path, workDir: work, threads }, model, recipe, path.join(work, "probe.gguf"), "probe", logits.file, ctx);
    oldMs.push(Date.now() - t0);
  }
  fs.rmSync(path.join(work, "probe.gguf"), { force: true });

  const types = 7;
  const sparseEvals = core.sparseProbeCount(groups.length, types);
  const perProbe = median(probeMs);
  const entry = {
    preset, params, fileBytes, groups: groups.length, tEvalMs, engineStartMs: startMs, engineProbeMs: perProbe, engineProbeOverTEval: perProbe / tEvalMs,
    weightErrorMs, oldProbeMs: median(oldMs), oldOverTEval: median(oldMs) / tEvalMs, sparseEvals, gridEvals: groups.length * types,
    projected: {
      engineSparseS: (startMs + sparseEvals * perProbe + weightErrorMs) / 1000,
      oldGridS: (groups.length * types * median(oldMs)) / 1000,
      targetS: (sparseEvals * 1.3 * tEvalMs) / 1000,
    },
  };
  if (fullRun.has(preset)) {
    const t0 = Date.now();
    const res = await core.optimizeRecipe({
      quantize: tools["llama-quantize"].path, perplexity: tools["llama-perplexity"].path, engine: tools["gguf-studio-probe"].path, design: "sparse",
      basePath, budget: { kind: "bpw", bitsPerWeight: 4.5 }, evalPath: path.join(root, "test", "fixtures", "code-eval.txt"), probeTextPath: text,
      workDir: path.join(work, `optimizer-${preset}`), cache, threads, probeChunks: chunks, verifyChunks: chunks, contextSize: ctx,
    });
    entry.optimize = { wallS: (Date.now() - t0) / 1000, costs: res.costs, evaluations: res.newEvaluations, refineEvaluations: res.refinement.evaluations };
    entry.optimize.totalOverTEval = (entry.optimize.wallS * 1000 - res.costs.verifyWallMs) / tEvalMs;
  }
  report.models.push(entry);
  console.log(`\n${preset}: ${(params / 1e6).toFixed(0)} M params, ${(fileBytes / 2 ** 20).toFixed(0)} MiB, ${groups.length} groups; T_eval ${(tEvalMs / 1000).toFixed(2)} s; engine start ${(startMs / 1000).toFixed(2)} s, per probe ${(perProbe / 1000).toFixed(2)} s (${entry.engineProbeOverTEval.toFixed(2)}× T_eval); weight errors of all groups × 7 types ${(weightErrorMs / 1000).toFixed(1)} s; old path per probe ${(entry.oldProbeMs / 1000).toFixed(2)} s (${entry.oldOverTEval.toFixed(2)}× T_eval)`);
  console.log(`  sparse ${sparseEvals} evals → ${entry.projected.engineSparseS.toFixed(0)} s projected (target ≤ ${entry.projected.targetS.toFixed(0)} s + verification); old grid ${entry.gridEvals} probes → ${entry.projected.oldGridS.toFixed(0)} s`);
  if (entry.optimize) console.log(`  measured optimize (sparse, 4.5 bpw): ${entry.optimize.wallS.toFixed(0)} s wall, ${entry.optimize.evaluations} evaluations; probes+refinement = ${entry.optimize.totalOverTEval.toFixed(0)} × T_eval; costs ${JSON.stringify(res2s(entry.optimize.costs))}`);
}
// Projection to real models, from the largest model measured: a probe = a forward pass over the probe
// tokens (∝ parameters × tokens) + quantizing one group in memory (∝ the group's weights). Both rates
// are this machine's; a GPU changes them, and no GPU was measured here.
{
  const big = report.models.at(-1);
  const tokens = chunks * ctx;
  const evalPerParamToken = big.tEvalMs / (big.params * tokens); // ms per parameter-token
  const quantMsPerGroupParam = Math.max(0, big.engineProbeMs - big.tEvalMs) / (big.params / big.groups); // ms per weight of the probed group
  const project = (name, params, layers, groups) => {
    const tEval = evalPerParamToken * params * tokens;
    const probe = tEval + quantMsPerGroupParam * (params / groups);
    const evals = core.sparseProbeCount(groups, 7);
    const totalS = (evals * probe) / 1000;
    return { name, params, layers, groups, tEvalS: tEval / 1000, probeS: probe / 1000, evals, totalS, arithmetic:
      `T_eval = ${evalPerParamToken.toExponential(3)} ms/(param·token) × ${(params / 1e9).toFixed(1)}e9 × ${tokens} = ${(tEval / 1000).toFixed(1)} s; ` +
      `probe = T_eval + ${quantMsPerGroupParam.toExponential(3)} ms/weight × ${(params / groups / 1e6).toFixed(0)}e6 weights per group = ${(probe / 1000).toFixed(1)} s; ` +
      `${evals} evaluations (G + 2·6 + 10, G = ${groups}) × ${(probe / 1000).toFixed(1)} s = ${(totalS / 3600).toFixed(2)} h` };
  };
  report.projection = { from: big.preset, tokens, evalPerParamToken, quantMsPerGroupParam, models: [project("7B llama (32 layers)", 6.7e9, 32, 32 * 7 + 2), project("70B llama (80 layers)", 70e9, 80, 80 * 7 + 2)] };
  console.log(`\nProjection on this machine (CPU, ${report.cores} cores), from ${big.preset}:`);
  for (const m of report.projection.models) console.log(`  ${m.name}: ${m.arithmetic}`);
}
function res2s(c) { return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, typeof v === "number" && k.endsWith("Ms") ? `${(v / 1000).toFixed(1)} s` : v])); }
fs.writeFileSync(path.join(work, "results.json"), JSON.stringify(report, null, 2));
done();
