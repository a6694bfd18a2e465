#!/usr/bin/env node
// `npm run setup`: everything a fresh clone needs, idempotent (a second run takes seconds).
//   1. npm ci (skipped when node_modules matches package-lock.json)
//   2. code-server 4.100.3 into .code-server/ from test/harness/code-server/{package,package-lock}.json
//      (Linux and macOS; the integration tests' real VS Code host)
//   3. node scripts/build-native.mjs (llama.cpp tools into bin/) and scripts/build-minja.mjs; both skip when up to date
//   4. node esbuild.mjs
// Flags: --force (redo steps 1-2), --skip-code-server, --skip-native.
// Uses only Node built-ins: it runs before node_modules exists.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const force = process.argv.includes("--force");
const skipCodeServer = process.argv.includes("--skip-code-server") || process.platform === "win32";
const skipNative = process.argv.includes("--skip-native");
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
const started = Date.now();

function fail(message) {
  console.error(`\nsetup: ${message}`);
  process.exit(1);
}

function step(title) {
  console.log(`\nsetup: ${title} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

function run(cmd, args, opts = {}) {
  console.log(`setup: $ ${cmd} ${args.join(" ")}`);
  const r = spawnSync(cmd, args, { stdio: "inherit", cwd: root, ...opts });
  if (r.error) fail(`${cmd} could not start: ${r.error.message}`);
  if (r.status !== 0) fail(`\`${cmd} ${args.join(" ")}\` exited with code ${r.status}`);
}

