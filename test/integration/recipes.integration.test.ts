// The recipe editor in the real host: create a recipe from a starting point, change a tensor kind's
// type through the webview's dropdown, and check the live size against the core's computation.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { parseBudget } from "../../src/core/quant/optimizer";
import { planOptimization, type OptimizeResult } from "../../src/core/quant/optimizerRun";
import { locateTools } from "../../src/core/native/toolLocator";
import { estimateOutputFileBytes, loadRecipeFile, loadRecipeModel, resolveForModel } from "../../src/core/quant/recipeFile";
import { OPTIMIZE_TITLES } from "../../src/host/recipes/optimizePrompts";
import { hasBrowserDriver, screenshot, waitForWebview, waitForWorkbench, waitForWorkbenchGone, waitUntil, webviewAttribute, webviewClick, webviewEval, webviewText, workbenchClick } from "./driver";
import { choose, enter, waitForStep } from "./quickInput";

const FRAME = "#recipe-root";
const CHART_FRAME = "#charts-root";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

async function coreFileBytes(recipeFile: string, model: string): Promise<{ bytes: number; types: Map<string, string> }> {
  const { recipe } = await loadRecipeFile(recipeFile);
  const m = await loadRecipeModel(model);
  const r = resolveForModel(recipe, m);
  return { bytes: estimateOutputFileBytes(m, r), types: new Map(r.tensors.map((t) => [t.name, t.type])) };
}

