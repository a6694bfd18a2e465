#!/usr/bin/env node
// `npm test`: builds, runs the unit tier (plain Node mocha) and the integration tier (the same
// mocha style inside a real VS Code extension host: code-server + headless Chromium, plus the
// installed-VSIX check and `npm start` driven from outside), lists every test, and ends with exactly
// one line `N passed, N failed`.
//
//   node scripts/run-tests.mjs [--unit | --integration] [--no-vsix] [--grep pattern]
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const argv = process.argv.slice(2);
const only = argv.includes("--unit") ? "unit" : argv.includes("--integration") ? "integration" : undefined;
const withVsix = !argv.includes("--no-vsix");
const grepAt = argv.indexOf("--grep");
const grep = grepAt >= 0 ? argv[grepAt + 1] : undefined;
const artifacts = path.join(root, ".test-artifacts");
/** The whole integration tier (all suites, packaging included) must end within this. */
const INTEGRATION_TIMEOUT_MS = 30 * 60_000;

const totals = { passed: 0, failed: 0 };
const failures = [];

function build(args = []) {
  const r = spawnSync(process.execPath, ["esbuild.mjs", ...args], { cwd: root, stdio: "inherit" });
  return r.status === 0;
}

function walk(dir, pattern) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p, pattern) : pattern.test(e.name) ? [p] : [];
  });
}

/** Runs mocha in this process on `files`; failures are recorded under `label`. */
async function runMocha(label, files, timeout) {
  const require = createRequire(path.join(root, "package.json"));
  const Mocha = require("mocha");
  const mocha = new Mocha({ ui: "bdd", reporter: "spec", timeout, color: process.stdout.isTTY });
  if (grep) mocha.grep(grep);
  for (const f of files) mocha.addFile(f);
  await mocha.loadFilesAsync();
  const result = await new Promise((resolve) => {
    let passed = 0;
    let failed = 0;
    const runner = mocha.run(() => resolve({ passed, failed }));
    runner.on("pass", () => passed++);
    runner.on("fail", (t, err) => {
      failed++;
      failures.push(`${label}: ${t.fullTitle()}: ${err.message.split("\n")[0]}`);
    });
  });
  totals.passed += result.passed;
  totals.failed += result.failed;
  return result;
}

async function unitTier() {
  console.log("\n=== unit tests (plain Node) ===");
  const tierStart = Date.now();
  const files = walk(path.join(root, "out", "test", "unit"), /\.test\.js$/).sort();
  const result = await runMocha("unit", files, 120_000);
  console.log(`unit: ${result.passed} passed, ${result.failed} failed (${files.length} files, ${((Date.now() - tierStart) / 1000).toFixed(0)} s)`);
}

/** `npm start` driven from outside as a user runs it (test/harness/start/*.start.test.ts). */
async function startSuite() {
  console.log("\n--- npm start (child process + Chromium, outside the extension host) ---");
  const suiteStart = Date.now();
  const files = walk(path.join(root, "out", "test", "harness", "start"), /\.start\.test\.js$/).sort();
  const result = await runMocha("start", files, 12 * 60_000);
  console.log(`start: ${result.passed} passed, ${result.failed} failed (${((Date.now() - suiteStart) / 1000).toFixed(0)} s)`);
}

/** Runs a node script with a hard timeout; the child ends its own code-server/browser on SIGTERM. */
function runNode(args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: "inherit" });
    const timer = setTimeout(() => {
      console.error(`run-tests: ${args.join(" ")} exceeded ${timeoutMs / 60_000} min; stopping it`);
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 15_000).unref();
    }, timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function integrationTier() {
  console.log("\n=== integration tests (real VS Code extension host: code-server + headless Chromium) ===");
  const tierStart = Date.now();
  const deadline = tierStart + INTEGRATION_TIMEOUT_MS;
  const suites = ["--suite", "integration"];
  if (walk(path.join(root, "out", "test", "integration"), /\.untrusted\.test\.js$/).length) suites.push("--suite", "untrusted");
  fs.mkdirSync(artifacts, { recursive: true });
  if (withVsix) {
    const vsix = path.join(artifacts, "gguf-studio-test.vsix");
    fs.rmSync(vsix, { force: true });
    console.log("\n--- packaging the VSIX for the installed-extension suite ---");
    const code = await runNode([path.join("scripts", "package.mjs"), "--out", vsix], 10 * 60_000);
    if (code === 0 && fs.existsSync(vsix)) suites.push("--suite", "vsix", "--vsix", vsix);
    else {
      totals.failed++;
      failures.push(`vsix: npm run package failed (exit ${code}); the installed-VSIX suite did not run`);
    }
  }
  const results = path.join(artifacts, "integration-results.json");
  fs.rmSync(results, { force: true });
  const args = [path.join("out", "test", "harness", "runIntegration.js"), ...suites, "--results", results];
  if (grep) args.push("--grep", grep);
  const code = await runNode(args, Math.max(60_000, deadline - Date.now()));
  if (!fs.existsSync(results)) {
    totals.failed++;
    failures.push(`integration: the harness ended (exit ${code}) without results; see .test-artifacts/logs/`);
    return;
  }
  const r = JSON.parse(fs.readFileSync(results, "utf8"));
  console.log(`integration tier: ${r.passed} passed, ${r.failed} failed (${((Date.now() - tierStart) / 1000).toFixed(0)} s)`);
  totals.passed += r.passed;
  totals.failed += r.failed;
  for (const s of r.suites) for (const f of s.failures) failures.push(`${s.suite}: ${f}`);
  if (code !== 0 && r.failed === 0) {
    totals.failed++;
    failures.push(`integration: the harness exited with code ${code}`);
  }
}

const started = Date.now();
if (!build()) {
  console.log("\nthe build failed (node esbuild.mjs)");
  console.log("0 passed, 1 failed");
  process.exit(1);
}
if (only !== "integration") await unitTier();
if (only !== "unit") {
  await integrationTier();
  await startSuite();
}

if (failures.length) {
  console.log("\nFailures:");
  for (const f of failures) console.log(`  ✘ ${f}`);
}
console.log(`\n(tests took ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots and logs in .test-artifacts/)`);
console.log(`${totals.passed} passed, ${totals.failed} failed`);
process.exit(totals.failed > 0 ? 1 : 0);
