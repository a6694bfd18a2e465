// `npm run bench:gguf`: our GGUF reader vs @huggingface/gguf, node-llama-cpp's readGgufFileInfo and
// gguf-py's GGUFReader. Whole-process time (min/median of separate processes, module load
// included), in-process parse time and peak RSS, per input; writes the table into BENCHMARKS.md.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { writeSyntheticGguf } from "./syntheticGguf.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const runners = path.join(root, "scripts/bench/gguf-runners");
const benchDir = path.join(root, ".bench");
const RUNS = Number(process.env.GGUF_BENCH_RUNS ?? 5);
const skip = new Set((process.env.GGUF_BENCH_SKIP ?? "").split(",").filter(Boolean));
fs.mkdirSync(benchDir, { recursive: true });

const llamaSrc = fs.readdirSync(path.join(root, ".native")).filter((d) => d.startsWith("llama.cpp-")).map((d) => path.join(root, ".native", d))[0];
const bundle = path.join(benchDir, "gguf-core.cjs");
await esbuild.build({ entryPoints: [path.join(root, "src/core/gguf/index.ts")], bundle: true, platform: "node", format: "cjs", target: "node20", outfile: bundle, logLevel: "warning" });

const synthetic = path.join(benchDir, "synthetic-60k-tensors-250k-strings.gguf");
if (!fs.existsSync(synthetic)) writeSyntheticGguf(synthetic);
const inputs = [
  ...(llamaSrc ? [["gemma-4 vocab (15.8 MB, 262k tokens)", path.join(llamaSrc, "models/ggml-vocab-gemma-4.gguf")]] : []),
  ["synthetic: 60,000 tensors + 250,000 strings", synthetic],
  ["tiny-llama-f16.gguf fixture", path.join(root, "test/fixtures/tiny-llama-f16.gguf")],
  ["tiny-moe-f16.gguf fixture", path.join(root, "test/fixtures/tiny-moe-f16.gguf")],
];

let python = "python3";
let ggufPyProblem;
if (!llamaSrc) ggufPyProblem = "bundled llama.cpp source not found";
else {
  const probe = spawnSync(python, ["-c", "import numpy, gguf"], { env: { ...process.env, PYTHONPATH: path.join(llamaSrc, "gguf-py") }, encoding: "utf8" });
  if (probe.status !== 0) ggufPyProblem = `gguf-py cannot run: ${(probe.stderr || probe.error?.message || "").trim().split("\n").pop()}`;
}

const readers = [
  { id: "ours", name: "GGUF Studio reader (lazy vocab)", cmd: (f) => [process.execPath, [path.join(runners, "ours.mjs"), f]] },
  { id: "ours-full", name: "GGUF Studio reader (all arrays decoded)", cmd: (f) => [process.execPath, [path.join(runners, "ours.mjs"), f, "full"]] },
  { id: "cli", name: "`gguf-studio inspect --json` (dist/cli.js)", cmd: (f) => [process.execPath, [path.join(root, "dist/cli.js"), "inspect", f, "--json"]], noJson: true },
  { id: "hf", name: "@huggingface/gguf 0.4.6", cmd: (f) => [process.execPath, [path.join(runners, "hf.mjs"), f]] },
  { id: "nlc", name: "node-llama-cpp 3.22.1 readGgufFileInfo", cmd: (f) => [process.execPath, [path.join(runners, "nlc.mjs"), f]] },
  ...(ggufPyProblem ? [] : [{ id: "py", name: "gguf-py GGUFReader (bundled source)", cmd: (f) => [python, [path.join(runners, "ggufpy.py"), f]], env: { PYTHONPATH: path.join(llamaSrc, "gguf-py") } }]),
].filter((r) => !skip.has(r.id));

function runOnce(reader, file) {
  const [cmd, args] = reader.cmd(file);
  const t0 = process.hrtime.bigint();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", cmd, ...args], { cwd: root, env: { ...process.env, ...reader.env, GGUF_CORE_BUNDLE: bundle }, encoding: "utf8", maxBuffer: 1 << 30 });
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) return { error: (r.stderr || String(r.error)).trim().split("\n").slice(-3).join(" ") };
  const rssKB = Number(r.stderr.trim().split("\n").pop());
  const parsed = reader.noJson ? {} : JSON.parse(r.stdout.trim().split("\n").pop());
  return { wallMs, parseMs: parsed.parseMs, rssKB, tensors: parsed.tensors };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor((s.length - 1) / 2)]; };
