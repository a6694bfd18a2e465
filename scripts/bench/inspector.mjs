// `npm run bench:inspector`: the GGUF inspector in plain headless Chromium, with a stub host.
// The real webview bundle (dist/webview/inspector.js) runs in a page whose acquireVsCodeApi() posts
// to this Node process, which answers with the real host-side code (src/core/models, bundled here),
// the same calls InspectorSession makes. Measured:
//   - open → first paint of the tensor table: from just before the document parses the file to the
//     frame after the first table rows are in the DOM (page load and bundle start included);
//   - filter latency on the loaded table: from the input event to the next frame.
// Writes the "## Inspector" section of BENCHMARKS.md.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";
import { writeSyntheticGguf } from "./syntheticGguf.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const benchDir = path.join(root, ".bench");
const RUNS = Number(process.env.INSPECTOR_BENCH_RUNS ?? 5);
const loadAtStart = os.loadavg().map((l) => l.toFixed(1)).join(" / ");
fs.mkdirSync(benchDir, { recursive: true });

// Host side: the same core modules the custom editor uses.
const coreBundle = path.join(benchDir, "inspector-core.cjs");
await esbuild.build({
  stdin: {
    contents: `export { loadInspectorModel, tensorColumns } from "./src/core/models/inspectorData";
               export { MetadataArrayBrowser } from "./src/core/models/arrayBrowser";`,
    resolveDir: root,
    loader: "ts",
  },
  bundle: true, platform: "node", format: "cjs", target: "node20", outfile: coreBundle, logLevel: "warning",
});
const webviewJs = path.join(root, "dist/webview/inspector.js");
const webviewCss = path.join(root, "dist/webview/inspector.css");
if (!fs.existsSync(webviewJs)) throw new Error("dist/webview/inspector.js is missing: run `node esbuild.mjs` first");
const { loadInspectorModel, tensorColumns, MetadataArrayBrowser } = (await import(coreBundle)).default;

const synthetic = path.join(benchDir, "synthetic-60k-tensors-250k-strings.gguf");
if (!fs.existsSync(synthetic)) writeSyntheticGguf(synthetic);
const inputs = [
  { label: "synthetic: 60,000 tensors + 250,000 strings", file: synthetic },
  { label: "tiny-llama-f16.gguf fixture", file: path.join(root, "test/fixtures/tiny-llama-f16.gguf") },
  { label: "tiny-moe-f16.gguf fixture", file: path.join(root, "test/fixtures/tiny-moe-f16.gguf") },
];

// A VS Code-like theme so the page lays out as in the editor.
const THEME = `--vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace;
  --vscode-foreground: #ccc; --vscode-editor-background: #1e1e1e; --vscode-panel-border: #444;`;
const page = (state) => `<!DOCTYPE html><html><head><meta charset="utf-8">
<style>:root{${THEME}} html,body{margin:0;height:100%}</style><link rel="stylesheet" href="/inspector.css"></head>
<body><div id="app"></div><script>
  const saved = ${JSON.stringify(state)};
  window.acquireVsCodeApi = () => ({ postMessage: (m) => window.__toHost(m), getState: () => saved, setState: () => {} });
</script><script src="/inspector.js"></script></body></html>`;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking", "--disable-component-update"],
});
const chromiumVersion = browser.version();

