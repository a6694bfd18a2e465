// `npm run bench:typemap`: recipe extraction, model diff and the tensor-type map's first paint on
// a synthetic 60,000-tensor quantized header (about 1,000 layers × 60 kinds; tensor data is a sparse
// hole, only headers are read). Extract and diff run in this process with the CLI's own core
// functions (header read included); the map runs in headless Chromium inside the real inspector
// bundle with a stub host (as bench:inspector), and its first paint is the map's own measurement
// (layout of every tensor + painting the visible cells), read from data-first-paint-ms.
// Writes the "## Recipe extraction, diff and tensor-type map" section of BENCHMARKS.md.
import { execSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { writeSyntheticQuant } from "./syntheticQuant.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const benchDir = path.join(root, ".bench");
const RUNS = Number(process.env.TYPEMAP_BENCH_RUNS ?? 7);
const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(" / ");
fs.mkdirSync(benchDir, { recursive: true });

const coreBundle = path.join(benchDir, "typemap-core.cjs");
await esbuild.build({
  stdin: {
    contents: `export { extractRecipeFromFile } from "./src/core/quant/recipeExtract";
               export { diffModels } from "./src/core/models/modelDiff";
               export { readGgufModel } from "./src/core/gguf";
               export { loadInspectorModel, tensorColumns } from "./src/core/models/inspectorData";`,
    resolveDir: root, loader: "ts",
  },
  bundle: true, platform: "node", format: "cjs", target: "node20", outfile: coreBundle, logLevel: "warning",
});
const core = (await import(coreBundle)).default;
const webviewJs = path.join(root, "dist/webview/inspector.js");
const webviewCss = path.join(root, "dist/webview/inspector.css");
if (!fs.existsSync(webviewJs)) throw new Error("dist/webview/inspector.js is missing: run `node esbuild.mjs` first");

const q4 = path.join(benchDir, "synthetic-quant-60k-q4.gguf");
const q3 = path.join(benchDir, "synthetic-quant-60k-q3.gguf");
const shape = writeSyntheticQuant(q4, { variant: "q4" });
writeSyntheticQuant(q3, { variant: "q3" });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function timed(fn) {
  const samples = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    last = await fn();
    samples.push(performance.now() - t0);
  }
  return { median: median(samples), min: Math.min(...samples), last };
}

const extract = await timed(() => core.extractRecipeFromFile(q4));
const readBoth = await timed(() => Promise.all([core.readGgufModel(q4), core.readGgufModel(q3)]));
const diff = await timed(async () => core.diffModels(...(await Promise.all([core.readGgufModel(q4), core.readGgufModel(q3)]))));
const [ma, mb] = await Promise.all([core.readGgufModel(q4), core.readGgufModel(q3)]);
const diffOnly = await timed(() => core.diffModels(ma, mb));
console.log(`extract: median ${extract.median.toFixed(0)} ms (min ${extract.min.toFixed(0)}), ${extract.last.ruleCount} rules for ${extract.last.tensorCount} tensors`);
console.log(`diff (read both + diff): median ${diff.median.toFixed(0)} ms; diff alone ${diffOnly.median.toFixed(0)} ms; ${diff.last.tensors.length} tensors differ`);

// The map in the inspector webview.
const THEME = `--vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace;
  --vscode-foreground: #ccc; --vscode-editor-background: #1e1e1e; --vscode-panel-border: #444;
  --vscode-charts-red: #f14c4c; --vscode-charts-orange: #d18616; --vscode-charts-yellow: #cca700; --vscode-charts-green: #89d185;
  --vscode-charts-blue: #3794ff; --vscode-charts-purple: #b180d7;`;
const page = `<!DOCTYPE html><html><head><meta charset="utf-8">
<style>:root{${THEME}} html,body{margin:0;height:100%;background:#1e1e1e;color:#ccc}</style><link rel="stylesheet" href="/inspector.css"></head>
<body><div id="app"></div><script>
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toHost(m), getState: () => ({ tab: "overview" }), setState: () => {} });
</script><script src="/inspector.js"></script></body></html>`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
});
const chromiumVersion = browser.version();
const loaded = await core.loadInspectorModel(q4);

