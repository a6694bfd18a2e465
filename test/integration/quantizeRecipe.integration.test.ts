// "Quantize Model…" running a recipe: the recipe is chosen in the real QuickPick with key presses,
// the output is checked tensor by tensor against the recipe's resolution and against the size the
// recipe editor predicted.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufModel } from "../../src/core/gguf";
import { loadRecipeFile, loadRecipeModel, resolveForModel } from "../../src/core/quant/recipeFile";
import type { RunRecord } from "../../src/core/quant/runHistory";
import type { QuantizeOutcome } from "../../src/host/quantize/quantizeCommand";
import { STEP_TITLES } from "../../src/host/quantize/quantizePicks";
import { hasBrowserDriver, pressKeys, screenshot, typeText, waitForWebview, waitForWorkbench, webviewAttribute } from "./driver";
import { accept, choose, enter, focusInput, onlyRow, waitForStep } from "./quickInput";

const RECIPE_FRAME = "#recipe-root";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

describe("Quantize Model… with a recipe (real host)", function () {
  this.timeout(300_000);
  const model = () => workspaceFile("tiny-llama-f16.gguf");
  const recipeFile = () => workspaceFile("ui-recipe-tiny-llama.quant.json");
  const output = () => workspaceFile("ui-recipe-tiny-llama.gguf");
  let predictedBytes = 0;

  before(async function () {
    if (!hasBrowserDriver()) this.skip(); // QuickPicks are answered by key presses through the browser driver
    for (const p of [recipeFile(), output()]) fs.rmSync(p, { force: true });
    // The recipe as a user makes it: "New Recipe…" (dynamic start, Q3_K base), which opens the editor.
    const created = await vscode.commands.executeCommand<string>("ggufStudio.newRecipe", { model: model(), startingPoint: "dynamic", baseType: "Q3_K", out: recipeFile() });
    assert.equal(created, recipeFile());
    await waitForWebview("#tensors", RECIPE_FRAME, { timeoutMs: 30_000 });
    predictedBytes = Number(await webviewAttribute(RECIPE_FRAME, "#total-bytes", "data-bytes"));
    assert.ok(predictedBytes > 0, "the editor shows a predicted size");
  });

  after(async () => {
    // Leave no recipe editor behind for later suites that find webviews by selector.
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    for (const p of [recipeFile(), output()]) fs.rmSync(p, { force: true });
  });

  it("picks the recipe in the target step; every tensor gets the recipe's type, the size is the editor's prediction, the run records the recipe", async () => {
    const run = vscode.commands.executeCommand<QuantizeOutcome | undefined>("ggufStudio.quantizeModel", vscode.Uri.file(model()));
    await waitForStep(STEP_TITLES.target);
    await focusInput();
    await typeText("Recipe file");
    const filtered = await onlyRow("Recipe file");
    assert.match(filtered, /Recipe file…/, "the filter leaves the recipe item alone");
    await screenshot("quantize-recipe-target");
    await accept(STEP_TITLES.target);
    const recipes = await waitForStep(STEP_TITLES.recipe);
    assert.match(recipes, /ui-recipe-tiny-llama\.quant\.json/);
    assert.match(recipes, /Browse/);
    await choose(STEP_TITLES.recipe, "ui-recipe-tiny-llama");
    await choose(STEP_TITLES.imatrix, "None");
    await enter(STEP_TITLES.output, output(), true);
    const ready = await waitForStep(STEP_TITLES.start);
    assert.match(ready, /recipe ui-recipe-tiny-llama\.quant\.json/);
    await screenshot("quantize-recipe-ready");
    await choose(STEP_TITLES.start, "Start");
    const outcome = await run;
    assert.ok(outcome, "the flow ran to the end");
    assert.equal(outcome.error, undefined, outcome.error);
    assert.equal(outcome.recipe, recipeFile());
    await waitForWorkbench(".notifications-toasts", "Quantized", 30_000);
    await screenshot("quantize-recipe-done");

    const { recipe } = await loadRecipeFile(recipeFile());
    const resolution = resolveForModel(recipe, await loadRecipeModel(model()));
    const expected = new Map(resolution.tensors.map((t) => [t.name, t.type]));
    const written = await readGgufModel(output());
    assert.equal(written.tensors.length, expected.size);
    for (const t of written.tensors) assert.equal(t.typeName, expected.get(t.name), t.name);
    assert.ok(new Set(written.tensors.map((t) => t.typeName)).size >= 3, "the recipe mixes several types");
    assert.equal(fs.statSync(output()).size, predictedBytes, "the file is exactly the size the recipe editor predicted");

    const ttFile = outcome.request.tensorTypeFile;
    assert.ok(ttFile, "the run used a compiled tensor-type file");
    assert.equal(fs.existsSync(ttFile), false, "the compiled tensor-type file is removed after the run");
    assert.equal(fs.existsSync(path.dirname(ttFile)), false);
    assert.ok(outcome.result?.steps.some((s) => s.commandLine.includes("--tensor-type-file")));

    const runs = await vscode.commands.executeCommand<RunRecord[]>("ggufStudio.showRunHistory");
    assert.equal(runs[0].output, output());
    assert.equal(runs[0].recipe, recipeFile());
    assert.equal(runs[0].status, "succeeded");
  });

  it("\"Quantize with Recipe…\" on a .quant.json takes the recipe's own model and skips the target step", async () => {
    const run = vscode.commands.executeCommand<QuantizeOutcome | undefined>("ggufStudio.quantizeWithRecipe", vscode.Uri.file(recipeFile()));
    const text = await waitForStep(STEP_TITLES.imatrix);
    assert.match(text, /None/);
    await pressKeys("Escape");
    assert.equal(await run, undefined);
  });
});
