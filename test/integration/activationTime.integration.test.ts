// Reads GGUF Studio's activation time and reason from the workbench's own Running Extensions
// editor (the numbers VS Code measures: code loading plus activate()), for BENCHMARKS.md.
import assert from "node:assert/strict";
import * as vscode from "vscode";
import { hasBrowserDriver, log, screenshot, waitForWorkbench, workbenchText } from "./driver";

describe("activation time (Running Extensions)", function () {
  this.timeout(60_000);
  it("reports how and how fast gguf-studio activated", async function () {
    if (!hasBrowserDriver()) this.skip();
    // No activate() call here: the reading must be the workbench's own activation.
    await vscode.commands.executeCommand("workbench.action.showRuntimeExtensions");
    await waitForWorkbench(".runtime-extensions-editor", undefined, 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    await screenshot("running-extensions");
    const texts = await workbenchText(".runtime-extensions-editor .monaco-list-row");
    await log(`running extensions: ${JSON.stringify(texts).slice(0, 3000)}`);
    const ours = texts.find((t) => t.includes("gguf-studio.gguf-studio") || t.includes("GGUF Studio")) ?? "";
    await log(`activation: ${ours.replace(/\s+/g, " ")}`);
    assert.match(ours, /\d+\s*ms/);
    await vscode.commands.executeCommand("workbench.action.closeActiveEditor");
  });
});
