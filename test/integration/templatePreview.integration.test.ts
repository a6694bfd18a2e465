// The chat-template preview in the real host: tiny-llama's template rendered by every engine
// side by side, token counts from the model's vocabulary, special tokens marked, and a
// conversation switch through the dropdown.
import assert from "node:assert/strict";
import path from "node:path";
import * as vscode from "vscode";
import type { TemplatePreviewPanel } from "../../src/host/templates/templatePreviewPanel";
import { hasBrowserDriver, screenshot, waitForWebview, webviewClick, webviewEval } from "./driver";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

interface ColumnView {
  engine: string;
  text: string;
  tokens: string | undefined;
  marks: number;
  failed: boolean;
}

const frameOf = (conversation: string) => `#template-preview-root[data-conversation="${conversation}"]`;
const readColumns = (frame: string) =>
  webviewEval<ColumnView[]>(frame, `[...document.querySelectorAll(".column")].map((c) => ({
    engine: c.dataset.engine, text: c.querySelector("pre").textContent, tokens: c.querySelector(".count").dataset.tokens,
    marks: c.querySelectorAll('mark.special').length, failed: c.classList.contains("failed") }))`);

describe("chat template preview (real host)", function () {
  this.timeout(180_000);
  let opened: TemplatePreviewPanel | undefined;
  after(() => opened?.dispose());

  it("renders tiny-llama's template per engine with token counts and special tokens, and follows the conversation dropdown", async () => {
    const uri = await vscode.commands.executeCommand<vscode.Uri>("ggufStudio.editChatTemplate", vscode.Uri.file(workspaceFile("tiny-llama-f16.gguf")));
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const panel = await vscode.commands.executeCommand<TemplatePreviewPanel | undefined>("ggufStudio.previewTemplate");
    assert.ok(panel, "previewTemplate opens a panel for the active template");
    opened = panel;
    await panel.whenRendered();
    const state = panel.lastState;
    assert.ok(state, "the panel rendered");
    assert.equal(state.conversation, "plain");
    assert.ok("source" in state.vocabulary, `token counts come from the GGUF: ${JSON.stringify(state.vocabulary)}`);
    const native = state.columns.find((c) => c.engine === "llama.cpp");
    assert.ok(native?.ok, `llama.cpp renders: ${native?.text}`);
    assert.ok((native.tokenCount ?? 0) > 0, "llama.cpp column has a token count");
    assert.ok(state.specialTokens.includes("<|im_end|>"), `special tokens: ${state.specialTokens.join(" ")}`);
    const rendered = state.columns.filter((c) => c.ok);
    for (const c of rendered) assert.ok(c.text.includes("<|im_start|>"), `${c.engine} renders ChatML`);

    if (!hasBrowserDriver()) return;
    const plain = frameOf("plain");
    await waitForWebview(`${plain} .column`, plain, { timeoutMs: 30_000 });
    const columns = await readColumns(plain);
    assert.deepEqual(columns.map((c) => c.engine), ["llama.cpp", "minja", "hf-jinja", "jinja2"]);
    for (const c of columns.filter((x) => !x.failed)) {
      assert.ok(c.text.includes("<|im_start|>"), `${c.engine} column shows the rendered prompt: ${c.text}`);
      assert.ok(c.marks > 0, `${c.engine} column marks special tokens`);
    }
    for (const engine of rendered.map((c) => c.engine)) assert.ok(!columns.find((c) => c.engine === engine)?.failed, `${engine} column is not failed`);
    const nativeView = columns.find((c) => c.engine === "llama.cpp");
    assert.ok(Number(nativeView?.tokens) > 0, `llama.cpp token count shown: ${nativeView?.tokens}`);
    await screenshot("template-preview");

    await webviewClick(plain, "#conversation");
    await webviewClick(plain, '#conversation vscode-option[value="system"]');
    const system = frameOf("system");
    await waitForWebview(`${system} .column`, system, { timeoutMs: 30_000 });
    const switched = await readColumns(system);
    const before = columns.find((c) => c.engine === "llama.cpp")?.text;
    const after = switched.find((c) => c.engine === "llama.cpp")?.text;
    assert.notEqual(after, before, "the rendered text changes with the conversation");
    assert.ok(after?.includes("You are a helpful assistant."), after);
  });
});
