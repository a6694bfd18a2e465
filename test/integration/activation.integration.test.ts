// Smoke test: the extension activates in a real extension host and its activity-bar container opens.
import assert from "node:assert/strict";
import * as vscode from "vscode";
import { hasBrowserDriver, screenshot, waitForWorkbench } from "./driver";

const EXTENSION_ID = "gguf-studio.gguf-studio";

describe("activation", () => {
  it("activates gguf-studio.gguf-studio and registers its commands", async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `${EXTENSION_ID} is not loaded in the extension host`);
    await extension.activate();
    assert.equal(extension.isActive, true);
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes("ggufStudio.showNativeTools"), "ggufStudio.showNativeTools is not registered");
  });

  it("opens the GGUF Studio activity-bar container", async () => {
    await vscode.commands.executeCommand("workbench.view.extension.ggufStudio");
    if (!hasBrowserDriver()) return;
    // The sidebar's title shows the container's title once it is the visible view container.
    const title = await waitForWorkbench(".part.sidebar .composite.title", "GGUF", 20_000);
    assert.match(title, /GGUF/i);
    // Let the container's first view render its rows (the fixtures workspace has two models), so the
    // screenshot shows content rather than a progress bar.
    await waitForWorkbench(".part.sidebar .monaco-list-row", undefined, 20_000);
    const file = await screenshot("activity-bar");
    assert.ok(file?.endsWith("activity-bar.png"));
  });
});
