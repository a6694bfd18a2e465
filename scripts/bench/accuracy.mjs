// `npm run bench:accuracy`: multiple-choice speed of the in-process evaluator (gguf-studio eval mc)
// against llama-perplexity --multiple-choice on the same prompts, side by side in one run; then
// accuracy, flips, efficiency, divergence@32 and mean KLD of stock Q2_K / Q3_K_M / Q4_K_M on both
// fixtures plus the optimizer's recipe at the Q3_K_M budget (gguf-studio recipe optimize), with how
// well flips and KLD rank the quants alike (Spearman). Prints Markdown for
// BENCHMARKS.md and writes .bench/accuracy/results.json.
//   node scripts/bench/accuracy.mjs [--models tiny-llama,tiny-moe] [--threads 1] [--rounds 3] [--no-optimizer]
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import * as esbuild from "esbuild";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const models = arg("models", "tiny-llama,tiny-moe").split(",");
const threads = arg("threads", "1");
const rounds = Number(arg("rounds", "3"));
const presets = ["Q2_K", "Q3_K_M", "Q4_K_M"];
const SET = path.join(root, "test/fixtures/code-mc/next-line.jsonl");
const DEV = path.join(root, "test/fixtures/code-mc/next-line.dev.jsonl");
const PROMPTS = path.join(root, "test/fixtures/code-mc/prompts.jsonl");
const EVAL = path.join(root, "test/fixtures/code-eval.txt");
const CALIB = path.join(root, "test/fixtures/code-calib.txt");
const withOptimizer = !process.argv.includes("--no-optimizer");
const cli = path.join(root, "dist/cli.js");
const work = path.join(root, ".bench", "accuracy");
fs.mkdirSync(work, { recursive: true });

const bundle = path.join(os.tmpdir(), `gguf-studio-bench-accuracy-${process.pid}.cjs`);
await esbuild.build({
  stdin: { contents: `export { loadQuestionSet } from "./src/core/eval/questionSet"; export { buildMcPrompts } from "./src/core/eval/mcPrompt"; export { LETTERS } from "./src/core/eval/questionSet"; export { locateTools } from "./src/core/native/toolLocator";`, resolveDir: root, loader: "ts" },
  bundle: true, platform: "node", format: "cjs", outfile: bundle, logLevel: "warning",
});
const core = createRequire(import.meta.url)(bundle);
fs.rmSync(bundle, { force: true });
const tools = core.locateTools({ extensionRoot: root }).found;