const results = [];
for (const [label, file] of inputs) {
  // Runs are interleaved across readers so that load from other processes on this shared machine
  // hits every reader alike.
  const runs = new Map(readers.map((r) => [r.id, []]));
  const errors = new Map();
  for (let i = 0; i < RUNS; i++) {
    for (const reader of readers) {
      if (errors.has(reader.id)) continue;
      const r = runOnce(reader, file);
      if (r.error) errors.set(reader.id, r.error);
      else runs.get(reader.id).push(r);
    }
  }
  for (const reader of readers) {
    const rs = runs.get(reader.id);
    const error = errors.get(reader.id);
    const row = error ? { input: label, reader: reader.name, id: reader.id, error } : {
      input: label, reader: reader.name, id: reader.id,
      wallMin: Math.min(...rs.map((r) => r.wallMs)), wallMedian: median(rs.map((r) => r.wallMs)),
      parseMedian: rs[0].parseMs === undefined ? undefined : median(rs.map((r) => r.parseMs)),
      rssMB: Math.max(...rs.map((r) => r.rssKB)) / 1024,
    };
    results.push(row);
    console.log(`${label.padEnd(46)} ${reader.name.padEnd(44)} ${error ? `ERROR ${error}` : `wall min ${row.wallMin.toFixed(0)} ms, median ${row.wallMedian.toFixed(0)} ms, parse ${row.parseMedian?.toFixed(1) ?? "-"} ms, peak RSS ${row.rssMB.toFixed(0)} MB`}`);
  }
}

function tableFor(label) {
  const rows = results.filter((r) => r.input === label);
  const ours = rows.find((r) => r.id === "ours");
  const fmt = (x, d = 0) => (x === undefined ? "–" : x.toFixed(d));
  const lines = ["| reader | whole process min / median (ms) | in-process parse median (ms) | peak RSS (MB) | median time ÷ ours |", "|---|---|---|---|---|"];
  for (const r of rows) {
    if (r.error) { lines.push(`| ${r.reader} | failed: ${r.error.replace(/\|/g, "/")} | | | |`); continue; }
    lines.push(`| ${r.reader} | ${fmt(r.wallMin)} / ${fmt(r.wallMedian)} | ${fmt(r.parseMedian, 1)} | ${fmt(r.rssMB)} | ${ours && !ours.error ? (r.wallMedian / ours.wallMedian).toFixed(1) + "×" : "–"} |`);
  }
  return lines.join("\n");
}

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const section = [
  "## GGUF core",
  "",
  `Command: \`npm run bench:gguf\` (\`node esbuild.mjs && node scripts/bench/gguf.mjs\`). Date: ${new Date().toISOString().slice(0, 10)}. ` +
    `Machine: ${os.cpus().length} cores (${cpu}), ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Node ${process.version}, ${os.platform()} ${os.release()}.`,
  "",
  `Each cell: ${RUNS} separate processes per reader and input, interleaved across readers; load average at the start ${os.loadavg()[0].toFixed(1)} (other jobs shared the machine, so absolute times are noisy; compare within a table); whole-process time includes starting the runtime and loading the library; ` +
    "peak RSS from `/usr/bin/time -f %M`. \"Lazy vocab\" is the default: arrays over 4096 entries stay on disk as paged descriptors; " +
    "\"all arrays decoded\" reads every value like the other libraries do. The last column divides each reader's median by ours (lazy).",
  ggufPyProblem ? `\ngguf-py was not measured: ${ggufPyProblem}.` : "",
  "",
  ...inputs.flatMap(([label]) => [`### ${label}`, "", tableFor(label), ""]),
].join("\n");

const benchFile = path.join(root, "BENCHMARKS.md");
let text = fs.existsSync(benchFile) ? fs.readFileSync(benchFile, "utf8") : "# Benchmarks\n";
const start = text.indexOf("\n## GGUF core");
if (start >= 0) {
  const next = text.indexOf("\n## ", start + 5);
  text = text.slice(0, start) + "\n" + section + (next >= 0 ? text.slice(next) : "\n");
} else text = text.replace(/\n*$/, "\n\n") + section + "\n";
fs.writeFileSync(benchFile, text);
fs.writeFileSync(path.join(benchDir, "gguf-results.json"), JSON.stringify(results, null, 2));
console.log(`\nwrote the "GGUF core" section of ${path.relative(root, benchFile)}`);
