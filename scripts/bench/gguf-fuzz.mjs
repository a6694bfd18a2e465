// Fuzz benchmark: ≥10,000 mutated GGUF headers (the two fixtures and the valid files of the hostile
// corpus) through the reader, the summary and `inspect --json`, in a worker process watched for
// hangs. Prints the counts of clean reads, typed errors, crashes and hangs, and the worker's max RSS.
//
//   node scripts/bench/gguf-fuzz.mjs [--runs 10000] [--seed 1] [--hang-ms 10000]
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const runs = arg("runs", 10_000);
const seed = arg("seed", 1);
const hangMs = arg("hang-ms", 10_000);
const work = path.join(root, ".bench/fuzz");
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
const worker = path.join(root, ".bench/gguf-fuzz-worker.cjs");
await esbuild.build({ entryPoints: [path.join(root, "test/hostile/fuzzWorker.ts")], bundle: true, platform: "node", format: "cjs", target: "node20", outfile: worker, logLevel: "warning", external: ["node-llama-cpp"] });
const fixtures = ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"].map((f) => path.join(root, "test/fixtures", f));

const counts = { runs: 0, parsed: 0, typedErrors: 0, crashes: 0, hangs: 0 };
const byCode = new Map();
const crashes = [];
const hangs = [];
let maxRssKiB = 0;
let maxMs = 0;
const durations = [];
const started = Date.now();

/** Runs the worker from `from`; resolves with the next index to run (past a hang) or `runs` when done. */
function runWorker(from) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [worker, path.join(work, `w${from}`), String(from), String(runs - from), String(seed), ...fixtures], { stdio: ["ignore", "pipe", "inherit"] });
    let last = from - 1;
    let timer;
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => { hangs.push(last + 1); counts.hangs++; counts.runs++; child.kill("SIGKILL"); }, hangMs); };
    arm();
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      arm();
      const [a, result, ms] = line.split(" ");
      if (a === "rss") { maxRssKiB = Math.max(maxRssKiB, Number(result)); return; }
      if (a === "fatal") { crashes.push(`worker: ${line}`); return; }
      last = Number(a);
      counts.runs++;
      durations.push(Number(ms));
      maxMs = Math.max(maxMs, Number(ms));
      if (result === "ok") counts.parsed++;
      else if (result.startsWith("typed:")) { counts.typedErrors++; const c = result.slice(6); byCode.set(c, (byCode.get(c) ?? 0) + 1); }
      else { counts.crashes++; if (crashes.length < 10) crashes.push(`${last}: ${result}`); }
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (last + 1 >= runs) return resolve(runs);
      // Killed for a hang (counted above) or died on its own (a crash: out of memory, an abort).
      if (signal !== "SIGKILL") { counts.crashes++; counts.runs++; crashes.push(`${last + 1}: worker exited (${code ?? signal})`); }
      resolve(last + 2);
    });
  });
}

let next = 0;
while (next < runs) next = await runWorker(next);
durations.sort((a, b) => a - b);
const result = {
  runs: counts.runs, parsed: counts.parsed, typedErrors: counts.typedErrors, crashes: counts.crashes, hangs: counts.hangs,
  maxRssMiB: Math.round(maxRssKiB / 1024), medianMs: durations[Math.floor(durations.length / 2)], maxMs,
  wallS: Math.round((Date.now() - started) / 1000), byCode: Object.fromEntries([...byCode].sort((a, b) => b[1] - a[1])), crashSamples: crashes, hangIndexes: hangs,
  seed, cpu: os.cpus()[0]?.model, load: os.loadavg().map((l) => l.toFixed(1)).join(" "),
};
console.log(JSON.stringify(result, null, 2));
process.exitCode = counts.crashes + counts.hangs > 0 ? 1 : 0;
