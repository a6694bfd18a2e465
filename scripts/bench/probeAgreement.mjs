// How well an in-memory probe reading (gguf-studio-probe) agrees with the real path (llama-quantize
// writes the probe GGUF, llama-perplexity measures it), and how much the top-k base distribution
// loses against the full one. For many (group, type) pairs on both fixtures, side by side in one run.
//   node scripts/bench/probeAgreement.mjs [--models tiny-llama,tiny-moe] [--chunks 12] [--ctx 256] [--pairs 24] [--k 16,64,256]
// Writes .bench/probe-agreement/results.json and prints Markdown for BENCHMARKS.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadCore, root } from "./coreBundle.mjs";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };

const chunks = Number(arg("chunks", "12"));
const ctx = Number(arg("ctx", "256"));
const pairsPerModel = Number(arg("pairs", "24"));
const ks = arg("k", "16,64,256").split(",").map(Number);
const threads = Math.max(1, os.cpus().length);

const { core, tools, done } = await loadCore("agree", ["./src/core/quant/optimizer", "./src/core/quant/optimizerMeasure", "./src/core/quant/probeEngine", "./src/core/eval/kldJob", { from: "./src/core/eval/logitsCache", names: ["LogitsCache"] }, { from: "./src/core/quant/recipeFile", names: ["loadRecipeModel"] }, { from: "./src/core/gguf/splitSet", names: ["readGgufModel"] }, { from: "./src/core/gguf/ggmlTypes", names: ["ggmlTypeName"] }], { need: ["llama-quantize", "llama-perplexity", "gguf-studio-probe"] });
const text = path.join(root, "test", "fixtures", "code-calib.txt");
const work = path.join(root, ".bench", "probe-agreement");
fs.mkdirSync(work, { recursive: true });

function ranks(xs) {
  const idx = xs.map((x, i) => [x, i]).sort((a, b) => a[0] - b[0]);
  const r = new Array(xs.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1][0] === idx[i][0]) j++;
    for (let k = i; k <= j; k++) r[idx[k][1]] = (i + j) / 2;
    i = j + 1;
  }
  return r;
}
function spearman(a, b) {
  const ra = ranks(a), rb = ranks(b);
  const m = (ra.length - 1) / 2;
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) { num += (ra[i] - m) * (rb[i] - m); da += (ra[i] - m) ** 2; db += (rb[i] - m) ** 2; }
  return num / Math.sqrt(da * db);
}
function quantiles(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * (s.length - 1) + 0.5))];
  return { min: s[0], p25: q(0.25), median: q(0.5), p75: q(0.75), max: s.at(-1) };
}

