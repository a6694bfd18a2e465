// The Get Started walkthrough in the real workbench: opened from the palette command, and each
// step ticks off when its completion event happens (read from the page's aria-checked state).
import assert from "node:assert/strict";
import * as vscode from "vscode";
import { hasBrowserDriver, screenshot, waitForWorkbench, waitUntil, workbenchClick, workbenchText } from "./driver";

const STEP = "button.getting-started-step";

async function completedSteps(): Promise<string[]> {
  return (await workbenchText(`${STEP}[aria-checked="true"] .step-title`)).map((t) => t.trim());
}

async function showWalkthrough(): Promise<void> {
  await vscode.commands.executeCommand("workbench.action.closeQuickOpen");
  await vscode.commands.executeCommand("ggufStudio.openWalkthrough");
  await waitForWorkbench(".gettingStartedContainer", "Get Started with GGUF Studio", 30_000);
}

/**
 * Clicks the step, then its button, in the real page: the button runs its command through the
 * workbench, as a user's click does (a command run from the extension host itself never reaches
 * the workbench's command events). Prompts the command opens are dismissed; the step is about the event.
 */
async function completes(title: string, button: string): Promise<void> {
  // "onView:" steps tick when the view *becomes* visible: earlier suites may have left the Models view
  // open, so show another side bar first (otherwise the click changes nothing and no event fires).
  await vscode.commands.executeCommand("workbench.view.explorer");
  await showWalkthrough();
  assert.ok(!(await completedSteps()).includes(title), `"${title}" is not checked before its event`);
  await workbenchClick(STEP, title);
  await workbenchClick(".getting-started-step .step-description-container .monaco-button", button);
  await waitUntil(async () => {
    await vscode.commands.executeCommand("workbench.action.closeQuickOpen");
    await showWalkthrough();
    return (await completedSteps()).includes(title);
  }, `walkthrough step "${title}" to be checked`, 30_000, 1000);
}

describe("Get Started walkthrough", function () {
  this.timeout(180_000);
  before(async function () {
    if (!hasBrowserDriver()) this.skip(); // reads the page's DOM through the browser driver
    await vscode.extensions.getExtension("gguf-studio.gguf-studio")?.activate();
  });
  after(() => vscode.commands.executeCommand("workbench.action.closeAllEditors"));

  it("opens from the palette command with its seven steps", async () => {
    await vscode.commands.executeCommand("ggufStudio.openWalkthrough");
    await waitForWorkbench(".gettingStartedContainer", "Get Started with GGUF Studio", 30_000);
    const titles = (await workbenchText(`${STEP} .step-title`)).map((t) => t.trim());
    assert.deepEqual(titles, ["Check the native tools", "Find your models", "Inspect a model", "Quantize one", "Find a recipe for a size", "Evaluate KLD", "Lint a chat template"]);
    await screenshot("walkthrough-opened");
  });

  it("each step is checked when its button is clicked", async () => {
    await completes("Check the native tools", "Show Native Tools");
    await completes("Find your models", "Open the Models View");
    await completes("Inspect a model", "Inspect a Model");
    await completes("Quantize one", "Quantize a Model");
    await completes("Find a recipe for a size", "Optimize a Recipe for a Size");
    await completes("Evaluate KLD", "Evaluate KLD");
    await completes("Lint a chat template", "Edit a Chat Template");
    // The last button's prompt may open late: let it, then close it, so the page is what shows.
    await new Promise((r) => setTimeout(r, 1000));
    await showWalkthrough();
    assert.equal((await completedSteps()).length, 7);
    const shot = await screenshot("walkthrough-completed");
    assert.ok(shot?.endsWith("walkthrough-completed.png"));
  });
});
