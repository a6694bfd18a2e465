// Kill-test harness: each writing command of the CLI is sent SIGKILL, SIGTERM or SIGINT at a random
// moment of its run, N trials each. After every trial the source must be byte-identical, the output
// path either absent or the complete, readable output (never partial); after the NEXT run in that
// folder no temp file (and no temp folder of a dead process) may remain.
//
//   node esbuild.mjs && node scripts/kill-test.mjs [--trials 10] [--only set-metadata,...] [--json]
import { spawn, spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const cli = path.join(root, "dist/cli.js");
const argOf = (name) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined; };
const trials = Number(argOf("trials") ?? 10);
const only = argOf("only")?.split(",");
const SIGNALS = ["SIGKILL", "SIGTERM", "SIGINT"];
const MOE = path.join(root, "test/fixtures/tiny-moe-f16.gguf");
const TEMP_RE = /\.gguf-studio-\d+-[0-9a-f]+\.partial|^\..+\.partial-\d+-[0-9a-f]+\.gguf$|^\..+\.[0-9a-f]{12}\.(tmp|new\.gguf)$|\.tmp-\d+-\d+$/;
const TEMP_FOLDER_RE = /^gguf-studio-[a-z]+-\d+-/;

const sha = (p) => crypto.createHash("sha256").update(fs.readFileSync(p)).digest("hex");
const hasTools = fs.existsSync(path.join(root, "bin")) && fs.readdirSync(path.join(root, "bin")).some((d) => fs.existsSync(path.join(root, "bin", d, "llama-quantize")));

const work = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-kill-"));
const tmpdir = path.join(work, "tmp"); // the commands' TMPDIR: their temp folders are visible here
fs.mkdirSync(tmpdir);
const template = path.join(work, "t.jinja");
fs.writeFileSync(template, "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}{% if add_generation_prompt %}<|assistant|>{% endif %}");
const recipe = path.join(work, "r.quant.json");
fs.writeFileSync(recipe, JSON.stringify({ version: 1, baseType: "Q8_0", rules: [{ pattern: "ffn_down", type: "Q6_K" }] }));

/** name → argv for an output path; `check` says the finished output is the right one. */
const COMMANDS = [
  { name: "set-metadata", args: (out) => ["set-metadata", MOE, out, "general.name=killed"] },
  { name: "template set", args: (out) => ["template", "set", MOE, template, out] },
  { name: "template fix --out", args: (out) => ["template", "fix", MOE, "--out", out, "--timeout", "60"] },
  ...(hasTools ? [
    { name: "quantize", args: (out) => ["quantize", MOE, out, "Q8_0", "--threads", "2"] },
    { name: "quantize --recipe", args: (out) => ["quantize", MOE, out, "--recipe", recipe, "--threads", "2"] },
  ] : []),
].filter((c) => !only || only.includes(c.name));

function run(argv, dir, killAtMs, signal) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [cli, ...argv], { cwd: dir, stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, TMPDIR: tmpdir } });
    let stderr = "";
    child.stderr.on("data", (c) => { stderr += c; });
    const timer = killAtMs === undefined ? undefined : setTimeout(() => child.kill(signal), killAtMs);
    child.on("exit", (code, sig) => { clearTimeout(timer); resolve({ code, signal: sig, ms: Date.now() - started, stderr }); });
  });
}

const leftovers = (dir) => fs.readdirSync(dir).filter((n) => TEMP_RE.test(n));
const deadFolders = () => fs.readdirSync(tmpdir).filter((n) => TEMP_FOLDER_RE.test(n));

const sourceHash = sha(MOE);
const results = [];
for (const c of COMMANDS) {
  // Calibrate: a clean run gives the window the random kill moments are drawn from.
  const calDir = fs.mkdtempSync(path.join(work, "cal-"));
  const cal = await run(c.args(path.join(calDir, "out.gguf")), calDir);
  const wroteOutput = fs.existsSync(path.join(calDir, "out.gguf"));
  for (const signal of SIGNALS) {
    const row = { command: c.name, signal, trials: 0, sourceIntact: 0, outputUntouched: 0, killedMidway: 0, tempLeftAfterKill: 0, tempLeftAfterNextRun: 0, deadTempFolders: 0, exitCodes: {} };
    for (let t = 0; t < trials; t++) {
      const dir = fs.mkdtempSync(path.join(work, "trial-"));
      const out = path.join(dir, "out.gguf");
      const at = Math.floor(Math.random() * cal.ms * 1.1);
      const r = await run(c.args(out), dir, at, signal);
      row.trials++;
      row.exitCodes[r.code ?? r.signal] = (row.exitCodes[r.code ?? r.signal] ?? 0) + 1;
      if (sha(MOE) === sourceHash) row.sourceIntact++;
      // Untouched: absent, or (the signal came after the rename) the complete output, which reads.
      const present = fs.existsSync(out);
      const whole = present && spawnSync(process.execPath, [cli, "inspect", out, "--json"], { stdio: "ignore" }).status === 0;
      if (!present || whole) row.outputUntouched++;
      if (!present) row.killedMidway++;
      if (leftovers(dir).length > 0) row.tempLeftAfterKill++;
      // The next run in that folder (to another name) must leave no temp file behind.
      await run(c.args(path.join(dir, "next.gguf")), dir);
      if (leftovers(dir).length > 0) row.tempLeftAfterNextRun++;
      row.deadTempFolders = Math.max(row.deadTempFolders, deadFolders().length);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    row.calibrationMs = cal.ms;
    row.calibrationWroteOutput = wroteOutput;
    results.push(row);
    process.stderr.write(`${c.name} ${signal}: ${JSON.stringify(row)}\n`);
  }
  fs.rmSync(calDir, { recursive: true, force: true });
}
fs.rmSync(work, { recursive: true, force: true });

if (process.argv.includes("--json")) console.log(JSON.stringify({ results, tools: hasTools, cpu: os.cpus()[0]?.model, load: os.loadavg().map((l) => l.toFixed(1)).join(" ") }, null, 2));
else {
  console.log("| command | signal | trials | source intact | output untouched | killed before rename | temp left after kill | temp left after next run | dead temp folders | exit codes |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const r of results) console.log(`| ${r.command} | ${r.signal} | ${r.trials} | ${r.sourceIntact} | ${r.outputUntouched} | ${r.killedMidway} | ${r.tempLeftAfterKill} | ${r.tempLeftAfterNextRun} | ${r.deadTempFolders} | ${Object.entries(r.exitCodes).map(([k, v]) => `${k}×${v}`).join(" ")} |`);
  if (!hasTools) console.log("\n(llama.cpp tools not built: quantize and quantize --recipe not run)");
}
const bad = results.some((r) => r.sourceIntact !== r.trials || r.outputUntouched !== r.trials || r.tempLeftAfterNextRun > 0 || r.deadTempFolders > 0);
process.exitCode = bad ? 1 : 0;
