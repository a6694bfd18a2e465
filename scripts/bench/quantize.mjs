// `npm run bench:quantize`: wall time of llama-quantize through our runner (runTool with the
// per-tensor progress parser, line callback and throttled progress, exactly as the quantize job
// calls it) against the same command spawned directly with its output discarded. Both run side by
// side in one process, alternating order, on both fixtures; also the whole job (dry run estimate,
// verify, SHA-256) for scale. Writes the "## Quantize" section of BENCHMARKS.md.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const benchDir = path.join(root, ".bench");
// 31 rounds: with 7, single runs of 50-500 ms scattered the medians by ±4% on an idle machine.
const ROUNDS = Number(process.env.QUANTIZE_BENCH_ROUNDS ?? 31);
const THREADS = String(Math.min(2, os.cpus().length));
const TYPES = (process.env.QUANTIZE_BENCH_TYPES ?? "Q8_0,Q4_K_M").split(",");
fs.mkdirSync(benchDir, { recursive: true });

const bundle = path.join(benchDir, "quantize-job.cjs");
await esbuild.build({
  stdin: {
    contents: `export * from "./src/core/quant/quantizeJob"; export * from "./src/core/quant/quantizeArgs"; export * from "./src/core/quant/progress"; export { runTool } from "./src/core/native/toolRunner"; export { locateTools } from "./src/core/native/toolLocator";`,
    resolveDir: root, loader: "ts",
  },
  bundle: true, platform: "node", format: "cjs", target: "node20", outfile: bundle, logLevel: "warning", external: ["node-llama-cpp"],
});
const core = createRequire(import.meta.url)(bundle);

const tools = core.locateTools({ extensionRoot: root, pathEnv: "" }).found;
const quantize = tools["llama-quantize"]?.path;
if (!quantize) throw new Error("llama-quantize not found: run npm run build:native");

const fixtures = ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"].map((f) => path.join(root, "test/fixtures", f));
const work = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-bench-quantize-"));

/** CPU milliseconds this (parent) process spent since `since`: what the runner itself costs, free of the child's noise. */
const parentCpuMs = (since) => { const u = process.cpuUsage(since); return (u.user + u.system) / 1000; };

function direct(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const child = spawn(quantize, args, { stdio: ["ignore", "ignore", "ignore"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve({ ms: Number(process.hrtime.bigint() - t0) / 1e6, cpu: parentCpuMs(c0) }) : reject(new Error(`exit ${code}`))));
  });
}

/** The same spawn with its output piped and read but not processed: the floor for any runner that shows progress. */
function pipeOnly(args) {
  return new Promise((resolve, reject) => {
    const c0 = process.cpuUsage();
    const child = spawn(quantize, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.on("data", () => undefined);
    child.stderr.on("data", () => undefined);
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(parentCpuMs(c0)) : reject(new Error(`exit ${code}`))));
  });
}

async function throughRunner(args, output) {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  let lines = 0;
  let updates = 0;
  await core.runTool({ executable: quantize, args, outputs: [output], parseProgress: core.parseQuantizeProgress, onProgress: () => updates++, onLine: () => lines++ });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, cpu: parentCpuMs(c0), lines, updates };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
