// Draws the bench's KLD-vs-size chart with the extension's own chart renderer (webview/charts),
// in headless Chromium, and writes it as SVG and PNG for BENCHMARKS.md.
//   node scripts/bench/chart.mjs [--models tiny-llama,tiny-moe] [--out docs/bench]
// Reads .bench/kld/<model>-f16/results-<design>.json as written by scripts/bench/kld.mjs (--design, default sparse).
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { chromium } from "playwright-core";

const arg = (name, dflt) => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : dflt; };
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const outDir = path.resolve(root, arg("out", "docs/bench"));
fs.mkdirSync(outDir, { recursive: true });

// Inside the repository: the harness's path helpers find the root from where they are loaded.
fs.mkdirSync(path.join(root, ".bench"), { recursive: true });
const tmp = fs.mkdtempSync(path.join(root, ".bench", "chart-"));
// The renderer exactly as the webview uses it, exposed on window for the page below.
await esbuild.build({
  stdin: { contents: `import { renderChart, standaloneSvg } from "./webview/charts/svgChart"; Object.assign(window, { renderChart, standaloneSvg });`, resolveDir: root, loader: "ts" },
  bundle: true, format: "iife", platform: "browser", outfile: path.join(tmp, "chart.js"), logLevel: "warning",
});
await esbuild.build({
  stdin: { contents: `export { readGgufModel } from "./src/core/gguf"; export { findChromium } from "./test/harness/paths";`, resolveDir: root, loader: "ts" },
  bundle: true, platform: "node", format: "cjs", outfile: path.join(tmp, "core.cjs"), logLevel: "warning",
});
const core = createRequire(import.meta.url)(path.join(tmp, "core.cjs"));

// VS Code's Dark+ chart colours, so the picture matches what the extension shows in a dark theme.
const THEME = `--vscode-editor-background:#1e1e1e;--vscode-foreground:#cccccc;--vscode-descriptionForeground:#9d9d9d;
--vscode-charts-blue:#3794ff;--vscode-charts-orange:#d18616;--vscode-charts-green:#89d185;--vscode-charts-purple:#b180d7;
--vscode-charts-red:#f14c4c;--vscode-editorWidget-border:#454545;--vscode-font-family:system-ui,sans-serif;`;

const browser = await chromium.launch({ executablePath: core.findChromium(), headless: true, args: ["--no-sandbox"] });
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 560 } });
  await page.setContent(`<html><body style="margin:0;${THEME}"></body></html>`);
  await page.addScriptTag({ path: path.join(tmp, "chart.js") });
  for (const m of arg("models", "tiny-llama,tiny-moe").split(",")) {
    const name = `${m.replace(/(-f16)?\.gguf$/, "")}-f16`;
    const resultsFile = path.join(root, ".bench", "kld", name, `results-${arg("design", "sparse")}.json`);
    if (!fs.existsSync(resultsFile)) throw new Error(`${resultsFile} not found: run npm run bench:recipes first`);
    const report = JSON.parse(fs.readFileSync(resultsFile, "utf8"));
    const base = await core.readGgufModel(path.join(root, "test", "fixtures", `${name}.gguf`));
    const elements = base.tensors.reduce((s, t) => s + Number(t.elementCount), 0);
    const points = report.rows.map((r, i) => ({
      id: String(i), label: r.name, origin: r.kind === "optimizer" ? "optimizer" : "preset", quantName: r.name,
      bytes: r.bytes, bitsPerWeight: (r.bytes * 8) / elements, meanKld: r.meanKld, kld99_9: r.kld99_9, sameTopP: r.sameTopP,
      chunks: report.chunks, contextSize: report.contextSize, evalName: report.evalText,
    }));
    const svg = await page.evaluate((pts) => {
      document.body.replaceChildren();
      const el = window.renderChart(pts, { metric: "meanKld", axis: "bytes", logScale: true, width: 900, height: 560 }, () => undefined);
      document.body.append(el);
      return window.standaloneSvg(el);
    }, points);
    fs.writeFileSync(path.join(outDir, `kld-${m}.svg`), svg);
    await page.locator("svg").first().screenshot({ path: path.join(outDir, `kld-${m}.png`) });
    console.log(`wrote ${path.relative(root, path.join(outDir, `kld-${m}.svg`))} and .png (${points.length} points)`);
  }
} finally {
  await browser.close();
  fs.rmSync(tmp, { recursive: true, force: true });
}
