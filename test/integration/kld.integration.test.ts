// KLD evaluation and the chart in the real host: evaluate two quants of a fixture through the
// command, read the plotted points from the webview DOM, switch metric in the UI, export CSV/SVG/PNG.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import type { KldJobResult } from "../../src/core/eval/kldJob";
import { locateTools } from "../../src/core/native/toolLocator";
import { runTool } from "../../src/core/native/toolRunner";
import type { KldChartPanel } from "../../src/host/kld/kldChartPanel";
import { hasBrowserDriver, screenshot, waitForWebview, waitUntil, webviewClick, webviewEval, webviewText } from "./driver";

const FRAME = "#charts-root";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

interface DomPoint { label: string; origin: string; bytes: number; value: number }

describe("KLD evaluation and chart (real host)", function () {
  this.timeout(600_000);
  const root = path.resolve(__dirname, "../../..");
  const quantize = locateTools({ extensionRoot: root }).found["llama-quantize"]?.path;

  it("evaluates quants, plots them, switches metric and exports", async function () {
    if (!hasBrowserDriver() || !quantize) this.skip();
    const base = workspaceFile("tiny-llama-f16.gguf");
    const quants = ["Q4_K_M", "Q2_K"].map((t) => workspaceFile(`tiny-llama-${t}.gguf`));
    for (const [i, t] of ["Q4_K_M", "Q2_K"].entries()) {
      if (!fs.existsSync(quants[i])) await runTool({ executable: quantize, args: [base, quants[i], t, "2"] });
    }
    const evalText = workspaceFile("kld-eval-slice.txt");
    fs.writeFileSync(evalText, fs.readFileSync(workspaceFile("code-eval.txt"), "utf8").slice(0, 12_000));

    const result = await vscode.commands.executeCommand<KldJobResult>("ggufStudio.evaluateKld", {
      base, quants, evalText, calibrationText: workspaceFile("code-calib.txt"), contextSize: 256, chunks: 4,
    });
    assert.ok(result, "the evaluation ran");
    assert.equal(result.results.length, 2);
    assert.ok(fs.existsSync(result.baseLogits.file));
    await waitForWebview("#chart-svg", FRAME, { timeoutMs: 30_000 });
    const readPoints = () => webviewEval<DomPoint[]>(FRAME, `Array.from(document.querySelectorAll('#points .point')).map((e) => ({ label: e.dataset.label, origin: e.dataset.origin, bytes: Number(e.dataset.bytes), value: Number(e.dataset.value) }))`);
    const points = await waitUntil(async () => { const p = await readPoints(); return p.length >= 2 ? p : undefined; }, "two points in the chart");
    for (const r of result.results) {
      const p = points.find((x) => x.label === r.label);
      assert.ok(p, `point for ${r.label}`);
      assert.equal(p.bytes, r.quantBytes);
      assert.equal(p.value, r.summary.meanKld?.value);
      assert.equal(p.origin, "preset");
    }
    assert.equal(await webviewEval<number>(FRAME, "document.querySelectorAll('#pareto-line').length"), 1, "the Pareto frontier is drawn");
    await screenshot("kld-chart-mean");

    // Switch to "same top p" through the metric dropdown.
    await webviewClick(FRAME, "#metric");
    await webviewClick(FRAME, '#metric vscode-option[value="sameTopP"]');
    await waitUntil(async () => /Same top p/.test(await webviewText(FRAME, "#chart-title")), "the metric to switch");
    const topP = await readPoints();
    const q4 = result.results.find((r) => r.label === "Q4_K_M");
    assert.equal(topP.find((p) => p.label === "Q4_K_M")?.value, q4?.summary.sameTopP?.value);
    await screenshot("kld-chart-same-top-p");

    const panel = await vscode.commands.executeCommand<KldChartPanel>("ggufStudio.openKldChart", { resultsFile: result.resultsFile });
    assert.ok(panel);
    const csvFile = await panel.exportTo("csv", workspaceFile("kld-chart.csv"));
    const csv = fs.readFileSync(csvFile, "utf8").trim().split("\n");
    assert.match(csv[0], /^label,origin,file,bytes,bits_per_weight,mean_kld/);
    const q2row = csv.find((l) => l.startsWith("Q2_K,"));
    assert.ok(q2row && q2row.includes(String(result.results.find((r) => r.label === "Q2_K")?.quantBytes)));
    const svg = fs.readFileSync(await panel.exportTo("svg", workspaceFile("kld-chart.svg")), "utf8");
    assert.match(svg, /<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.doesNotMatch(svg, /var\(--vscode/, "theme colours are resolved in the export");
    const png = fs.readFileSync(await panel.exportTo("png", workspaceFile("kld-chart.png")));
    assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);

    const cleaned = await vscode.commands.executeCommand<{ removed: number }>("ggufStudio.cleanKldCache", { confirm: false });
    assert.ok(cleaned && cleaned.removed >= 1);
    assert.equal(fs.existsSync(result.baseLogits.file), false);
  });
});