function which(cmd) {
  const r = spawnSync(process.platform === "win32" ? "where" : "which", [cmd], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.split(/\r?\n/)[0].trim() : undefined;
}

const sha256 = (file) => createHash("sha256").update(fs.readFileSync(file)).digest("hex");

// --- preflight: name every missing system package at once -------------------------------------
const nodeMajor = Number(process.versions.node.split(".")[0]);
if (nodeMajor < 20) fail(`Node ${process.versions.node} is too old: GGUF Studio needs Node 20 (code-server 4.100.3 runs on Node 20).`);

const missing = [];
if (!which("git")) missing.push(["git", "git"]);
if (!skipNative) {
  if (!which("cmake")) missing.push(["cmake", "cmake"]);
  if (!(which("c++") || which("g++") || which("clang++"))) missing.push(["a C++ compiler", "build-essential"]);
}
if (process.platform === "linux") {
  const header = (h) => ["/usr/include", "/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"].some((d) => fs.existsSync(path.join(d, h)));
  if (!skipCodeServer) {
    // code-server's native modules (kerberos, native-keymap, @vscode/spdlog) build from source.
    if (!(which("make") && (which("cc") || which("gcc")))) missing.push(["make and a C compiler", "build-essential"]);
    if (!which("python3")) missing.push(["python3 (node-gyp)", "python3"]);
    if (!which("pkg-config")) missing.push(["pkg-config", "pkg-config"]);
    if (!header("gssapi/gssapi.h")) missing.push(["gssapi/gssapi.h (kerberos)", "libkrb5-dev"]);
    if (!header("X11/Xlib.h")) missing.push(["X11/Xlib.h", "libx11-dev"]);
    if (!header("X11/extensions/XKBfile.h")) missing.push(["X11/extensions/XKBfile.h", "libxkbfile-dev"]);
    if (!header("libsecret-1/libsecret/secret.h")) missing.push(["libsecret (keytar)", "libsecret-1-dev"]);
    // @vscode/ripgrep downloads rg from GitHub; we seed its cache from the system rg instead.
    if (!which("rg")) missing.push(["ripgrep", "ripgrep"]);
  }
  // Integration tests drive the workbench in the system's Chromium (never a downloaded browser).
  if (!process.env.GGUF_STUDIO_CHROMIUM && !["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"].some((p) => fs.existsSync(p))) {
    missing.push(["chromium (integration tests)", "chromium"]);
  }
}
if (missing.length) {
  const pkgs = [...new Set(missing.map(([, pkg]) => pkg))];
  const hint = process.platform === "darwin" ? "xcode-select --install && brew install cmake ripgrep" : `sudo apt-get install -y ${pkgs.join(" ")}`;
  fail(`missing ${missing.map(([what]) => what).join(", ")}.\nInstall with: ${hint}\nthen run \`npm run setup\` again.`);
}

// --- 1. project dependencies ------------------------------------------------------------------
step("project dependencies");
// node_modules/.package-lock.json (npm's record of what it installed) must agree with package-lock.json.
function nodeModulesMatchLock() {
  const installedFile = path.join(root, "node_modules", ".package-lock.json");
  if (!fs.existsSync(installedFile)) return false;
  const wanted = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")).packages;
  const installed = JSON.parse(fs.readFileSync(installedFile, "utf8")).packages;
  for (const [key, entry] of Object.entries(wanted)) {
    if (key === "") continue;
    const have = installed[key];
    // Optional packages for other platforms (e.g. @node-llama-cpp/mac-arm64) are legitimately absent.
    if (!have) {
      if (entry.optional || entry.devOptional) continue;
      return false;
    }
    if (have.version !== entry.version || !fs.existsSync(path.join(root, key, "package.json"))) return false;
  }
  return true;
}
if (!force && nodeModulesMatchLock()) {
  console.log("setup: node_modules matches package-lock.json; skipping npm ci");
} else {
  const env = { ...process.env, npm_config_yes: "true" };
  // The lock lists every optional platform prebuilt of node-llama-cpp, also those the registry
  // lacks (os/cpu-gated, no tarball): npm ci accepts it as it is, with no fallback to npm install.
  run(npm, ["ci", "--no-audit", "--no-fund"], { env });
  if (!nodeModulesMatchLock()) fail("node_modules does not match package-lock.json after installing");
}

// --- 2. code-server (the integration tests' VS Code host) -------------------------------------
if (!skipCodeServer) {
  step("code-server (integration test host)");
  const manifestDir = path.join(root, "test", "harness", "code-server");
  const want = JSON.parse(fs.readFileSync(path.join(manifestDir, "package.json"), "utf8")).dependencies["code-server"];
  const csDir = path.join(root, ".code-server");
  const csPackage = path.join(csDir, "node_modules", "code-server", "package.json");
  const csStamp = path.join(csDir, ".setup-stamp");
  const stamp = `${want} ${sha256(path.join(manifestDir, "package-lock.json"))} node${nodeMajor}`;
  const installed = fs.existsSync(csPackage) ? JSON.parse(fs.readFileSync(csPackage, "utf8")).version : undefined;
  if (!force && installed === want && fs.existsSync(csStamp) && fs.readFileSync(csStamp, "utf8") === stamp) {
    console.log(`setup: code-server ${installed} already installed in .code-server/`);
  } else {
    fs.rmSync(csDir, { recursive: true, force: true });
    fs.mkdirSync(csDir, { recursive: true });
    for (const f of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(manifestDir, f), path.join(csDir, f));
    // Private TMPDIR: @vscode/ripgrep's postinstall looks for its download cache in os.tmpdir().
    const tmp = path.join(csDir, ".tmp");
    const rg = which("rg");
    if (rg && process.platform === "linux") {
      const target = { x64: "x86_64-unknown-linux-musl", arm64: "aarch64-unknown-linux-gnu" }[process.arch];
      if (target) {
        const cache = path.join(tmp, "vscode-ripgrep-cache-1.15.11");
        const stage = fs.mkdtempSync(path.join(os.tmpdir(), "rg-seed-"));
        fs.mkdirSync(cache, { recursive: true });
        fs.copyFileSync(rg, path.join(stage, "rg"));
        fs.chmodSync(path.join(stage, "rg"), 0o755);
        run("tar", ["-czf", path.join(cache, `ripgrep-v13.0.0-10-${target}.tar.gz`), "-C", stage, "rg"]);
        fs.rmSync(stage, { recursive: true, force: true });
      }
    }
    fs.mkdirSync(tmp, { recursive: true });
    run(npm, ["ci", "--no-audit", "--no-fund"], {
      cwd: csDir,
      env: {
        ...process.env,
        TMPDIR: tmp,
        // code-server's postinstall refuses root without unsafe-perm; node-pty's runs `npx node-gyp`.
        npm_config_unsafe_perm: "true",
        npm_config_yes: "true",
      },
    });
    const got = fs.existsSync(csPackage) ? JSON.parse(fs.readFileSync(csPackage, "utf8")).version : undefined;
    if (got !== want) fail(`code-server install finished but .code-server/node_modules/code-server is ${got ?? "missing"}, expected ${want}`);
    if (!fs.existsSync(path.join(csDir, "node_modules", "code-server", "lib", "vscode", "node_modules"))) {
      fail("code-server's postinstall did not install lib/vscode/node_modules (were install scripts disabled? check npm's ignore-scripts)");
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.writeFileSync(csStamp, stamp);
  }
}

// --- 3. native llama.cpp tools ----------------------------------------------------------------
if (!skipNative) {
  step("native llama.cpp tools");
  run(process.execPath, [path.join("scripts", "build-native.mjs")]);
  // minja-render: the older llama.cpp template engine the template checks also run (~15 s, stamped).
  if (fs.existsSync(path.join(root, "scripts", "build-minja.mjs"))) run(process.execPath, [path.join("scripts", "build-minja.mjs")]);
}

// --- 4. bundles ---------------------------------------------------------------------------------
step("bundles");
run(process.execPath, ["esbuild.mjs"]);

console.log(`\nsetup: done in ${((Date.now() - started) / 1000).toFixed(0)} s. Run the tests with \`npm test\`.`);
