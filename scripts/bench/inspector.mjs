// `npm run bench:inspector`: opening the GGUF inspector, stage by stage, in plain headless Chromium
// with a stub host (NOT VS Code: no workbench, no webview service worker; VS Code's own share is
// not measured). The real webview bundle runs in a page whose acquireVsCodeApi() posts to this
// Node process, which answers with the real host-side code (see inspectorHosts.mjs), in the same
// event loop as the page's resource handlers, as the extension host serves its webview.
// Each input is opened RUNS times by this tree ("current") and by older commits ("anchor <sha>",
// INSPECTOR_BENCH_ANCHOR), in rotating order, so all see the same load. Writes the "## Inspector" section of BENCHMARKS.md and .bench/inspector-results.json.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { anchorVariant, currentVariant } from "./inspectorHosts.mjs";
import { inspectorSection, TARGETS } from "./inspectorReport.mjs";
import { writeSyntheticGguf } from "./syntheticGguf.mjs";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const benchDir = path.join(root, ".bench");
const RUNS = Number(process.env.INSPECTOR_BENCH_RUNS ?? 5);
// Older commits to open in the same run, comma-separated ("none": this tree only). a4e7691 is what
// issue 17 measured; 62418f7 is the commit of the figures recorded on 2026-11-23.
const ANCHORS = (process.env.INSPECTOR_BENCH_ANCHOR ?? "a4e7691,62418f7").split(",").filter((a) => a && a !== "none");
fs.mkdirSync(benchDir, { recursive: true });
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" / ");
const loadAtStart = load();

const current = await currentVariant(root, benchDir);
const variants = [current];
for (const a of ANCHORS) variants.push(await anchorVariant(root, benchDir, a));

const synthetic = path.join(benchDir, "synthetic-60k-tensors-250k-strings.gguf");
if (!fs.existsSync(synthetic)) writeSyntheticGguf(synthetic);
const inputs = [
  { id: "synthetic", label: "synthetic: 60,000 tensors + 250,000 strings", file: synthetic, target: TARGETS.open60k },
  { id: "tiny-llama", label: "tiny-llama-f16.gguf fixture", file: path.join(root, "test/fixtures/tiny-llama-f16.gguf"), target: TARGETS.openFixture },
  { id: "tiny-moe", label: "tiny-moe-f16.gguf fixture", file: path.join(root, "test/fixtures/tiny-moe-f16.gguf"), target: TARGETS.openFixture },
];

const THEME = `--vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-editor-font-family: monospace;
  --vscode-foreground: #ccc; --vscode-editor-background: #1e1e1e; --vscode-panel-border: #444;`;
// The same markup as buildWebviewHtml, plus the acquireVsCodeApi stub.
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

/** Opens `file` like the custom editor does; returns each stage's end in ms after the open began. */
async function openInspector(variant, file, state) {
  const marks = {};
  const t0 = performance.now();
  // openCustomDocument starts the read; VS Code then creates the webview while it runs.
  const host = variant.startHost(file, marks);
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p = await context.newPage();
  marks.webviewCreated = performance.now();
  const js = fs.readFileSync(variant.js);
  const css = fs.readFileSync(variant.css);
  await p.route("http://inspector.bench/**", (route) => {
    const { pathname } = new URL(route.request().url());
    if (pathname === "/inspector.js") return route.fulfill({ body: js, contentType: "text/javascript" });
    if (pathname === "/inspector.css") return route.fulfill({ body: css, contentType: "text/css" });
    return route.fulfill({ body: page(state), contentType: "text/html" });
  });
  // Messages cross as JSON text, like VS Code's webview postMessage; awaiting each is the back-pressure.
  const send = (m) => p.evaluate((json) => window.postMessage(JSON.parse(json), "*"), JSON.stringify(m)).catch(() => {});
  await p.exposeFunction("__toHost", (m) => {
    if (m.type === "ready") marks.readyReceived = performance.now();
    return host.onMessage(m, send);
  });
  await p.goto("http://inspector.bench/");
  await p.waitForSelector("html[data-first-table-paint]", { timeout: 60_000 });
  await p.waitForSelector('#inspector[data-tensors-loaded="true"]', { timeout: 60_000 });
  marks.allRows = performance.now();
  const times = await p.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const script = performance.getEntriesByType("resource").find((r) => r.name.endsWith("/inspector.js"));
    const mark = (n) => performance.getEntriesByName(`inspector:${n}`, "mark")[0]?.startTime;
    return {
      origin: performance.timeOrigin,
      navStart: nav.startTime, scriptLoaded: script?.responseEnd,
      bundleStart: mark("bundle-start"), readyPosted: mark("ready-posted"), firstMessage: mark("first-message"), firstRendered: mark("first-rendered"),
      firstFrameEpoch: Number(document.documentElement.dataset.firstTablePaint),
    };
  });
  // Page times are ms after page.origin (epoch); ours are ms after this process's origin.
  const fromPage = (ms) => (ms === undefined ? undefined : times.origin + ms - (performance.timeOrigin + t0));
  const rel = (ms) => (ms === undefined ? undefined : ms - t0);
  const stages = {
    webviewCreated: rel(marks.webviewCreated),
    scriptLoaded: fromPage(times.scriptLoaded),
    bundleStart: fromPage(times.bundleStart),
    readyPosted: fromPage(times.readyPosted) ?? rel(marks.readyReceived),
    previewRead: rel(marks.previewRead),
    headerParsed: rel(marks.headerParsed),
    summarized: rel(marks.summarized),
    firstMessage: fromPage(times.firstMessage),
    firstRendered: fromPage(times.firstRendered),
    firstFrame: times.firstFrameEpoch - (performance.timeOrigin + t0),
    allRows: rel(marks.allRows),
  };
  if (process.env.INSPECTOR_BENCH_DEBUG) console.log(`  ${variant.name}: ${Object.entries(stages).map(([k, v]) => `${k} ${v?.toFixed(0)}`).join(", ")}`);
  return { context, page: p, stages, host };
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