for (const src of fixtures) {
  for (const type of TYPES) {
    const out = path.join(work, `out-${type}.gguf`);
    const args = core.buildQuantizeArgs({ input: src, output: out, type, threads: Number(THREADS) });
    await direct(args); // warm the page cache and the binary
    const d = [];
    const r = [];
    const dCpu = [];
    const rCpu = [];
    let lines = 0;
    let updates = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first so drift on a shared machine hits both alike.
      const order = i % 2 === 0 ? ["direct", "runner"] : ["runner", "direct"];
      for (const which of order) {
        fs.rmSync(out, { force: true });
        if (which === "direct") {
          const res = await direct(args);
          d.push(res.ms);
          dCpu.push(res.cpu);
        } else {
          const res = await throughRunner(args, out);
          r.push(res.ms);
          rCpu.push(res.cpu);
          lines = res.lines;
          updates = res.updates;
        }
      }
    }
    const pCpu = [];
    for (let i = 0; i < 15; i++) {
      fs.rmSync(out, { force: true });
      pCpu.push(await pipeOnly(args));
    }
    fs.rmSync(out, { force: true });
    const jobTimes = [];
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      await core.runQuantizeJob({ source: src, output: out, type, threads: Number(THREADS), overwrite: true }, { executables: { quantize } });
      jobTimes.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    fs.rmSync(out, { force: true });
    const md = median(d);
    const mr = median(r);
    // Paired within each round (same machine state), then the median: steadier than the difference of medians.
    const paired = median(r.map((x, i) => x - d[i]));
    const extraCpu = median(rCpu) - median(dCpu);
    const row = {
      fixture: path.basename(src), type, direct: md, runner: mr, overhead: (paired / md) * 100, dmin: Math.min(...d), rmin: Math.min(...r),
      dCpu: median(dCpu), pCpu: median(pCpu), rCpu: median(rCpu), cpuShare: (extraCpu / md) * 100, job: median(jobTimes), lines, updates,
    };
    rows.push(row);
    console.log(`${row.fixture} ${type}: direct median ${md.toFixed(1)} ms, runner ${mr.toFixed(1)} ms (paired ${row.overhead >= 0 ? "+" : ""}${row.overhead.toFixed(2)}%), parent CPU ${row.dCpu.toFixed(2)} / ${row.pCpu.toFixed(2)} / ${row.rCpu.toFixed(2)} ms (${row.cpuShare.toFixed(2)}% of the run), whole job ${row.job.toFixed(0)} ms; ${lines} lines, ${updates} progress updates`);
  }
}
fs.rmSync(work, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const section = `## Quantize

Command: \`npm run bench:quantize\` (\`node esbuild.mjs && node scripts/bench/quantize.mjs\`). Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus().length} cores (${cpu}), Node ${process.version}, ${THREADS} quantize threads, ${ROUNDS} rounds per row, direct and runner alternating within each round.

"Direct" spawns the same llama-quantize command with its output discarded. "Runner" is \`runTool\` as the quantize job calls it: every line read and split, the per-tensor progress parser, throttled progress callbacks (100 ms), the partial-output cleanup list. Target: runner overhead under 2%. "Whole job" adds what the extension does around the tool: the \`--dry-run\` size estimate, the free-space check, reading the output back with the GGUF core, and SHA-256 of the output (median of 3).

| fixture | type | direct median (min) ms | runner median (min) ms | wall overhead (paired) | parent CPU per run: direct / output piped only / runner | runner's own CPU ÷ run time | whole job median ms | lines / progress updates |
|---|---|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.fixture} | ${r.type} | ${r.direct.toFixed(1)} (${r.dmin.toFixed(1)}) | ${r.runner.toFixed(1)} (${r.rmin.toFixed(1)}) | ${r.overhead >= 0 ? "+" : ""}${r.overhead.toFixed(2)}% | ${r.dCpu.toFixed(2)} / ${r.pCpu.toFixed(2)} / ${r.rCpu.toFixed(2)} ms | ${r.cpuShare.toFixed(2)}% | ${r.job.toFixed(0)} | ${r.lines} / ${r.updates} |`).join("\n")}

Reading the numbers. *Wall overhead* is the median over rounds of (runner − direct) in the same round, ÷ the direct median; on runs this short (${Math.round(Math.min(...rows.map((r) => r.direct)))}–${Math.round(Math.max(...rows.map((r) => r.direct)))} ms) on a shared 2-core VM it is dominated by scheduling noise (this run: ${Math.min(...rows.map((r) => r.overhead)).toFixed(2)}% to ${Math.max(...rows.map((r) => r.overhead)).toFixed(2)}%; a negative value means the runner's runs happened to be faster). *Parent CPU* is what this Node process spent per run (process.cpuUsage): for "direct" the spawn and wait, for the runner also reading and splitting every line, parsing progress and throttled callbacks. Their difference is the runner's own cost, measured without the child's noise: ${Math.min(...rows.map((r) => r.rCpu - r.dCpu)).toFixed(1)}–${Math.max(...rows.map((r) => r.rCpu - r.dCpu)).toFixed(1)} ms per run, ≈ ${(Math.max(...rows.map((r) => (r.rCpu - r.dCpu) / Math.max(1, r.lines)))).toFixed(2)} ms per output line; it runs on the other core while the tool works. Most of it is Node reading the pipe at all (llama-quantize writes each line separately, ~one read per line): "output piped only" reads and drops it, and our code (splitting, progress parsing, throttled callbacks, tails) adds ${Math.min(...rows.map((r) => r.rCpu - r.pCpu)).toFixed(1)}–${Math.max(...rows.map((r) => r.rCpu - r.pCpu)).toFixed(1)} ms on top. A runner that shows progress and keeps an error tail has to read the output, so that floor stays. It scales with the number of output lines, i.e. with the tensor count, not with the model's bytes: ${Math.max(...rows.map((r) => r.cpuShare)).toFixed(1)}% of the ${Math.round(Math.min(...rows.map((r) => r.direct)))} ms runs here, under 2% from runs of about half a second, and for a real model (hundreds of tensors, minutes per run) well under 0.1%. So the 2% target holds for real models and for fixture runs of ≥ 0.5 s, and not for the 60 ms Q8_0 fixture runs, where a fixed ~10 ms is visible. Load average when the run ended: ${os.loadavg().map((x) => x.toFixed(1)).join(" / ")}.
`;
const benchFile = path.join(root, "BENCHMARKS.md");
let text = fs.existsSync(benchFile) ? fs.readFileSync(benchFile, "utf8") : "# Benchmarks\n";
const start = text.indexOf("\n## Quantize\n");
if (start >= 0) {
  const next = text.indexOf("\n## ", start + 5);
  text = text.slice(0, start) + "\n" + section + (next >= 0 ? text.slice(next) : "");
} else text = text.replace(/\n*$/, "\n\n") + section;
fs.writeFileSync(benchFile, text);
console.log(`\nwrote the "Quantize" section of ${path.relative(root, benchFile)}`);
