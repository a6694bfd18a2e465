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
const ROUNDS = Number(process.env.QUANTIZE_BENCH_ROUNDS ?? 7);
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

function direct(args) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(quantize, args, { stdio: ["ignore", "ignore", "ignore"] });
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve(Number(process.hrtime.bigint() - t0) / 1e6) : reject(new Error(`exit ${code}`))));
  });
}

async function throughRunner(args, output) {
  const t0 = process.hrtime.bigint();
  let lines = 0;
  let updates = 0;
  await core.runTool({ executable: quantize, args, outputs: [output], parseProgress: core.parseQuantizeProgress, onProgress: () => updates++, onLine: () => lines++ });
  return { ms: Number(process.hrtime.bigint() - t0) / 1e6, lines, updates };
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
    let lines = 0;
    let updates = 0;
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate which goes first so drift on a shared machine hits both alike.
      const order = i % 2 === 0 ? ["direct", "runner"] : ["runner", "direct"];
      for (const which of order) {
        fs.rmSync(out, { force: true });
        if (which === "direct") d.push(await direct(args));
        else {
          const res = await throughRunner(args, out);
          r.push(res.ms);
          lines = res.lines;
          updates = res.updates;
        }
      }
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
    const row = { fixture: path.basename(src), type, direct: md, runner: mr, overhead: ((mr - md) / md) * 100, dmin: Math.min(...d), rmin: Math.min(...r), job: median(jobTimes), lines, updates };
    rows.push(row);
    console.log(`${row.fixture} ${type}: direct median ${md.toFixed(1)} ms, runner ${mr.toFixed(1)} ms (${row.overhead >= 0 ? "+" : ""}${row.overhead.toFixed(2)}%), whole job ${row.job.toFixed(0)} ms; ${lines} lines, ${updates} progress updates`);
  }
}
fs.rmSync(work, { recursive: true, force: true });

const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
const section = `## Quantize

Command: \`npm run bench:quantize\` (\`node esbuild.mjs && node scripts/bench/quantize.mjs\`). Date: ${new Date().toISOString().slice(0, 10)}. Machine: ${os.cpus().length} cores (${cpu}), Node ${process.version}, ${THREADS} quantize threads, ${ROUNDS} rounds per row, direct and runner alternating within each round.

"Direct" spawns the same llama-quantize command with its output discarded. "Runner" is \`runTool\` as the quantize job calls it: every line read and split, the per-tensor progress parser, throttled progress callbacks (100 ms), the partial-output cleanup list. Target: runner overhead under 2%. "Whole job" adds what the extension does around the tool: the \`--dry-run\` size estimate, the free-space check, reading the output back with the GGUF core, and SHA-256 of the output (median of 3).

| fixture | type | direct median (min) ms | runner median (min) ms | runner overhead | whole job median ms | lines / progress updates |
|---|---|---|---|---|---|---|
${rows.map((r) => `| ${r.fixture} | ${r.type} | ${r.direct.toFixed(1)} (${r.dmin.toFixed(1)}) | ${r.runner.toFixed(1)} (${r.rmin.toFixed(1)}) | ${r.overhead >= 0 ? "+" : ""}${r.overhead.toFixed(2)}% | ${r.job.toFixed(0)} | ${r.lines} / ${r.updates} |`).join("\n")}

Reading the numbers: a negative overhead means the runner's runs happened to be faster. The fixtures quantize in 0.1 to 2 s on a 2-core machine shared with other jobs, so run-to-run spread (compare median with min) is larger than anything the runner adds: it handles under a hundred lines and a handful of progress callbacks per run. The measurement therefore shows no detectable overhead, not a speed-up; the runner's fixed cost (a few ms of line handling) does not grow with model size, so on real models (minutes per run) it is far below the 2% target.
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
