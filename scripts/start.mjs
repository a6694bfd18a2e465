#!/usr/bin/env node
// `npm start`: GGUF Studio in a browser VS Code (the code-server that `npm run setup` installed), with
// the freshly built extension and a workspace of sample models. Stays up until Ctrl-C.
//
//   npm start [-- --folder DIR] [--port N] [--host ADDR --expose] [--watch] [--no-open]
//
// The work is in test/harness/start/ (TypeScript, built by esbuild.mjs); code-server is started by
// the same module the integration tests use (test/harness/codeServer.ts).
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

const USAGE = `usage: npm start [-- options]

  --folder DIR   open DIR instead of the sample workspace (untrusted until you trust it)
  --port N       port for code-server (default: a free one)
  --host ADDR    interface to bind (default 127.0.0.1); anything else also needs --expose,
                 and turns on code-server's password (printed)
  --expose       allow --host to be a non-loopback interface
  --watch        rebuild on change (esbuild watch); reload the window to pick changes up
  --no-open      do not open a browser
`;

function usageError(message) {
  console.error(`npm start: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { host: "127.0.0.1", expose: false, watch: false, open: true };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => (i + 1 < argv.length ? argv[++i] : usageError(`${a} needs a value`));
    if (a === "--folder") o.folder = value();
    else if (a === "--port") {
      const p = value();
      if (!/^\d+$/.test(p) || Number(p) < 1 || Number(p) > 65535) usageError(`--port needs a port number (1-65535), got "${p}"`);
      o.port = Number(p);
    } else if (a === "--host") o.host = value();
    else if (a === "--expose") o.expose = true;
    else if (a === "--watch") o.watch = true;
    else if (a === "--no-open") o.open = false;
    else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else usageError(`unknown option ${a}`);
  }
  const loopback = o.host === "localhost" || o.host === "::1" || /^127\./.test(o.host);
  if (!loopback && !o.expose) {
    usageError(`--host ${o.host} would let other machines reach this VS Code (and run tools on this machine); add --expose if you mean it`);
  }
  return o;
}

/** A browser only for a person at an interactive terminal, and only when one can be started. */
function browserCommand() {
  if (!process.stdout.isTTY || !process.stdin.isTTY || process.env.CI) return undefined;
  if (process.env.BROWSER) return process.env.BROWSER;
  if (process.platform === "darwin") return "open";
  if (process.platform === "win32") return undefined;
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return undefined;
  return spawnSync("sh", ["-c", "command -v xdg-open"], { encoding: "utf8" }).stdout.trim() || undefined;
}

function openBrowser(url) {
  const command = browserCommand();
  if (!command) return false;
  // The browser is the user's, not ours: detached, and never stopped on Ctrl-C.
  const child = spawn(command, [url], { stdio: "ignore", detached: true });
  child.on("error", () => undefined);
  child.unref();
  return true;
}

const options = parseArgs(process.argv.slice(2));
if (options.folder !== undefined) {
  // Checked before anything is built or started.
  const abs = path.resolve(options.folder);
  if (!fs.existsSync(abs)) {
    console.error(`npm start: --folder ${options.folder}: no such folder (${abs}); nothing was started`);
    process.exit(1);
  }
  if (!fs.statSync(abs).isDirectory()) {
    console.error(`npm start: --folder ${options.folder}: not a folder (${abs}); nothing was started`);
    process.exit(1);
  }
}

console.log("building (node esbuild.mjs)…");
if (spawnSync(process.execPath, ["esbuild.mjs"], { cwd: root, stdio: "inherit" }).status !== 0) {
  console.error("npm start: the build failed");
  process.exit(1);
}

const require = createRequire(import.meta.url);
const { startStudio } = require(path.join(root, "out", "test", "harness", "start", "studio.js"));

let watcher;
let studio;
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  console.log("\nstopping…");
  watcher?.kill("SIGTERM");
  await studio?.stop();
  process.exit(code);
}
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => void shutdown(0));

try {
  studio = await startStudio({ folder: options.folder, host: options.host, port: options.port, say: (line) => console.log(line) });
} catch (e) {
  console.error(`npm start: ${e instanceof Error ? e.message : String(e)}`);
  await shutdown(1);
}
studio.exited.then(() => {
  if (stopping) return;
  console.error(`npm start: code-server ended on its own; see ${path.relative(root, studio.logFile)}`);
  void shutdown(1);
});
if (options.watch) {
  // The first build is done; esbuild's watch mode rebuilds dist/ on change.
  watcher = spawn(process.execPath, ["esbuild.mjs", "--watch"], { cwd: root, stdio: "inherit" });
  watcher.on("exit", (code) => !stopping && console.error(`npm start: esbuild --watch ended (exit ${code}); no more rebuilds`));
}

const lines = [
  "",
  "GGUF Studio is running in code-server (VS Code 1.100, this repository's build as the development extension)",
  `  folder:   ${studio.folder}${studio.trusted ? " (sample models; trusted)" : " (untrusted until you trust it in the workbench)"}`,
  `  open:     ${studio.url}`,
];
if (studio.password) lines.push(`  password: ${studio.password}   (code-server's; anyone who can reach this address can use it)`);
if (options.watch) lines.push("  watch:    esbuild rebuilds on change; run \"Developer: Reload Window\" to load it");
lines.push(`  log:      ${path.relative(root, studio.logFile)}`, "Press Ctrl-C to stop.");
console.log(lines.join("\n"));
if (options.open && openBrowser(studio.url)) console.log("(opened in your browser)");
