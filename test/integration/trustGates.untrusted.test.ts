// Restricted mode keeps what package.json's untrustedWorkspaces description promises: no
// llama.cpp tool runs (Show Native Tools only locates them), and no model file is written,
// replaced or deleted (Save template into GGUF, Delete model).
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { screenshot, waitForWorkbench } from "./driver";

interface ToolReport { name: string; path?: string; version?: string; problem?: string; notRun?: string }

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

describe("trust gates in an untrusted workspace", function () {
  this.timeout(60_000);
  const made: string[] = [];
  after(() => { for (const p of made) fs.rmSync(p, { force: true }); });

  it("the manifest promises what these tests check", () => {
    const ext = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(ext);
    const description = (ext.packageJSON as { capabilities: { untrustedWorkspaces: { description: string } } }).capabilities.untrustedWorkspaces.description;
    assert.match(description, /never runs llama\.cpp tools/);
    assert.match(description, /never writes, replaces or deletes model files/);
  });

  it("Show Native Tools locates the tools without running any of them", async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    const reports = (await vscode.commands.executeCommand("ggufStudio.showNativeTools", { quiet: true })) as ToolReport[];
    assert.equal(reports.length, 5, "the four llama.cpp tools and the probe engine");
    for (const r of reports) {
      // A version can only come from running the tool (`--version`).
      assert.equal(r.version, undefined, `${r.name} was run: ${r.version}`);
      if (!r.problem) assert.match(r.notRun ?? "", /untrusted workspace/, r.name);
    }
  });

  it("Save template into GGUF refuses and writes nothing", async () => {
    const source = workspaceFile("tiny-llama-f16.gguf");
    const out = workspaceFile("untrusted-template-out.gguf");
    made.push(out);
    const uri = await vscode.commands.executeCommand<vscode.Uri>("ggufStudio.editChatTemplate", vscode.Uri.file(source));
    assert.ok(uri, "reading the template is allowed in restricted mode");
    const before = fs.statSync(source);
    const result = await vscode.commands.executeCommand("ggufStudio.saveTemplateToGguf", uri, out);
    assert.equal(result, undefined);
    assert.equal(fs.existsSync(out), false, "no output written");
    assert.equal(fs.statSync(source).mtimeMs, before.mtimeMs, "the source is untouched");
    await waitForWorkbench(".notifications-toasts", "model files only in a trusted workspace");
    await screenshot("untrusted-save-template-refused");
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("Evaluate Accuracy refuses (node-llama-cpp would load the model's native code path)", async () => {
    const result = await vscode.commands.executeCommand("ggufStudio.evaluateAccuracy", {
      base: workspaceFile("tiny-llama-f16.gguf"), quants: [], set: path.resolve(__dirname, "../../../test/fixtures/code-mc/next-line.jsonl"), openChart: false,
    });
    assert.equal(result, undefined);
    await waitForWorkbench(".notifications-toasts", "only in a trusted workspace");
  });

  it("Delete model refuses and the file stays", async () => {
    const victim = workspaceFile("untrusted-delete-me.gguf");
    made.push(victim);
    fs.copyFileSync(workspaceFile("tiny-llama-f16.gguf"), victim);
    const result = await vscode.commands.executeCommand("ggufStudio.deleteModel", vscode.Uri.file(victim));
    assert.equal(result, undefined);
    assert.ok(fs.existsSync(victim), "the model was deleted in an untrusted workspace");
    await waitForWorkbench(".notifications-toasts", "model files only in a trusted workspace");
  });
});
