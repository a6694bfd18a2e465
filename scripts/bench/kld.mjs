// Stock presets vs the size-budgeted optimizer on a fixture, measured by mean KLD on held-out text.
//   node scripts/bench/kld.mjs [--models tiny-llama,tiny-moe | --model tiny-llama-f16.gguf | --base M.gguf --calib C.txt --eval E.txt]
//     [--budgets Q4_K_M,Q3_K_M,Q2_K] [--chunks 48] [--probe-chunks 12] [--refine-rounds 2] [--sensitivity rank-one|raw] [--optimizer-imatrix]
//     [--design sparse|grid] [--no-engine] [--top-k 64] [--types Q2_K,IQ3_XXS,...] [--tag name] [--plain-proxy]
// --base/--calib/--eval run it on any model (e.g. the validation models of scripts/validation/).
// Writes .bench/kld/<model>/results.json and prints a Markdown table for BENCHMARKS.md.
// Without --model it runs once per fixture in --models (default both), one after the other.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadCore, root } from "./coreBundle.mjs";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
if (!process.argv.includes("--model") && !process.argv.includes("--base")) {
  const rest = process.argv.slice(2);
  const i = rest.indexOf("--models");
  if (i >= 0) rest.splice(i, 2);
  for (const m of arg("models", "tiny-llama,tiny-moe").split(",")) {
    console.log(`\n### ${m}\n`);
    const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, "--model", `${m.replace(/(-f16)?\.gguf$/, "")}-f16.gguf`, ...rest], { stdio: "inherit" });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
  process.exit(0);
}
const modelName = arg("base") ? path.basename(arg("base")).replace(/(-f16)?\.gguf$/, "-f16.gguf") : arg("model", "tiny-llama-f16.gguf");
const budgets = arg("budgets", "Q4_K_M").split(",");
const presets = arg("presets", "Q2_K,Q3_K_S,Q3_K_M,Q3_K_L,Q4_K_S,Q4_K_M,IQ4_XS,Q5_K_M").split(",");
const chunks = Number(arg("chunks", "48"));
const probeChunks = Number(arg("probe-chunks", "12"));
const threads = Number(arg("threads", String(Math.max(1, os.cpus().length))));

const { core, tools, done } = await loadCore("kld", ["./src/core/quant/optimizerRun", "./src/core/eval/kldJob", { from: "./src/core/eval/logitsCache", names: ["LogitsCache"] },
  { from: "./src/core/eval/resultsStore", names: ["KldResultsStore"] }, { from: "./src/core/eval/fileFingerprint", names: ["fileFingerprint"] },
  { from: "./src/core/native/toolRunner", names: ["runTool"] }, { from: "./src/core/native/toolLocator", names: ["probeToolVersion"] }], { need: ["llama-quantize", "llama-perplexity"] });
const quantize = tools["llama-quantize"].path;
const perplexity = tools["llama-perplexity"].path;
const base = arg("base") ? path.resolve(arg("base")) : path.join(root, "test", "fixtures", modelName);
const evalPath = arg("eval") ? path.resolve(arg("eval")) : path.join(root, "test", "fixtures", "code-eval.txt");
const calibPath = arg("calib") ? path.resolve(arg("calib")) : path.join(root, "test", "fixtures", "code-calib.txt");
const engine = process.argv.includes("--no-engine") ? undefined : tools["gguf-studio-probe"]?.path;
const design = arg("design", "sparse");
// --types: the optimizer's candidate ladder (default: its own); --tag names a variant's files and results.
const candidateTypes = arg("types") ? arg("types").split(",") : undefined;
const variant = arg("tag") ? `-${arg("tag")}` : "";
const work = path.join(root, ".bench", "kld", arg("base") ? path.basename(path.dirname(base)) + "-" + modelName.replace(/\.gguf$/, "") : modelName.replace(/\.gguf$/, ""));
fs.mkdirSync(work, { recursive: true });
const cache = new core.LogitsCache(path.join(work, "logits"), 20 * 1024 ** 3);
const store = new core.KldResultsStore(path.join(work, "results"));
const version = (await core.probeToolVersion(perplexity)).version;
const rows = [];

