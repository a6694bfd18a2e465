#!/usr/bin/env node
// Builds `minja-render`, a tiny line-protocol render server around minja: the template engine
// llama.cpp used before b7756 (Jan 2026) and that many shipped apps still run. minja is
// header-only; its source comes from an older node-llama-cpp package (3.14.5 bundles llama.cpp
// b7347 with vendor/minja), fetched with `npm pack` from the npm registry, never from GitHub.
//
// Output: bin/minja/<platform>-<arch>/minja-render (+ a stamp). Build time ~15 s on 2 cores.
// Usage: node scripts/build-minja.mjs [--force]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE_PACKAGE = "node-llama-cpp@3.14.5"; // bundles llama.cpp b7347, the last minja era we pin
const force = process.argv.includes("--force");
const exe = process.platform === "win32" ? "minja-render.exe" : "minja-render";
const outDir = path.join(root, "bin", "minja", `${process.platform}-${process.arch}`);
const stampFile = path.join(outDir, "stamp.json");
const cppFile = path.join(root, "src", "core", "templates", "native", "minja-render.cpp");
// minja's tokenizer tries each token regex with regex_search over the whole rest of the template
// and then keeps the match only at position 0: quadratic in template size (50-270 ms per large
// template). match_continuous tries position 0 only, which is the same match (a leftmost match
// at 0 is exactly the continuous match), so outputs and errors are unchanged and parsing is
// linear. Verified byte-identical on llama.cpp's template corpus x the conversation suite.
const PARSE_PATCH = {
  from: "std::regex_search(it, end, match, regex) && match.position() == 0",
  to: "std::regex_search(it, end, match, regex, std::regex_constants::match_continuous)",
  count: 2,
};
const stamp = JSON.stringify({ source: SOURCE_PACKAGE, cpp: fs.statSync(cppFile).mtimeMs, patch: PARSE_PATCH.to });

function fail(message) {
  console.error(`build-minja: ${message}`);
  process.exit(1);
}
function run(cmd, args, opts = {}) {
  console.log(`build-minja: $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", shell: false, ...opts });
  if (r.error) fail(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} exited with code ${r.status}`);
}

if (!force && fs.existsSync(path.join(outDir, exe)) && fs.existsSync(stampFile) && fs.readFileSync(stampFile, "utf8") === stamp) {
  console.log(`build-minja: ${path.relative(root, outDir)} is up to date; --force rebuilds`);
  process.exit(0);
}

const work = path.join(root, ".native", "minja");
const headers = path.join(work, "vendor");
if (!fs.existsSync(path.join(headers, "minja", "minja.hpp"))) {
  fs.rmSync(work, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const npm = process.platform === "win32" ? "npm.cmd" : "npm";
  run(npm, ["pack", SOURCE_PACKAGE, "--silent"], { cwd: work });
  const tgz = fs.readdirSync(work).find((n) => n.endsWith(".tgz"));
  if (!tgz) fail("npm pack produced no tarball");
  run("tar", ["xzf", tgz, "package/llama/gitRelease.bundle"], { cwd: work });
  run("git", ["clone", "--quiet", "--no-checkout", "package/llama/gitRelease.bundle", "src"], { cwd: work });
  run("git", ["-C", "src", "-c", "advice.detachedHead=false", "checkout", "--quiet", "HEAD", "--", "vendor/minja", "vendor/nlohmann", "LICENSE"], { cwd: work });
  fs.renameSync(path.join(work, "src", "vendor"), headers);
  fs.copyFileSync(path.join(work, "src", "LICENSE"), path.join(work, "LICENSE-llama.cpp"));
  fs.rmSync(path.join(work, "src"), { recursive: true, force: true });
  fs.rmSync(path.join(work, "package"), { recursive: true, force: true });
  fs.rmSync(path.join(work, tgz), { force: true });
}

// The patched header goes to its own folder, searched before the vendored one.
const patched = path.join(work, "patched");
const header = fs.readFileSync(path.join(headers, "minja", "minja.hpp"), "utf8");
const sites = header.split(PARSE_PATCH.from).length - 1;
if (sites !== PARSE_PATCH.count) fail(`minja.hpp has ${sites} token-match sites, expected ${PARSE_PATCH.count}: update PARSE_PATCH`);
fs.mkdirSync(path.join(patched, "minja"), { recursive: true });
fs.writeFileSync(path.join(patched, "minja", "minja.hpp"), header.split(PARSE_PATCH.from).join(PARSE_PATCH.to));

fs.mkdirSync(outDir, { recursive: true });
const started = Date.now();
const compiler = process.env.CXX || "c++";
const tmpOut = path.join(outDir, `${exe}.tmp`);
run(compiler, ["-O2", "-std=c++17", "-I", patched, "-I", headers, "-o", tmpOut, cppFile]);
fs.renameSync(tmpOut, path.join(outDir, exe));
fs.writeFileSync(stampFile, stamp);
console.log(`build-minja: built ${path.relative(root, path.join(outDir, exe))} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
