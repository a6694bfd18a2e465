// The headroom oracle: an expensive greedy search with REAL in-context evaluations (every candidate
// move is measured inside the current whole recipe, in memory, by the probe engine), to see how far
// the cheap optimizer is from what direct search reaches. Lazy greedy (CELF): start with every group
// at the smallest candidate type; repeatedly take the upgrade with the best measured KLD drop per
// byte that still fits; stale gains are re-measured before they are accepted. The oracle's recipe is
// then verified like the optimizer's (llama-quantize + llama-perplexity on the eval text).
//   node scripts/bench/optimizerOracle.mjs [--models tiny-llama,tiny-moe] [--budgets Q3_K_M] [--probe-chunks 12] [--chunks 48] [--max-evals 1500]
// Budgets are the stock presets' file sizes. Writes .bench/oracle/<model>.json and prints Markdown.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { loadCore, root } from "./coreBundle.mjs";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };

const probeChunks = Number(arg("probe-chunks", "12"));
const chunks = Number(arg("chunks", "48"));
const maxEvals = Number(arg("max-evals", "1500"));
const threads = Math.max(1, os.cpus().length);
const LADDER = ["Q2_K", "Q3_K", "IQ4_XS", "Q4_K", "Q5_K", "Q6_K", "Q8_0"];

const { core, tools, done } = await loadCore("oracle", ["./src/core/quant/optimizer", "./src/core/quant/optimizerRun", "./src/core/quant/optimizerMeasure", "./src/core/quant/optimizerEngineRun", "./src/core/quant/probeEngine", "./src/core/eval/kldJob", { from: "./src/core/eval/logitsCache", names: ["LogitsCache"] }, { from: "./src/core/quant/recipeFile", names: ["loadRecipeModel", "estimateOutputFileBytes", "resolveForModel"] }, { from: "./src/core/gguf/splitSet", names: ["readGgufModel"] }, { from: "./src/core/native/toolRunner", names: ["runTool"] }], { need: ["llama-quantize", "llama-perplexity", "gguf-studio-probe"] });
const calib = path.join(root, "test", "fixtures", "code-calib.txt");
const evalText = path.join(root, "test", "fixtures", "code-eval.txt");
const out = path.join(root, ".bench", "oracle");
fs.mkdirSync(out, { recursive: true });

for (const m of arg("models", "tiny-llama,tiny-moe").split(",")) {
  const basePath = path.join(root, "test", "fixtures", `${m}-f16.gguf`);
  const model = await core.loadRecipeModel(basePath);
  const base = await core.readGgufModel(basePath);
  const cache = new core.LogitsCache(path.join(out, "logits"), 4 * 1024 ** 3);
  const verifyLogits = await core.ensureBaseLogits({ perplexity: tools["llama-perplexity"].path, toolVersion: "", basePath, quants: [], evalPath: evalText, contextSize: 256, chunks, threads, cache }, base, []);
  const engine = await core.ProbeEngine.start({ executable: tools["gguf-studio-probe"].path, basePath, textPath: calib, contextSize: 256, chunks: probeChunks, threads });
  const results = [];
  for (const b of arg("budgets", "Q3_K_M").split(",")) {
    // The budget: the stock preset's file size, as bench:recipes uses it.
    const presetFile = path.join(out, `${m}-${b}.gguf`);
    if (!fs.existsSync(presetFile)) await core.runTool({ executable: tools["llama-quantize"].path, args: [basePath, presetFile, b, String(threads)] });
    const budgetBytes = fs.statSync(presetFile).size;
    const plan = core.planOptimization(model, { kind: "bytes", bytes: budgetBytes }, { candidateTypes: LADDER, design: "sparse" });
    const groups = plan.groups;
    const cap = budgetBytes - plan.fixedBytes;
    const cur = new Map(groups.map((g) => [g.id, LADDER[0]]));
    const bytesOf = (types) => groups.reduce((s, g) => s + core.groupBytes(g, types.get(g.id)), 0);
    let evals = 0;
    const measure = async (types) => {
      evals++;
      return (await engine.evaluate(core.assignmentsFor(groups, (g) => types.get(g.id)), "oracle")).kld;
    };
    let kld = await measure(cur);
    let version = 0;
    const next = (g) => LADDER[LADDER.indexOf(cur.get(g.id)) + 1];
    const gainOf = async (g) => {
      const t = next(g);
      if (!t) return undefined;
      const trial = new Map(cur);
      trial.set(g.id, t);
      const db = core.groupBytes(g, t) - core.groupBytes(g, cur.get(g.id));
      if (bytesOf(cur) + db > cap) return undefined;
      const k = await measure(trial);
      return { g, t, k, perByte: (kld - k) / Math.max(1, db), version };
    };
    let heap = (await Promise.all(groups.map((g) => gainOf(g)))).filter(Boolean);
    const t0 = Date.now();
    while (heap.length > 0 && evals < maxEvals) {
      heap.sort((a, b2) => b2.perByte - a.perByte);
      const top = heap.shift();
      if (top.version !== version) {
        const fresh = await gainOf(top.g);
        if (fresh) heap.push(fresh);
        continue;
      }
      if (top.perByte <= 0) break;
      cur.set(top.g.id, top.t);
      kld = top.k;
      version++;
      const again = await gainOf(top.g);
      if (again) heap.push(again);
      heap = heap.filter((h) => bytesOf(cur) + core.groupBytes(h.g, h.t) - core.groupBytes(h.g, cur.get(h.g.id)) <= cap);
    }
    const choice = { types: cur, bytes: bytesOf(cur), predictedKld: kld };
    const recipe = core.recipeFromChoice(groups, choice, `oracle @ ${b}`, { tool: "oracle" });
    const quant = path.join(out, `${m}-oracle-${b}.gguf`);
    const { fileBytes, parsed } = await core.quantizeAndMeasure({ quantize: tools["llama-quantize"].path, perplexity: tools["llama-perplexity"].path, workDir: out, threads }, model, recipe, quant, "oracle", verifyLogits.file, 256);
    const r = { model: m, budget: b, budgetBytes, fileBytes, evaluations: evals, searchS: (Date.now() - t0) / 1000, probeTextKld: kld, meanKld: parsed.summary.meanKld.value, recipe };
    results.push(r);
    console.log(`${m} @ ${b}: oracle ${fileBytes} ≤ ${budgetBytes} bytes, eval-text mean KLD ${r.meanKld.toFixed(6)} (probe text ${kld.toFixed(6)}), ${evals} in-context evaluations, ${r.searchS.toFixed(0)} s`);
  }
  await engine.close();
  fs.writeFileSync(path.join(out, `${m}.json`), JSON.stringify({ date: new Date().toISOString(), probeChunks, chunks, results }, null, 2));
}
done();
