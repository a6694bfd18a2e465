// Runs in the "untrusted" suite: the same fixtures workspace, never trusted (restricted mode).
// GGUF Studio declares limited support, so it must still activate there.
import assert from "node:assert/strict";
import * as vscode from "vscode";
import { screenshot } from "./driver";

describe("activation in an untrusted workspace", () => {
  it("runs in restricted mode and still activates gguf-studio", async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const extension = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(extension, "gguf-studio.gguf-studio is not loaded");
    await extension.activate();
    assert.equal(extension.isActive, true);
    await screenshot("restricted-mode");
  });
});