async function filterCases(p) {
  const out = [];
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
    out.push({ label, sync: median(samples.map((s) => s.sync)), frame: median(samples.map((s) => s.frame)), rows: samples[0].rows });
  }
  for (const [label, value] of [["group by layer", "layer"], ["group by kind", "kind"], ["no grouping", "none"]]) {
    const s = await timeFilter(p, "#tensor-group", value, "change");
    out.push({ label: s.groups ? `${label} (${s.groups.toLocaleString("en-US")} groups)` : label, sync: s.sync, frame: s.frame, rows: s.rows });
  }
  const sortSamples = [];
  for (let i = 0; i < 3; i++) sortSamples.push(await timeSort(p, "bytes")); // desc, then file order, then desc
  out.push({ label: "sort by bytes (click)", sync: median(sortSamples.map((s) => s.sync)), frame: median(sortSamples.map((s) => s.frame)), rows: sortSamples[0].rows });
  return out;
}

/** First vocabulary search on a freshly read model (decodes 250k strings), then a second one. */
async function vocabularySearch(variant) {
  const first = [];
  const second = [];
  for (let i = 0; i < RUNS; i++) {
    const model = await variant.core.readGgufModel(synthetic);
    const arrays = new variant.core.MetadataArrayBrowser(synthetic, model.metadata);
    let t = performance.now();
    const found = await arrays.page("tokenizer.ggml.tokens", 0, 200, "tok_12345");
    first.push(performance.now() - t);
    t = performance.now();
    await arrays.page("tokenizer.ggml.tokens", 0, 200, "tok_999");
    second.push(performance.now() - t);
    await arrays.close();
    if (found.total !== 11) throw new Error(`vocabulary search found ${found.total} entries, expected 11`);
  }
  return { first: median(first), second: median(second) };
}

const results = [];
for (const input of inputs) {
  const loadBefore = load();
  const runs = Object.fromEntries(variants.map((v) => [v.name, []]));
  let keep;
  for (let i = 0; i < RUNS; i++) {
    // Rotate the order each round, so no code path always runs first (or last) under the same load.
    for (const v of variants.map((_, k) => variants[(k + i) % variants.length])) {
      const r = await openInspector(v, input.file, { tab: "tensors" });
      runs[v.name].push(r.stages);
      if (v !== current) await r.context.close();
      else {
        if (keep) await keep.context.close();
        keep = r; // the last one stays open for the filter timings
      }
    }
  }
  const filters = input.id === "synthetic" && keep ? await filterCases(keep.page) : [];
  if (keep) await keep.context.close();
  let search;
  if (input.id === "synthetic") {
    search = {};
    for (const v of variants) search[v.name] = await vocabularySearch(v); // one at a time: they would share the CPU
  }
  const result = { ...input, runs, filters, search, loadBefore, loadAfter: load() };
  results.push(result);
  for (const v of variants) {
    const open = runs[v.name].map((s) => s.firstFrame);
    console.log(`${input.label} [${v.name}]: open → first table frame median ${median(open).toFixed(0)} ms (min ${Math.min(...open).toFixed(0)})`);
  }
  const m = median(runs[current.name].map((s) => s.firstFrame));
  console.log(`  target < ${input.target} ms: ${m < input.target ? "MET" : "NOT MET"} (load ${loadBefore} → ${result.loadAfter})`);
  if (search) {
    for (const v of variants) console.log(`  [${v.name}] first vocabulary search ${search[v.name].first.toFixed(0)} ms, second ${search[v.name].second.toFixed(1)} ms`);
    console.log(`  target < ${TARGETS.vocabSearch} ms: ${search[current.name].first < TARGETS.vocabSearch ? "MET" : "NOT MET"}`);
  }
}
const chromiumVersion = browser.version();
await browser.close();

const bundleBytes = fs.statSync(current.js).size;
const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: root, encoding: "utf8" }).trim() !== "";
const section = inspectorSection({
  results, variants, runs: RUNS, bundleBytes, commit: dirty ? `${commit} + uncommitted changes` : commit,
  chromium: chromiumVersion, loadAtStart, loadAtEnd: load(),
});
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
