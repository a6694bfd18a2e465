// Restricted mode: native tools never run, whatever the caller, and nothing is written.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import type { GgufStudioApi } from "../../src/host/extension";
import { waitForWorkbench } from "./driver";

describe("native tools in an untrusted workspace", () => {
  it("refuse to run llama-quantize and leave no output", async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const ext = vscode.extensions.getExtension<GgufStudioApi>("gguf-studio.gguf-studio");
    assert.ok(ext);
    const { context } = await ext.activate();
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const src = path.join(folder.uri.fsPath, "tiny-llama-f16.gguf");
    const out = path.join(folder.uri.fsPath, "untrusted-Q8_0.gguf");
    await assert.rejects(context.tools.run("llama-quantize", [src, out, "Q8_0"], { outputs: [out] }), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, "UntrustedWorkspaceError");
      assert.match(e.message, /trusted workspace/);
      return true;
    });
    assert.equal(fs.existsSync(out), false);
  });

  it("the quantize command refuses too, with a message naming workspace trust", async () => {
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder);
    const before = fs.readdirSync(folder.uri.fsPath).sort();
    // The command reports the refusal instead of opening the QuickPick flow, and returns nothing.
    const result = await vscode.commands.executeCommand("ggufStudio.quantizeModel", vscode.Uri.file(path.join(folder.uri.fsPath, "tiny-llama-f16.gguf")));
    assert.equal(result, undefined);
    await waitForWorkbench(".notifications-toasts", "only in a trusted workspace");
    assert.deepEqual(fs.readdirSync(folder.uri.fsPath).sort(), before, "no files written");
  });
});