/** Opens `file` like the custom editor does and returns the page and the open→first-paint time. */
async function openInspector(file, state) {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p = await context.newPage();
  await p.route("http://inspector.bench/**", (route) => {
    const url = new URL(route.request().url());
    if (url.pathname === "/inspector.js") return route.fulfill({ body: fs.readFileSync(webviewJs), contentType: "text/javascript" });
    if (url.pathname === "/inspector.css") return route.fulfill({ body: fs.readFileSync(webviewCss), contentType: "text/css" });
    return route.fulfill({ body: page(state), contentType: "text/html" });
  });
  const t0 = performance.now();
  // As in GgufDocument.open: the parse starts, and the webview loads while it runs.
  let parsedMs = 0;
  const loading = loadInspectorModel(file).then((l) => {
    parsedMs = performance.now() - t0;
    return { loaded: l, arrays: new MetadataArrayBrowser(l.model.shards[0].path, l.model.metadata) };
  });
  // Messages cross as JSON text, like VS Code's own webview postMessage (Playwright's structured
  // argument passing would cost seconds for a 20k-row page and measure Playwright, not us).
  const reply = (m) => p.evaluate((json) => window.postMessage(JSON.parse(json), "*"), JSON.stringify(m)).catch(() => {});
  await p.exposeFunction("__toHost", async (m) => {
    const { loaded, arrays } = await loading;
    switch (m.type) {
      case "ready":
        return reply({ type: "model", model: loaded.view, firstTensors: tensorColumns(loaded, 0, 2000) });
      case "requestTensors":
        return reply({ type: "tensorPage", requestId: m.requestId, offset: m.offset, total: loaded.model.tensors.length, columns: tensorColumns(loaded, m.offset, m.count) });
      case "requestArrayPage": {
        const pageData = await arrays.page(m.key, m.offset, m.count, m.query);
        return reply({ type: "arrayPage", requestId: m.requestId, key: m.key, query: m.query, ...pageData });
      }
      default:
        return undefined;
    }
  });
  await p.goto("http://inspector.bench/");
  const loadedMs = performance.now() - t0;
  await p.waitForSelector("html[data-first-table-paint]", { timeout: 30_000 });
  const paintedAt = Number(await p.getAttribute("html", "data-first-table-paint"));
  const openMs = paintedAt - (performance.timeOrigin + t0);
  if (process.env.INSPECTOR_BENCH_DEBUG) console.log(`  parse ${parsedMs.toFixed(0)} ms, page loaded ${loadedMs.toFixed(0)} ms, first paint ${openMs.toFixed(0)} ms`);
  await p.waitForSelector('#inspector[data-tensors-loaded="true"]', { timeout: 30_000 });
  const { loaded, arrays } = await loading;
  return { context, page: p, openMs, parsedMs, tensors: loaded.model.tensors.length, arrays };
}

/** Sets a toolkit control's value, fires the event the tab listens to, waits for the next frame. */
async function timeFilter(p, selector, value, event = "input") {
  return p.evaluate(
    async ({ selector, value, event }) => {
      const f = document.querySelector(selector);
      const t0 = performance.now();
      f.value = value;
      f.dispatchEvent(new Event(event));
      const sync = performance.now() - t0;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
      const table = document.querySelector("#tensor-table").dataset;
      return { sync, frame: performance.now() - t0, rows: Number(table.rowCount), groups: Number(table.groupCount) };
    },
    { selector, value, event },
  );
}

