#!/usr/bin/env node
// `npm run package`: a platform-specific VSIX for the machine it runs on (or --target).
// Holds dist/ (production build), media/, this platform's bin/<platform>-<arch>-*/ and the runtime
// part of node-llama-cpp with only this platform's CPU prebuilt (@node-llama-cpp/<platform>).
//
//   node scripts/package.mjs [--target linux-x64] [--out file.vsix]
// Afterwards the development build is restored (tests and F5 use source maps).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const arg = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(cmd, args) {
  console.log(`package: $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root });
  if (r.error) throw new Error(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`\`${path.basename(cmd)} ${args.join(" ")}\` exited with code ${r.status}`);
}

// VS Code target → Node platform/arch, and node-llama-cpp's CPU (or Metal) prebuilt package for it.
const TARGETS = {
  "linux-x64": { platform: "linux", arch: "x64", nlc: ["linux-x64"] },
  "linux-arm64": { platform: "linux", arch: "arm64", nlc: ["linux-arm64"] },
  "linux-armhf": { platform: "linux", arch: "arm", nlc: ["linux-armv7l"] },
  "darwin-x64": { platform: "darwin", arch: "x64", nlc: ["mac-x64"] },
  "darwin-arm64": { platform: "darwin", arch: "arm64", nlc: ["mac-arm64-metal"] },
  "win32-x64": { platform: "win32", arch: "x64", nlc: ["win-x64"] },
  "win32-arm64": { platform: "win32", arch: "arm64", nlc: ["win-arm64"] },
};
const hostTarget = `${process.platform}-${process.arch === "arm" ? "armhf" : process.arch}`;
const target = arg("target") ?? hostTarget;
const t = TARGETS[target];
if (!t) fail(`unsupported target "${target}" (supported: ${Object.keys(TARGETS).join(", ")})`);

const manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const out = path.resolve(arg("out") ?? path.join(root, `${manifest.name}-${target}-${manifest.version}.vsix`));

const binDirs = fs.existsSync(path.join(root, "bin"))
  ? fs.readdirSync(path.join(root, "bin")).filter((d) => d.startsWith(`${t.platform}-${t.arch}-`))
  : [];
if (binDirs.length === 0) fail(`no bin/${t.platform}-${t.arch}-*/ folder: build the native tools first (npm run build:native)`);

// The checked-in .vscodeignore excludes every bin/ and @node-llama-cpp/ folder; re-include this target's.
const selection = [
  `!bin/${t.platform}-${t.arch}-*/**`,
  `!bin/*/${t.platform}-${t.arch}/**`,
  ...t.nlc.map((p) => `!node_modules/@node-llama-cpp/${p}/**`),
];
const ignoreFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-vsce-")), "vscodeignore");
fs.writeFileSync(ignoreFile, `${fs.readFileSync(path.join(root, ".vscodeignore"), "utf8")}\n# added by scripts/package.mjs for ${target}\n${selection.join("\n")}\n`);

const started = Date.now();
try {
  run(process.execPath, ["esbuild.mjs", "--production"]);
  const vsce = path.join(root, "node_modules", "@vscode", "vsce", "vsce");
  const license = fs.existsSync(path.join(root, "LICENSE")) ? [] : ["--skip-license"];
  fs.rmSync(out, { force: true });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  run(process.execPath, [vsce, "package", "--target", target, "--ignoreFile", ignoreFile, "--out", out, "--allow-missing-repository",
  // No repository URL to prefix README's relative links and images with (docs/images/…): keep them relative
  // rather than refuse to package.
  "--no-rewrite-relative-links", ...license]);
} catch (e) {
  console.error(`package: ${e.message}`);
  process.exitCode = 1;
} finally {
  fs.rmSync(path.dirname(ignoreFile), { recursive: true, force: true });
  // Back to the development build (source maps, test bundles) whatever happened.
  spawnSync(process.execPath, ["esbuild.mjs"], { stdio: "inherit", cwd: root });
}
if (process.exitCode) process.exit();
const mb = (fs.statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`package: ${path.relative(process.cwd(), out)} (${target}, ${mb} MB, bin: ${binDirs.join(", ")}) in ${((Date.now() - started) / 1000).toFixed(0)} s`);