function run(exe, args, what) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(exe, args, { encoding: "utf8", maxBuffer: 256 * 2 ** 20 });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${(r.stderr || "").slice(-2000)}`);
  return { ms, stdout: r.stdout, stderr: r.stderr };
}

/** llama-perplexity's binary task file: u32 n, u32 pos[n], then per task: question, mc1 {n, strings, i32 labels}, mc2 {0}. */
function writeTasks(items, file) {
  const str = (s) => { const b = Buffer.from(s, "utf8"); const n = Buffer.alloc(4); n.writeUInt32LE(b.length); return Buffer.concat([n, b]); };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b; };
  const bodies = items.map((it) => {
    const k = it.question.choices.length;
    const labels = Buffer.alloc(4 * k);
    for (let i = 0; i < k; i++) labels.writeInt32LE(i === it.question.answer ? 1 : 0, 4 * i);
    // perplexity.cpp tokenizes question + " " + answer: the answer is the letter, scored as " A".
    return Buffer.concat([str(it.prefix + it.suffix), u32(k), ...core.LETTERS.slice(0, k).split("").map(str), labels, u32(0)]);
  });
  let pos = 4 + 4 * items.length;
  const positions = bodies.map((b) => { const p = pos; pos += b.length; return u32(p); });
  fs.writeFileSync(file, Buffer.concat([u32(items.length), ...positions, ...bodies]));
}

function spearman(a, b) {
  const rank = (v) => { const s = [...v].map((x, i) => [x, i]).sort((p, q) => p[0] - q[0]); const r = new Array(v.length); s.forEach(([, i], k) => { r[i] = k + 1; }); return r; };
  const ra = rank(a);
  const rb = rank(b);
  const n = a.length;
  const d2 = ra.reduce((s, r, i) => s + (r - rb[i]) ** 2, 0);
  return 1 - (6 * d2) / (n * (n * n - 1));
}

const median = (v) => { const s = [...v].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const set = await core.loadQuestionSet(SET, DEV);
const items = core.buildMcPrompts(set, { shots: 5 });
const tasksFile = path.join(work, "next-line.mc.bin");
writeTasks(items, tasksFile);
const out = { machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model }, threads, rounds, models: {} };
const md = [];

for (const m of models) {
  const base = path.join(root, "test/fixtures", `${m}-f16.gguf`);
  const quants = presets.map((p) => path.join(work, `${m}-${p}.gguf`));
  presets.forEach((p, i) => { if (!fs.existsSync(quants[i])) run(tools["llama-quantize"].path, [base, quants[i], p, threads], `quantize ${p}`); });
  const labels = [...presets];
  if (withOptimizer) {
    // The optimizer's recipe at the Q3_K_M budget (the Q3_K_M file's size); it writes RECIPE.gguf beside the recipe.
    const recipe = path.join(work, `${m}-optimizer-Q3_K_M.quant.json`);
    const quant = recipe.replace(/\.quant\.json$/, ".gguf");
    if (!fs.existsSync(quant)) {
      const budget = String(fs.statSync(quants[presets.indexOf("Q3_K_M")]).size);
      run(process.execPath, [cli, "recipe", "optimize", base, "--budget", budget, "--calib", CALIB, "--eval", EVAL, "--out", recipe, "--work", path.join(work, "optimizer"), "--threads", threads, "--gpu", "cpu", "--overwrite"], "recipe optimize");
    }
    quants.push(quant);
    labels.push("optimizer @ Q3_K_M budget");
  }

  // Speed: the same 60 prompts (5-shot, dev shots), base model, whole process, interleaved rounds.
  const ours = [];
  const theirs = [];
  let ourAcc;
  let theirAcc;
  let ourInRun;
  for (let r = 0; r < rounds; r++) {
    const a = run(process.execPath, [cli, "eval", "mc", base, "--set", SET, "--dev", DEV, "--threads", threads, "--gpu", "cpu", "--json"], "eval mc");
    ours.push(a.ms);
    const j = JSON.parse(a.stdout);
    ourAcc = j.base.accuracy.accuracy;
    ourInRun = j.base.questionsPerSecond;
    const b = run(tools["llama-perplexity"].path, ["-m", base, "-bf", tasksFile, "--multiple-choice", "-c", "2048", "-t", threads, "-ngl", "0"], "llama-perplexity --multiple-choice");
    theirs.push(b.ms);
    const hit = /Final result: ([\d.]+)/.exec(b.stdout + b.stderr);
    if (hit) theirAcc = Number(hit[1]);
  }
  const q = items.length;
  const speed = { questions: q, oursMs: median(ours), theirsMs: median(theirs), oursQps: (1000 * q) / median(ours), theirsQps: (1000 * q) / median(theirs), oursInRunQps: ourInRun, ourAccuracy: ourAcc, theirAccuracy: theirAcc };

  // Quality: accuracy / flips / efficiency, divergence@32, mean KLD.
  const mc = JSON.parse(run(process.execPath, [cli, "eval", "mc", base, ...quants, "--set", SET, "--dev", DEV, "--threads", threads, "--gpu", "cpu", "--json"], "eval mc quants").stdout);
  const div = JSON.parse(run(process.execPath, [cli, "eval", "divergence", base, ...quants, "--prompts", PROMPTS, "--tokens", "32", "--threads", threads, "--gpu", "cpu", "--json"], "eval divergence").stdout);
  const kld = JSON.parse(run(process.execPath, [cli, "kld", base, ...quants, "--text", EVAL, "--ctx", "256", "--chunks", "32", "--threads", threads, "--json"], "kld").stdout);
  const rows = labels.map((p, i) => {
    const a = mc.quants[i];
    const d = div.quants[i];
    const k = kld.results[i];
    return { preset: p, bytes: a.quantBytes, accuracy: a.accuracy.accuracy, stderr: a.accuracy.stderr, flips: a.flips.flips, flipsPercent: a.flips.flipsPercent, w2r: a.flips.wrongToRight, r2w: a.flips.rightToWrong, efficiency: a.efficiency, divergence: d.stats.exactMatchPercent, meanPrefix: d.stats.meanMatchingPrefix, meanKld: k.summary.meanKld.value };
  });
  const rho = spearman(rows.map((r) => r.flipsPercent), rows.map((r) => r.meanKld));
  out.models[m] = { speed, base: { accuracy: mc.base.accuracy, efficiency: mc.base.efficiency, bytes: mc.base.quantBytes }, rows, spearmanFlipsKld: rho };

  md.push(`### ${m}\n`);
  md.push(`Speed (${q} questions, 5-shot from the dev split, base model, ${threads} thread(s), whole process incl. model load, median of ${rounds} interleaved rounds):\n`);
  md.push("| evaluator | median wall | questions/s | accuracy |\n|---|---|---|---|");
  md.push(`| gguf-studio eval mc (node-llama-cpp, prefix reuse, both spellings) | ${speed.oursMs.toFixed(0)} ms | ${speed.oursQps.toFixed(2)} (in-run ${speed.oursInRunQps.toFixed(2)}) | ${speed.ourAccuracy.toFixed(2)}% |`);
  md.push(`| llama-perplexity --multiple-choice (" A" only, no prefix sharing across questions) | ${speed.theirsMs.toFixed(0)} ms | ${speed.theirsQps.toFixed(2)} | ${speed.theirAccuracy !== undefined ? `${speed.theirAccuracy.toFixed(2)}%` : "n/a (statistics line lost)"} |`);
  md.push(`\nRatio (ours ÷ llama-perplexity, questions/s, whole process): **${(speed.oursQps / speed.theirsQps).toFixed(2)}×**.\n`);
  md.push(`Base: accuracy ${mc.base.accuracy.accuracy.toFixed(2)}% ± ${mc.base.accuracy.stderr.toFixed(2)}, efficiency ${mc.base.efficiency.toFixed(1)} (${(mc.base.quantBytes / 1e6).toFixed(1)} MB).\n`);
  md.push("| quant | size | accuracy ± se | flips (w→r / r→w) | efficiency | divergence@32 exact / mean prefix | mean KLD |\n|---|---|---|---|---|---|---|");
  for (const r of rows) md.push(`| ${r.preset} | ${(r.bytes / 1e6).toFixed(2)} MB | ${r.accuracy.toFixed(2)}% ± ${r.stderr.toFixed(2)} | ${r.flips} = ${r.flipsPercent.toFixed(1)}% (${r.w2r} / ${r.r2w}) | ${r.efficiency.toFixed(1)} | ${r.divergence.toFixed(1)}% / ${r.meanPrefix.toFixed(1)} | ${r.meanKld.toFixed(5)} |`);
  md.push(`\nSpearman rank correlation of flips % and mean KLD over the ${rows.length} quants: ${rho.toFixed(2)}.\n`);
}
md.push(`Load average at the end: ${os.loadavg().map((x) => x.toFixed(1)).join(" / ")} on ${os.cpus().length} CPUs (shared machine).`);
fs.writeFileSync(path.join(work, "results.json"), JSON.stringify(out, null, 2));
console.log(md.join("\n"));