async function timeSort(p, key) {
  return p.evaluate(async (key) => {
    const h = document.querySelector(`[data-sort="${key}"]`);
    const t0 = performance.now();
    h.click();
    const sync = performance.now() - t0;
    await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    return { sync, frame: performance.now() - t0, rows: Number(document.querySelector("#tensor-table").dataset.rowCount) };
  }, key);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const tensorsTab = { tab: "tensors" };
const results = [];
for (const input of inputs) {
  const opens = [];
  const parses = [];
  let last;
  for (let i = 0; i < RUNS; i++) {
    const r = await openInspector(input.file, tensorsTab);
    opens.push(r.openMs);
    parses.push(r.parsedMs);
    if (last) await last.context.close();
    last = r;
  }
  const filters = [];
  if (input.file === synthetic) {
    const p = last.page;
    const cases = [
      ["name regex `ffn_down`", "#tensor-filter-name", "ffn_down"],
      ["name regex `blk\\.1[0-9]\\.attn_(q|k)`", "#tensor-filter-name", "blk\\.1[0-9]\\.attn_(q|k)"],
      ["clear name filter (all 60,000 rows)", "#tensor-filter-name", ""],
      ["layers `100-199`", "#tensor-filter-layer", "100-199"],
      ["clear layers", "#tensor-filter-layer", ""],
    ];
    for (const [label, selector, value] of cases) {
      const samples = [];
      for (let i = 0; i < RUNS; i++) {
        await timeFilter(p, selector, "zzz-no-match"); // reset between samples
        samples.push(await timeFilter(p, selector, value));
      }
      filters.push({ label, sync: median(samples.map((s) => s.sync)), frame: median(samples.map((s) => s.frame)), rows: samples[0].rows });
    }
    for (const [label, value] of [["group by layer", "layer"], ["group by kind", "kind"], ["no grouping", "none"]]) {
      const s = await timeFilter(p, "#tensor-group", value, "change");
      filters.push({ label: s.groups ? `${label} (${s.groups.toLocaleString("en-US")} groups)` : label, sync: s.sync, frame: s.frame, rows: s.rows });
    }
    const sortSamples = [];
    for (let i = 0; i < 3; i++) sortSamples.push(await timeSort(p, "bytes")); // desc, then file order, then desc
    filters.push({ label: "sort by bytes (click)", sync: median(sortSamples.map((s) => s.sync)), frame: median(sortSamples.map((s) => s.frame)), rows: sortSamples[0].rows });
    const t0 = performance.now();
    const found = await last.arrays.page("tokenizer.ggml.tokens", 0, 200, "tok_12345");
    filters.push({ label: "vocabulary search `tok_12345` (host side, first search decodes 250k strings)", sync: performance.now() - t0, frame: NaN, rows: found.total });
    const t1 = performance.now();
    await last.arrays.page("tokenizer.ggml.tokens", 0, 200, "tok_999");
    filters.push({ label: "vocabulary search `tok_999` (host side, decoded)", sync: performance.now() - t1, frame: NaN, rows: NaN });
  }
  await last.context.close();
  results.push({ ...input, tensors: last.tensors, openMin: Math.min(...opens), openMedian: median(opens), parseMedian: median(parses), filters });
  console.log(`${input.label}: open→first table paint min ${Math.min(...opens).toFixed(0)} ms, median ${median(opens).toFixed(0)} ms`);
  for (const f of filters) console.log(`  ${f.label}: ${f.sync.toFixed(1)} ms sync, ${Number.isNaN(f.frame) ? "-" : f.frame.toFixed(1) + " ms to next frame"}`);
}
await browser.close();

const cpu = os.cpus()[0]?.model ?? "unknown CPU";
const ms = (n) => (Number.isNaN(n) ? "–" : `${n.toFixed(n < 10 ? 1 : 0)} ms`);
const section = [
  "## Inspector",
  "",
  `Machine: ${cpu}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.type()} ${os.release()}; Node ${process.version}; Chromium ${chromiumVersion} (headless). Load average when the run started: ${loadAtStart} (other jobs share the machine; timings scale with it).`,
  `Date: ${new Date().toISOString().slice(0, 10)}. Command: \`npm run bench:inspector\` (${RUNS} runs; median and min).`,
  "",
  "How: the built webview bundle (`dist/webview/inspector.js`) runs in plain headless Chromium; a stub `acquireVsCodeApi` forwards",
  "its messages to the bench process, which answers with the host's own code (`src/core/models`: `loadInspectorModel`, `tensorColumns`,",
  "`MetadataArrayBrowser`), as `InspectorSession` does. *Open → first paint* runs from just before the header is parsed (the",
  "custom editor's `openCustomDocument`) to the frame after the first tensor rows are in the DOM, with the Tensors tab restored",
  "as the active tab; it includes page load and bundle start, not VS Code's own editor-opening overhead.",
  "",
  "| Input | Tensors | Open → first tensor-table paint (median) | min | of which `loadInspectorModel` (header parse + summary; median, overlaps page load) | Target |",
  "| --- | ---: | ---: | ---: | ---: | --- |",
  ...results.map((r) => `| ${r.label} | ${r.tensors.toLocaleString("en-US")} | ${ms(r.openMedian)} | ${ms(r.openMin)} | ${ms(r.parseMedian)} | ${r.file === synthetic ? "< 1 s" : ""} |`),
  "",
  "Filter, group and sort on the 60,000-row table (target < 100 ms). *Sync* is the event handler (filter + sort + rendering the",
  "visible rows); *to next frame* adds layout and paint.",
  "",
  "| Action | Rows shown | Sync | To next frame |",
  "| --- | ---: | ---: | ---: |",
  ...results.flatMap((r) => r.filters.map((f) => `| ${f.label.replace(/\|/g, "\\|")} | ${Number.isNaN(f.rows) ? "" : f.rows.toLocaleString("en-US")} | ${ms(f.sync)} | ${ms(f.frame)} |`)),
  "",
].join("\n");

const benchFile = path.join(root, "BENCHMARKS.md");
let text = fs.existsSync(benchFile) ? fs.readFileSync(benchFile, "utf8") : "# Benchmarks\n";
const start = text.indexOf("\n## Inspector");
if (start >= 0) {
  const next = text.indexOf("\n## ", start + 5);
  text = text.slice(0, start) + "\n" + section + (next >= 0 ? text.slice(next) : "\n");
} else text = text.replace(/\n*$/, "\n\n") + section + "\n";
fs.writeFileSync(benchFile, text);
fs.writeFileSync(path.join(benchDir, "inspector-results.json"), JSON.stringify(results, null, 2));
console.log(`\nwrote the "Inspector" section of ${path.relative(root, benchFile)}`);
