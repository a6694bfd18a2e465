// The language-model tools in restricted mode: reading tools work, quantize never runs a native
// tool (no confirmation is even asked), template linting uses the JavaScript engine only.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { workbenchText } from "./driver";

async function invoke(name: string, input: object): Promise<string> {
  const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined }, new vscode.CancellationTokenSource().token);
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : "")).join("");
}

describe("language-model tools in an untrusted workspace", function () {
  this.timeout(60_000);
  before(async () => {
    assert.equal(vscode.workspace.isTrusted, false);
    await vscode.extensions.getExtension("gguf-studio.gguf-studio")?.activate();
  });

  it("gguf_inspect still reads the header", async () => {
    assert.match(await invoke("gguf_inspect", { path: "tiny-llama-f16.gguf" }), /- architecture: llama/);
  });

  it("gguf_quantize is refused without a confirmation and writes nothing", async () => {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? "";
    const before = fs.readdirSync(folder).sort();
    await assert.rejects(invoke("gguf_quantize", { model: "tiny-llama-f16.gguf", type: "Q8_0" }), /Refused \(native-not-allowed\): GGUF Studio runs llama.cpp tools only in a trusted workspace/);
    assert.deepEqual(fs.readdirSync(folder).sort(), before);
    assert.equal(fs.existsSync(path.join(folder, "tiny-llama-f16-Q8_0.gguf")), false);
    const dialogs = await workbenchText(".monaco-dialog-box").catch(() => []);
    assert.deepEqual(dialogs, [], "no confirmation was shown");
  });

  it("gguf_estimate_quant_size answers from the resolver, not llama-quantize", async () => {
    assert.match(await invoke("gguf_estimate_quant_size", { model: "tiny-llama-f16.gguf", type: "Q8_0" }), /llama\.cpp tools do not run here/);
  });

  it("gguf_check_chat_template lints with the JavaScript engine only", async () => {
    assert.match(await invoke("gguf_check_chat_template", { path: "tiny-llama-f16.gguf", mode: "lint" }), /engines: hf-jinja\b(?! ,)/);
  });
});