const report = { date: new Date().toISOString(), chunks, ctx, text: "code-calib.txt", threads, models: [] };
for (const m of arg("models", "tiny-llama,tiny-moe").split(",")) {
  const basePath = path.join(root, "test", "fixtures", `${m}-f16.gguf`);
  const model = await core.loadRecipeModel(basePath);
  const groups = core.groupTensors(model.tensors);
  const types = ["Q2_K", "Q3_K", "Q4_K", "Q6_K"];
  // An even spread over groups (every kind, first/middle/last layers) and types, deterministic.
  const pairs = [];
  for (let i = 0; pairs.length < pairsPerModel && i < groups.length * types.length; i++) {
    const g = groups[(i * 7) % groups.length];
    const t = types[i % types.length];
    if (!pairs.some((p) => p.g === g && p.t === t)) pairs.push({ g, t });
  }
  const sourceType = core.ggmlTypeName(groups[0].tensors[0].ggmlType);
  const base = await core.readGgufModel(basePath);
  const cache = new core.LogitsCache(path.join(work, "logits"), 4 * 1024 ** 3);
  const logits = await core.ensureBaseLogits({ perplexity: tools["llama-perplexity"].path, toolVersion: "", basePath, quants: [], evalPath: text, contextSize: ctx, chunks, threads, cache }, base, []);
  const o = { quantize: tools["llama-quantize"].path, perplexity: tools["llama-perplexity"].path, workDir: work, threads };
  const real = [];
  const tReal = Date.now();
  for (const { g, t } of pairs) {
    const recipe = { version: 1, baseType: t, rules: [{ pattern: ".", type: sourceType }, { pattern: g.pattern, type: t }] };
    const { parsed } = await core.quantizeAndMeasure(o, model, recipe, path.join(work, "probe.gguf"), "probe", logits.file, ctx);
    real.push(parsed.summary.meanKld.value);
  }
  const realMs = (Date.now() - tReal) / pairs.length;
  fs.rmSync(path.join(work, "probe.gguf"), { force: true });
  const engineRuns = [];
  for (const k of ks) {
    const engine = await core.ProbeEngine.start({ executable: tools["gguf-studio-probe"].path, basePath, textPath: text, contextSize: ctx, chunks, topK: k, fullKld: true, threads });
    const readings = [];
    const tEng = Date.now();
    for (const { g, t } of pairs) readings.push(await engine.evaluate(g.tensors.map((x) => ({ name: x.name, type: t })), `${g.id} at ${t}`));
    engineRuns.push({ k, readings, msPerProbe: (Date.now() - tEng) / pairs.length, loadMs: engine.ready.loadMs, baseMs: engine.ready.baseMs });
    await engine.close();
  }
  const full = engineRuns[0].readings.map((r) => r.full.mean);
  const ratios = full.map((f, i) => f / real[i]);
  const entry = {
    model: m, pairs: pairs.map((p, i) => ({ group: p.g.id, type: p.t, real: real[i], engineFull: full[i], ...Object.fromEntries(engineRuns.map((e) => [`top${e.k}`, e.readings[i].topK.mean])) })),
    engineVsReal: { spearman: spearman(full, real), ratio: quantiles(ratios) },
    topK: engineRuns.map((e) => {
      const tk = e.readings.map((r) => r.topK.mean);
      return { k: e.k, spearmanVsFull: spearman(tk, full), ratioToFull: quantiles(tk.map((x, i) => x / full[i])), spearmanVsReal: spearman(tk, real) };
    }),
    cost: { realMsPerProbe: realMs, engineMsPerProbe: engineRuns.map((e) => ({ k: e.k, ms: e.msPerProbe, loadMs: e.loadMs, baseMs: e.baseMs })) },
  };
  report.models.push(entry);
  console.log(`\n### ${m} (${pairs.length} pairs, ${chunks}×${ctx} tokens of code-calib.txt)\n`);
  console.log(`in-memory (full KLD) vs real path: Spearman ${entry.engineVsReal.spearman.toFixed(3)}; ratio median ${entry.engineVsReal.ratio.median.toFixed(3)}, IQR ${entry.engineVsReal.ratio.p25.toFixed(3)}–${entry.engineVsReal.ratio.p75.toFixed(3)}, range ${entry.engineVsReal.ratio.min.toFixed(3)}–${entry.engineVsReal.ratio.max.toFixed(3)}`);
  for (const t of entry.topK) console.log(`top-${t.k} vs full: Spearman ${t.spearmanVsFull.toFixed(4)}; ratio median ${t.ratioToFull.median.toFixed(4)}, min ${t.ratioToFull.min.toFixed(4)}; vs real path Spearman ${t.spearmanVsReal.toFixed(3)}`);
  console.log(`cost per probe: real path ${(realMs / 1000).toFixed(2)} s; engine ${engineRuns.map((e) => `k=${e.k} ${(e.msPerProbe / 1000).toFixed(3)} s`).join(", ")} (engine load ${(engineRuns[0].loadMs / 1000).toFixed(2)} s + base ${(engineRuns[0].baseMs / 1000).toFixed(2)} s once)`);
}
fs.writeFileSync(path.join(work, "results.json"), JSON.stringify(report, null, 2));
done();
