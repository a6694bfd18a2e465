// Evaluate Accuracy… in the real host: the fixture question set scored through the command gives the
// same accuracy (and the same answer per question) as the CLI; the KLD chart shows the accuracy
// metric and the efficiency bars.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import * as vscode from "vscode";
import type { AccuracyResultRecord } from "../../src/core/eval/accuracyRecords";
import { locateTools } from "../../src/core/native/toolLocator";
import { runTool } from "../../src/core/native/toolRunner";
import type { EvaluateAccuracyResult } from "../../src/host/kld/accuracyFeature";
import { hasBrowserDriver, screenshot, waitForWebview, waitUntil, webviewClick, webviewEval, webviewText } from "./driver";

const FRAME = "#charts-root";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

describe("Evaluate Accuracy (real host)", function () {
  this.timeout(600_000);
  const root = path.resolve(__dirname, "../../..");
  const quantize = locateTools({ extensionRoot: root }).found["llama-quantize"]?.path;
  const set = path.join(root, "test/fixtures/code-mc/next-line.jsonl");
  const dev = path.join(root, "test/fixtures/code-mc/next-line.dev.jsonl");

  it("gives the CLI's accuracy on the fixture set and charts accuracy and efficiency", async function () {
    if (!hasBrowserDriver() || !quantize) this.skip();
    const base = workspaceFile("tiny-llama-f16.gguf");
    const q4 = workspaceFile("tiny-llama-Q4_K_M.gguf");
    if (!fs.existsSync(q4)) await runTool({ executable: quantize, args: [base, q4, "Q4_K_M", "2"] });

    const cli = await promisify(execFile)(process.execPath, [path.join(root, "dist/cli.js"), "eval", "mc", base, q4, "--set", set, "--dev", dev, "--limit", "24", "--gpu", "cpu", "--json"],
      { maxBuffer: 16 * 2 ** 20, env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" } });
    const fromCli = JSON.parse(cli.stdout) as { base: AccuracyResultRecord; quants: AccuracyResultRecord[] };

    const result = await vscode.commands.executeCommand<EvaluateAccuracyResult>("ggufStudio.evaluateAccuracy", { base, quants: [q4], set, dev, limit: 24, openChart: true });
    assert.ok(result?.mc, "the evaluation ran");
    const host = result.mc;
    assert.equal(host.base.accuracy.accuracy, fromCli.base.accuracy.accuracy, "base accuracy: host = CLI");
    assert.equal(host.base.chosen, fromCli.base.chosen, "the same answer to every question");
    const hostQuant = host.quants[0] as AccuracyResultRecord;
    assert.equal(hostQuant.accuracy.accuracy, fromCli.quants[0].accuracy.accuracy, "quant accuracy: host = CLI");
    assert.deepEqual(hostQuant.flips, fromCli.quants[0].flips);
    assert.match(hostQuant.commandLine, /^GGUF Studio: Evaluate Accuracy/);

    await waitForWebview("#chart-svg", FRAME, { timeoutMs: 30_000 });
    await webviewClick(FRAME, "#metric");
    await webviewClick(FRAME, '#metric vscode-option[value="accuracy"]');
    await waitUntil(async () => /Accuracy/.test(await webviewText(FRAME, "#chart-title")), "the metric to switch to accuracy");
    const points = await waitUntil(async () => {
      const p = await webviewEval<{ label: string; value: number }[]>(FRAME, `Array.from(document.querySelectorAll('#points .point')).map((e) => ({ label: e.dataset.label, value: Number(e.dataset.value) }))`);
      return p.some((x) => x.label === "Q4_K_M") ? p : undefined;
    }, "the Q4_K_M accuracy point");
    assert.equal(points.find((p) => p.label === "Q4_K_M")?.value, hostQuant.accuracy.accuracy);
    const bars = await webviewEval<{ label: string; value: number }[]>(FRAME, `Array.from(document.querySelectorAll('#efficiency-svg .bar')).map((e) => ({ label: e.dataset.label, value: Number(e.dataset.value) }))`);
    assert.equal(bars.find((b) => b.label === "Q4_K_M")?.value, hostQuant.efficiency);
    assert.equal(bars.find((b) => b.label === "base")?.value, host.base.efficiency);
    await screenshot("accuracy-chart");

    // The inspector's Overview shows the quant's latest results against its base.
    await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(q4));
    const inspector = `#inspector[data-file="${path.basename(q4)}"]`;
    await waitForWebview('[data-fact="eval-accuracy"]', inspector, { timeoutMs: 30_000 });
    assert.equal(Number(await webviewEval<string>(inspector, `document.querySelector('[data-fact="eval-accuracy"]').dataset.value`)), hostQuant.accuracy.accuracy);
    assert.equal(Number(await webviewEval<string>(inspector, `document.querySelector('[data-fact="eval-flips"]').dataset.value`)), hostQuant.flips?.flipsPercent);
    assert.match(await webviewText(inspector, "#overview-eval h3"), /Evaluation against tiny-llama-f16\.gguf/);
    await screenshot("accuracy-inspector-overview");
  });
});