describe("recipe editor (real host)", function () {
  // Other suites leave recipe editors open; the driver finds a webview by selector, so start with none.
  before(() => vscode.commands.executeCommand("workbench.action.closeAllEditors"));
  this.timeout(180_000);

  it("shows every tensor with its rule and updates the exact size when a kind's type changes in the UI", async function () {
    if (!hasBrowserDriver()) this.skip();
    const model = workspaceFile("tiny-llama-f16.gguf");
    const recipeFile = workspaceFile("tiny-llama-dynamic.quant.json");
    fs.rmSync(recipeFile, { force: true });
    const created = await vscode.commands.executeCommand<string>("ggufStudio.newRecipe", { model, startingPoint: "dynamic", baseType: "Q4_K", out: recipeFile });
    assert.equal(created, recipeFile);
    await waitForWebview("#tensors", FRAME, { timeoutMs: 30_000 });

    const before = await coreFileBytes(recipeFile, model);
    const shown = Number(await webviewAttribute(FRAME, "#total-bytes", "data-bytes"));
    assert.equal(shown, before.bytes, "the editor shows the core's exact size");
    const rowCount = await webviewEval<number>(FRAME, "document.querySelectorAll('#tensors tbody tr').length");
    assert.equal(rowCount, (await loadRecipeModel(model)).tensors.length, "every tensor is listed");
    assert.match(await webviewText(FRAME, 'tr[data-tensor="blk.0.ffn_down.weight"] td.why'), /rule \d+: .*ffn_down/);
    assert.match(await webviewText(FRAME, 'tr[data-tensor="blk.0.attn_norm.weight"] td.why'), /kept: 1-D tensor/);
    assert.equal(await webviewText(FRAME, 'tr[data-tensor="blk.2.ffn_up.weight"] td.type'), before.types.get("blk.2.ffn_up.weight"));
    await screenshot("recipe-editor-before");

    // Open the ffn_up kind's dropdown and pick Q8_0, as a user would.
    await webviewClick(FRAME, "#group-type-ffn_up");
    await webviewClick(FRAME, '#group-type-ffn_up vscode-option[value="Q8_0"]');
    const after = await waitUntil(async () => {
      const b = Number(await webviewAttribute(FRAME, "#total-bytes", "data-bytes"));
      return b !== before.bytes ? b : undefined;
    }, "the size to update", 20_000);
    const core = await coreFileBytes(recipeFile, model);
    assert.equal(after, core.bytes, "the new size matches the core's computation on the saved recipe");
    assert.ok(after > before.bytes, "Q8_0 ffn_up is larger");
    assert.equal(core.types.get("blk.2.ffn_up.weight"), "Q8_0");
    assert.equal(await webviewText(FRAME, 'tr[data-tensor="blk.2.ffn_up.weight"] td.type'), "Q8_0");
    assert.match(await webviewText(FRAME, 'tr[data-tensor="blk.2.ffn_up.weight"] td.why'), /ffn_up/);
    const saved = JSON.parse(fs.readFileSync(recipeFile, "utf8")) as { rules: { pattern: string; type: string }[] };
    assert.equal(saved.rules.at(-1)?.type, "Q8_0", "the edit is saved as the last (winning) rule");
    await screenshot("recipe-editor-after-ffn_up-q8_0");
  });

  it("finds a recipe for a size budget through the command and records it for the chart", async function () {
    if (!hasBrowserDriver()) this.skip(); // the optional steps are QuickPicks answered with key presses
    this.timeout(600_000);
    const model = workspaceFile("tiny-llama-f16.gguf");
    const evalText = workspaceFile("optimizer-eval-slice.txt");
    fs.writeFileSync(evalText, fs.readFileSync(workspaceFile("code-eval.txt"), "utf8").slice(0, 20_000));
    const out = workspaceFile("tiny-llama-budget.quant.json");
    const run = vscode.commands.executeCommand<OptimizeResult | undefined>(
      "ggufStudio.optimizeRecipe",
      { model, budget: "4.4MB", evalText, calibText: workspaceFile("code-calib.txt"), out, probeChunks: 2, verifyChunks: 4, candidateTypes: ["Q3_K", "Q6_K"] },
    );
    // The optional steps, answered as a user would: no imatrix, at most 12 evaluations.
    await choose(OPTIMIZE_TITLES.imatrix, "No importance");
    const measure = await waitForStep(OPTIMIZE_TITLES.measure);
    // The extension's own tools: with the probe engine built, the sparse design (G + 2·T + 10) runs.
    const extensionRoot = vscode.extensions.getExtension("gguf-studio.gguf-studio")?.extensionPath ?? "";
    const engineBuilt = locateTools({ extensionRoot, pathEnv: "" }).found["gguf-studio-probe"] !== undefined;
    const plan = planOptimization(await loadRecipeModel(model), parseBudget("4.4MB"), { candidateTypes: ["Q3_K", "Q6_K"], design: engineBuilt ? "sparse" : "files" });
    assert.match(measure, new RegExp(`All ${plan.probes} probes`), "the step states how many probes a full run makes");
    if (engineBuilt) assert.match(measure, /probe engine: \d+ groups at one type/, "the step names the design");
    await screenshot("optimizer-measurement-budget");
    await choose(OPTIMIZE_TITLES.measure, "evaluations", "At most N evaluations");
    await enter(OPTIMIZE_TITLES.limit, "12");
    const result = await run;
    assert.ok(result, "the optimizer ran");
    assert.ok(result.newEvaluations <= 12, `${result.newEvaluations} new evaluations within the limit of 12`);
    assert.equal(result.design, engineBuilt ? "sparse" : "files");
    if (engineBuilt) assert.ok(result.costs.loadMs > 0 && result.costs.medianProbeMs > 0, "the cost split is reported");
    assert.equal(result.budgetBytes, 4_400_000);
    assert.ok(result.verified.fileBytes <= 4_400_000);
    assert.ok(fs.existsSync(out) && fs.existsSync(result.verified.quantPath));
    const { recipe } = await loadRecipeFile(out);
    assert.equal(recipe.model, "tiny-llama-f16.gguf");
    const m = await loadRecipeModel(model);
    assert.equal(estimateOutputFileBytes(m, resolveForModel(recipe, m)), fs.statSync(result.verified.quantPath).size, "the saved recipe predicts the verified file's size");
    const toast = await waitForWorkbench(".notifications-toasts", "Recipe saved", 60_000);
    assert.match(toast, /tiny-llama-budget\.quant\.json/);
    assert.match(toast, /\d+ probe and \d+ in-context evaluations/);
    assert.match(toast, /Time: .*probes [\d.]+ s \([\d.]+ s each\), refinement [\d.]+ s, verification [\d.]+ s/, "the toast says where the time went");
    await waitForWorkbenchGone(".notifications-toasts", "Evaluating KL divergence", 30_000);
    await screenshot("optimizer-done");

    // "Open Chart" on the notification: the verified recipe is a point of origin "optimizer" at its exact size.
    await workbenchClick(".notifications-toasts .monaco-button", "Open Chart", 20_000);
    await waitForWebview("#chart-svg", CHART_FRAME, { timeoutMs: 30_000 });
    const point = await waitUntil(async () => {
      const points = await webviewEval<{ label: string; origin: string; bytes: number }[]>(CHART_FRAME,
        `Array.from(document.querySelectorAll('#points .point')).map((e) => ({ label: e.dataset.label, origin: e.dataset.origin, bytes: Number(e.dataset.bytes) }))`);
      return points.find((p) => p.label === "tiny-llama-budget");
    }, "the optimizer's point in the chart", 30_000);
    assert.equal(point.origin, "optimizer");
    assert.equal(point.bytes, result.verified.fileBytes);
    await screenshot("optimizer-chart");
    await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
  });
});