async function mapPaint(screenshot) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const p = await context.newPage();
  await p.route("http://typemap.bench/**", (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === "/inspector.js") return route.fulfill({ body: fs.readFileSync(webviewJs), contentType: "text/javascript" });
    if (url.pathname === "/inspector.css") return route.fulfill({ body: fs.readFileSync(webviewCss), contentType: "text/css" });
    return route.fulfill({ body: page, contentType: "text/html" });
  });
  const reply = (m) => p.evaluate((json) => window.postMessage(JSON.parse(json), "*"), JSON.stringify(m)).catch(() => {});
  await p.exposeFunction("__toHost", async (m) => {
    if (m.type === "ready") return reply({ type: "model", model: loaded.view, firstTensors: core.tensorColumns(loaded, 0, 2000) });
    if (m.type === "requestTensors") return reply({ type: "tensorPage", requestId: m.requestId, offset: m.offset, total: loaded.model.tensors.length, columns: core.tensorColumns(loaded, m.offset, m.count) });
    return undefined;
  });
  await p.goto("http://typemap.bench/");
  await p.waitForSelector('#inspector-typemap[data-state="ready"]', { timeout: 60_000 });
  const firstPaint = Number(await p.getAttribute("#inspector-typemap", "data-first-paint-ms"));
  // Responsiveness: a scroll to the middle of the map and the frame after it.
  const scrollMs = await p.evaluate(async () => {
    const s = document.querySelector("#inspector-typemap-scroller");
    const t0 = performance.now();
    s.scrollTop = s.scrollHeight / 2;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    return performance.now() - t0;
  });
  if (screenshot) await p.locator("#overview-typemap").screenshot({ path: screenshot });
  await context.close();
  return { firstPaint, scrollMs };
}
const paints = [];
for (let i = 0; i < RUNS; i++) paints.push(await mapPaint(i === 0 ? path.join(benchDir, "typemap-60k.png") : undefined));
await browser.close();
const paint = { median: median(paints.map((p) => p.firstPaint)), min: Math.min(...paints.map((p) => p.firstPaint)), scroll: median(paints.map((p) => p.scrollMs)) };
console.log(`map first paint: median ${paint.median.toFixed(0)} ms (min ${paint.min.toFixed(0)}); scroll to the middle + 2 frames ${paint.scroll.toFixed(0)} ms`);

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
let commit = "?";
try { commit = execSync("git rev-parse --short HEAD", { cwd: root }).toString().trim(); } catch { /* not a checkout */ }
const ms = (n) => `${n.toFixed(0)} ms`;
const section = [
  "## Recipe extraction, diff and tensor-type map",
  "",
  `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; Node ${process.version}; Chromium ${chromiumVersion} (headless).`,
  `Load average when the run started: ${loadAtStart} (the machine is shared with other agents' builds and tests; timings scale with it).`,
  `Date: ${new Date().toISOString().slice(0, 10)}. Commit: ${commit}. Command: \`npm run bench:typemap\` (${RUNS} runs each; median and min).`,
  "",
  `Input: \`scripts/bench/syntheticQuant.mjs\`, ${shape.tensors.toLocaleString("en-US")} tensors in ${shape.layers} layers × 60 kinds, a Q4_K_M-like mix and a Q3_K variant of it (headers only; the data section is a sparse hole).`,
  "",
  "| operation | median | min | target | result |",
  "|---|---:|---:|---:|---|",
  `| extract a recipe (read header + extract + self-check) | ${ms(extract.median)} | ${ms(extract.min)} | < 1 s | ${extract.last.ruleCount} rules for ${extract.last.tensorCount.toLocaleString("en-US")} tensors |`,
  `| diff two models (read both headers + diff) | ${ms(diff.median)} | ${ms(diff.min)} | < 1 s | ${diff.last.tensors.length.toLocaleString("en-US")} tensors differ |`,
  `| of which: reading both headers | ${ms(readBoth.median)} | ${ms(readBoth.min)} | | |`,
  `| of which: the diff itself | ${ms(diffOnly.median)} | ${ms(diffOnly.min)} | | |`,
  `| tensor-type map first paint (layout of every tensor + visible cells) | ${ms(paint.median)} | ${ms(paint.min)} | < 500 ms | ${shape.layers + 1} rows |`,
  `| map: scroll to the middle, next 2 frames | ${ms(paint.scroll)} | | | |`,
  "",
  "The map is drawn after the inspector's table has all its rows (it never delays the inspector's first paint).",
].join("\n");
const benchFile = path.join(root, "BENCHMARKS.md");
let text = fs.readFileSync(benchFile, "utf8");
const title = "\n## Recipe extraction, diff and tensor-type map";
const start = text.indexOf(title);
if (start >= 0) {
  const next = text.indexOf("\n## ", start + 5);
  text = text.slice(0, start) + "\n" + section + (next >= 0 ? text.slice(next) : "\n");
} else text = text.replace(/\n*$/, "\n\n") + section + "\n";
fs.writeFileSync(benchFile, text);
console.log(`\nwrote the "Recipe extraction, diff and tensor-type map" section of ${path.relative(root, benchFile)}`);
