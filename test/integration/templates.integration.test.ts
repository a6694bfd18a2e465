// Chat templates in the real host: open the tiny-llama fixture's template, break it, see the
// diagnostic, apply the verified quick fix, save into a new GGUF, and check that file.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufFile } from "../../src/core/gguf";
import { readGgufTemplates } from "../../src/core/templates/sources";
import { hasBrowserDriver, screenshot } from "./driver";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const codeOf = (d: vscode.Diagnostic) => (typeof d.code === "object" ? String(d.code.value) : String(d.code));

async function tensorBytes(file: string): Promise<Buffer> {
  const info = await readGgufFile(file);
  return fs.readFileSync(file).subarray(info.tensorDataOffset);
}

describe("chat templates (real host)", function () {
  this.timeout(180_000);
  const source = () => workspaceFile("tiny-llama-f16.gguf");
  const output = () => workspaceFile("tiny-llama-f16-fixed-template.gguf");

  after(() => fs.rmSync(output(), { force: true }));

  it("lints a broken GGUF template, applies the verified fix and saves it into a new GGUF", async () => {
    const original = (await readGgufTemplates(source())).templates.get("tokenizer.chat_template");
    assert.ok(original?.includes("message['content']"), "the fixture carries a ChatML template");

    const uri = await vscode.commands.executeCommand<vscode.Uri>("ggufStudio.editChatTemplate", vscode.Uri.file(source()));
    assert.ok(uri, "editChatTemplate returns the template document's uri");
    const doc = await vscode.workspace.openTextDocument(uri);
    assert.equal(doc.getText(), original);
    assert.equal(doc.languageId, "jinja-chat-template");

    // Break it the DeepSeek-V3.1 way: split with maxsplit, which minja cannot call.
    const editor = await vscode.window.showTextDocument(doc);
    const at = doc.getText().indexOf("message['content']") + "message['content']".length;
    await editor.edit((b) => b.insert(doc.positionAt(at), ".split('x', 1)[0]"));

    const diagnostic = await waitFor("the split-maxsplit diagnostic", () =>
      vscode.languages.getDiagnostics(uri).find((d) => codeOf(d) === "compat/split-maxsplit"),
    );
    assert.ok(doc.getText(diagnostic.range).startsWith("split('x', 1)"), `diagnostic range covers the call: "${doc.getText(diagnostic.range)}"`);
    if (hasBrowserDriver()) {
      await vscode.commands.executeCommand("workbench.actions.view.problems");
      await new Promise((r) => setTimeout(r, 500));
      await screenshot("templates-problems");
    }

    const actions = await vscode.commands.executeCommand<vscode.CodeAction[]>("vscode.executeCodeActionProvider", uri, diagnostic.range);
    const fix = actions.find((a) => a.title.startsWith("Rewrite split(sep, 1)"));
    assert.ok(fix?.edit, `a split fix is offered among: ${actions.map((a) => a.title).join(" | ")}`);
    assert.equal(fix.isPreferred, true, `the fix verifies as safe: ${fix.title}`);
    assert.ok(await vscode.workspace.applyEdit(fix.edit));
    assert.ok(doc.getText().includes("message['content'].split('x')[0]"), doc.getText());
    await waitFor("the diagnostic to clear", () =>
      vscode.languages.getDiagnostics(uri).some((d) => codeOf(d) === "compat/split-maxsplit") ? undefined : true,
    );

    const written = await vscode.commands.executeCommand<string>("ggufStudio.saveTemplateToGguf", uri, output());
    assert.equal(written, output());
    const saved = await readGgufTemplates(output());
    assert.equal(saved.templates.get("tokenizer.chat_template"), doc.getText());
    assert.ok((await tensorBytes(output())).equals(await tensorBytes(source())), "tensor data is byte-identical");
    assert.equal((await readGgufTemplates(source())).templates.get("tokenizer.chat_template"), original, "the source GGUF is untouched");
  });
});