const t0 = Date.now();
for (const p of presets) {
  const out = path.join(work, `${modelName.replace(/-f16\.gguf$/, "")}-${p}.gguf`);
  if (!fs.existsSync(out)) await core.runTool({ executable: quantize, args: [base, out, p, String(threads)] });
}
const presetFiles = presets.map((p) => ({ path: path.join(work, `${modelName.replace(/-f16\.gguf$/, "")}-${p}.gguf`), label: p, origin: "preset" }));
// The same presets with an importance matrix from the calibration text (never the eval text).
if (!process.argv.includes("--no-imatrix")) {
  const imatrix = path.join(work, "calib.imatrix.gguf");
  if (!fs.existsSync(imatrix)) {
    const ti = Date.now();
    await core.runTool({ executable: tools["llama-imatrix"].path, args: ["-m", base, "-f", calibPath, "-o", imatrix, "-c", "256", "--chunks", "64", "-t", String(threads)] });
    console.error(`imatrix in ${((Date.now() - ti) / 1000).toFixed(0)} s`);
  }
  for (const p of presets) {
    const out = path.join(work, `${modelName.replace(/-f16\.gguf$/, "")}-${p}-imatrix.gguf`);
    if (!fs.existsSync(out)) await core.runTool({ executable: quantize, args: ["--imatrix", imatrix, base, out, p, String(threads)] });
    presetFiles.push({ path: out, label: `${p}+imatrix`, origin: "preset" });
  }
}
// Presets already measured the same way (same file content, eval text, context, chunks) are reused.
const previous = (await store.listBases()).flatMap((b) => b.data.results);
const fp = core.fileFingerprint;
const todo = [];
for (const q of presetFiles) {
  const f = await fp(q.path);
  const old = previous.find((r) => r.quantFingerprint === f && r.chunks === chunks && r.contextSize === 256);
  if (old) rows.push({ name: q.label, kind: "preset", bytes: old.quantBytes, meanKld: old.summary.meanKld.value, sameTopP: old.summary.sameTopP?.value, kld99_9: old.summary.kld99_9, evalMs: old.durationMs });
  else todo.push(q);
}
if (todo.length) {
  const sweep = await core.runKldJob({ perplexity, toolVersion: version, basePath: base, quants: todo, evalPath, contextSize: 256, chunks, threads, cache, store });
  for (const r of sweep.results) rows.push({ name: r.label, kind: "preset", bytes: r.quantBytes, meanKld: r.summary.meanKld.value, sameTopP: r.summary.sameTopP?.value, kld99_9: r.summary.kld99_9, evalMs: r.durationMs });
}
const evalTimes = rows.map((r) => r.evalMs).filter((x) => x > 0);
let oneEvalMsNow = 0;
const oneEvalMs = evalTimes.reduce((a, b) => a + b, 0) / Math.max(1, evalTimes.length);
console.error(`presets done in ${((Date.now() - t0) / 1000).toFixed(0)} s`);

