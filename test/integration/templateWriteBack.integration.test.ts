// Chat-template write-back in the real host: "Replace the original (keeps a backup)…" answered
// through its QuickPicks with key presses, and a GGUF without a template getting a starter.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufFile, writeGgufWithMetadata } from "../../src/core/gguf";
import { readGgufTemplates } from "../../src/core/templates/sources";
import { SAVE_TITLES } from "../../src/host/templates/templateCommands";
import { hasBrowserDriver, screenshot, waitForWebview, waitUntil, webviewClick, webviewText } from "./driver";
import { choose, waitForStep } from "./quickInput";

const KEY = "tokenizer.chat_template";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

async function tensorBytes(file: string): Promise<Buffer> {
  const info = await readGgufFile(file);
  return fs.readFileSync(file).subarray(info.tensorDataOffset);
}

describe("chat template write-back (real host)", function () {
  this.timeout(180_000);
  const made: string[] = [];
  after(() => {
    for (const p of made) fs.rmSync(p, { force: true });
  });

  it("a GGUF without a template opens a ChatML starter that saves into a new GGUF", async () => {
    const bare = workspaceFile("wb-no-template.gguf");
    const out = workspaceFile("wb-no-template.fixed.gguf");
    made.push(bare, out);
    await writeGgufWithMetadata({ input: workspaceFile("tiny-llama-f16.gguf"), output: bare, edits: { remove: [KEY] } });
    assert.equal((await readGgufTemplates(bare)).templates.size, 0);

    let uri: vscode.Uri;
    if (hasBrowserDriver()) {
      // As a user does it: the inspector's Chat template tab offers "Add a chat template…".
      await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(bare));
      const frame = `#inspector[data-state="ready"][data-file="${path.basename(bare)}"]`;
      await waitForWebview(frame, frame, { timeoutMs: 30_000 });
      await webviewClick(frame, "#tab-template");
      assert.match(await webviewText(frame, "#template-empty"), /no chat template/);
      await screenshot("inspector-template-add");
      await webviewClick(frame, "#template-add");
      uri = await waitUntil(() => { const u = vscode.window.activeTextEditor?.document.uri; return u?.scheme === "gguf-template" && u.path.includes(path.basename(bare)) ? u : undefined; }, "the template editor to open", 30_000);
    } else {
      uri = await vscode.commands.executeCommand<vscode.Uri>("ggufStudio.editChatTemplate", vscode.Uri.file(bare));
    }
    const doc = await vscode.workspace.openTextDocument(uri);
    await waitUntil(() => doc.getText().length > 0, "the ChatML starter to be inserted", 10_000);
    assert.match(doc.getText(), /<\|im_start\|>/, "the empty template gets a ChatML starter");
    const written = await vscode.commands.executeCommand<string>("ggufStudio.saveTemplateToGguf", uri, out);
    assert.equal(written, out);
    assert.equal((await readGgufTemplates(out)).templates.get(KEY), doc.getText());
    assert.ok((await tensorBytes(out)).equals(await tensorBytes(bare)), "tensor data is byte-identical");
    await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor");
  });

  it("replaces the original after a QuickPick confirmation and keeps a byte-identical backup", async function () {
    if (!hasBrowserDriver()) this.skip(); // QuickPicks are answered by key presses through the browser driver
    const copy = workspaceFile("wb-tiny-llama.gguf");
    const backup = `${copy}.bak`;
    made.push(copy, backup);
    for (const p of [copy, backup]) fs.rmSync(p, { force: true });
    fs.copyFileSync(workspaceFile("tiny-llama-f16.gguf"), copy);
    const originalBytes = fs.readFileSync(copy);
    const originalTensors = await tensorBytes(copy);

    const uri = await vscode.commands.executeCommand<vscode.Uri>("ggufStudio.editChatTemplate", vscode.Uri.file(copy));
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await editor.edit((b) => b.insert(new vscode.Position(0, 0), "{#- edited by the write-back test -#}\n"));
    const edited = doc.getText();

    const run = vscode.commands.executeCommand<string | undefined>("ggufStudio.saveTemplateToGguf", uri);
    await choose(SAVE_TITLES.target, "Replace the original");
    const confirm = await waitForStep(SAVE_TITLES.confirmReplace);
    assert.match(confirm, /wb-tiny-llama\.gguf\.bak/, "the confirmation names the backup");
    await screenshot("template-replace-confirm");
    await choose(SAVE_TITLES.confirmReplace, "Replace wb");
    assert.equal(await run, copy);

    assert.ok(fs.readFileSync(backup).equals(originalBytes), "the backup holds the original bytes");
    assert.equal((await readGgufTemplates(copy)).templates.get(KEY), edited);
    assert.ok((await tensorBytes(copy)).equals(originalTensors), "tensor data is byte-identical");
    const leftovers = fs.readdirSync(path.dirname(copy)).filter((f) => f.startsWith(".wb-tiny-llama.gguf."));
    assert.deepEqual(leftovers, [], "no staged files left behind");
    await vscode.commands.executeCommand("workbench.action.revertAndCloseActiveEditor");
  });
});