// --optimizer-imatrix: the optimizer quantizes with the same calibration imatrix the "+imatrix" presets use
// (calibration text only; the eval text is never seen).
const optimizerImatrix = process.argv.includes("--optimizer-imatrix") ? path.join(work, "calib.imatrix.gguf") : undefined;
const optimizerLabel = optimizerImatrix ? "optimizer+imatrix" : "optimizer";
for (const b of budgets) {
  const budgetBytes = rows.find((r) => r.name === b)?.bytes;
  if (!budgetBytes) throw new Error(`no preset ${b} measured for a budget`);
  const ts = Date.now();
  const res = await core.optimizeRecipe({
    quantize, perplexity, basePath: base, budget: { kind: "bytes", bytes: budgetBytes }, evalPath, workDir: path.join(work, "optimizer"),
    // Sensitivities are measured on the calibration text; only the final numbers use the eval text.
    probeTextPath: calibPath,
    ...(engine ? { engine, design, topK: Number(arg("top-k", "64")) } : {}),
    cache, threads, probeChunks, verifyChunks: chunks, contextSize: 256, refineRounds: Number(arg("refine-rounds", "2")), sensitivityModel: arg("sensitivity", "rank-one"),
    ...(optimizerImatrix ? { imatrix: optimizerImatrix } : {}),
    ...(candidateTypes ? { candidateTypes } : {}),
    ...(process.argv.includes("--plain-proxy") ? {} : { imatrixTool: tools["llama-imatrix"]?.path }),
    onProgress: (p) => { if (p.done % 25 === 0) console.error(`[${b}] ${p.phase} ${p.done}/${p.total} ${p.message}${p.rate ? ` (${p.rate.toFixed(2)}/s)` : ""}`); },
  });
  const recipeFile = path.join(work, `${optimizerImatrix ? "optimized-imatrix" : "optimized"}-${engine ? design : "files"}${variant}-${b}.quant.json`);
  fs.writeFileSync(recipeFile, JSON.stringify(res.recipe, null, 2) + "\n");
  const quantOut = path.join(work, `${optimizerImatrix ? "optimized-imatrix" : "optimized"}-${engine ? design : "files"}${variant}-${b}.gguf`);
  fs.renameSync(res.verified.quantPath, quantOut);
  await core.runKldJob({ perplexity, toolVersion: version, basePath: base, quants: [{ path: quantOut, label: `${optimizerLabel} @ ${b}`, origin: "optimizer", recipePath: recipeFile }], evalPath, contextSize: 256, chunks, threads, cache, store });
  rows.push({
    name: `${optimizerLabel} @ ${b}`, kind: "optimizer", bytes: res.verified.fileBytes, meanKld: res.verified.meanKld, sameTopP: res.verified.sameTopP, kld99_9: res.verified.kld99_9,
    budget: budgetBytes, predictedKld: res.predictedKld, evaluations: res.evaluations, newEvaluations: res.newEvaluations,
    probeWallS: res.probeWallMs / 1000, refineEvaluations: res.refinement.evaluations, refineWallS: res.refinement.wallMs / 1000, refineRounds: res.refinement.rounds, predictionHeld: res.refinement.predictionHeld, probeKld: res.refinement.measuredKld, verifyWallS: res.verifyWallMs / 1000, wallS: (Date.now() - ts) / 1000, compared: res.compared,
    design: res.design, costs: res.costs, kindFactors: res.refinement.kindFactors, fit: res.fit, recipe: res.recipe,
  });
}
// One full KLD evaluation timed now, under the same load as the probes above (stored durations may come from other runs).
{
  const logits = (await cache.list()).find((e) => e.chunks === chunks && e.contextSize === 256);
  const q = presetFiles.find((p) => p.label === "Q4_K_M") ?? presetFiles[0];
  const t = Date.now();
  await core.runKldForQuant({ perplexity, contextSize: 256, threads }, q.path, logits.file);
  oneEvalMsNow = Date.now() - t;
}
const report = { model: modelName, base, evalText: path.basename(evalPath), probeText: path.basename(calibPath), design: engine ? design : "files", contextSize: 256, chunks, probeChunks, threads, tool: version, oneFullEvalS: oneEvalMsNow / 1000, storedEvalMeanS: oneEvalMs / 1000, rows };
const designTag = engine ? `-${design}` : "-files";
fs.writeFileSync(path.join(work, `${optimizerImatrix ? "results-optimizer-imatrix" : "results"}${designTag}${variant}.json`), JSON.stringify(report, null, 2));
done();
console.log(`| quant | kind | bytes | mean KLD | 99.9% KLD | same top p |\n|---|---|---:|---:|---:|---:|`);
for (const r of rows.sort((a, b) => a.bytes - b.bytes)) {
  console.log(`| ${r.name} | ${r.kind} | ${r.bytes} | ${r.meanKld.toFixed(6)} | ${r.kld99_9?.toFixed(4) ?? ""} | ${r.sameTopP?.toFixed(2) ?? ""}% |`);
}
for (const r of rows.filter((x) => x.kind === "optimizer")) {
  const best = rows.filter((x) => x.kind === "preset" && x.bytes <= r.budget).sort((a, b) => a.meanKld - b.meanKld)[0];
  console.log(`\n${r.name}: ${r.bytes} ≤ ${r.budget} bytes; mean KLD ${r.meanKld.toFixed(6)} vs best preset ≤ budget ${best?.name} ${best?.meanKld.toFixed(6)} (${best ? ((1 - r.meanKld / best.meanKld) * 100).toFixed(1) : "?"}% lower); predicted ${r.predictedKld.toFixed(6)}, measured on the probe text ${r.probeKld?.toFixed(6)}; ${r.evaluations} probe evaluations (${r.newEvaluations} new) in ${r.probeWallS.toFixed(0)} s; refinement ${r.refineEvaluations} evaluations in ${r.refineWallS.toFixed(0)} s (${r.predictionHeld ? "prediction held; " : ""}${r.refineRounds.map((x) => `${x.fromKld.toFixed(5)}→${x.toKld?.toFixed(5) ?? "-"} ${x.accepted ? "kept" : "dropped"}, ${x.changedGroups} changed`).join("; ") || "none"}); verify ${r.verifyWallS.toFixed(0)} s; one full KLD evaluation (${chunks} chunks, timed now) ${report.oneFullEvalS.toFixed(2)} s; probe cost ≈ ${(r.probeWallS / Math.max(1, r.newEvaluations)).toFixed(2)} s each; design ${r.design}${r.kindFactors ? `; kind factors ${JSON.stringify(r.kindFactors)}` : ""}${r.fit ? `; proxy check median |log err| ${r.fit.check.medianAbsLogError.toFixed(2)}` : ""}`);
}
