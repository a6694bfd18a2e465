// The language-model tools in a real VS Code host (code-server 1.100), called the way a chat agent
// calls them: vscode.lm.invokeTool. Quantize asks for confirmation; outside the chat view the
// workbench shows that as a modal, answered here in the real browser.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { AGENT_TOOL_SPECS } from "../../src/core/agentTools";
import { readGgufModel, summarizeGguf } from "../../src/core/gguf";
import { hasBrowserDriver, screenshot, waitForWorkbench, workbenchClick } from "./driver";

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return folder.uri.fsPath;
}

async function invoke(name: string, input: object): Promise<string> {
  const tokenSource = new vscode.CancellationTokenSource();
  const result = await vscode.lm.invokeTool(name, { input, toolInvocationToken: undefined }, tokenSource.token);
  return result.content.map((p) => (p instanceof vscode.LanguageModelTextPart ? p.value : "")).join("");
}

/** Starts a quantize call, answers its confirmation modal with `button`, returns the call's outcome. */
async function quantizeAnswering(input: object, button: string, shot?: string): Promise<{ text?: string; error?: unknown }> {
  const call = invoke("gguf_quantize", input).then((text) => ({ text }), (error: unknown) => ({ error }));
  const dialog = await waitForWorkbench(".monaco-dialog-box", "Quantize with GGUF Studio?", 30_000);
  assert.match(dialog, /Quantize tiny-llama-f16\.gguf to Q8_0 into .*tiny-llama-f16-Q8_0\.gguf/);
  if (shot) await screenshot(shot);
  await workbenchClick(".monaco-dialog-box .monaco-button", button);
  return call;
}

describe("language-model tools (vscode.lm.invokeTool)", function () {
  this.timeout(180_000);
  const output = () => path.join(workspaceDir(), "tiny-llama-f16-Q8_0.gguf");
  before(async () => {
    await vscode.extensions.getExtension("gguf-studio.gguf-studio")?.activate();
    fs.rmSync(output(), { force: true });
  });
  after(() => fs.rmSync(output(), { force: true }));

  it("the five tools are registered with their schemas", () => {
    for (const spec of AGENT_TOOL_SPECS) {
      const tool = vscode.lm.tools.find((t) => t.name === spec.name);
      assert.ok(tool, `${spec.name} is registered`);
      assert.deepEqual(tool.inputSchema, spec.inputSchema);
      assert.ok(tool.tags.includes("gguf"));
    }
  });

  it("gguf_inspect summarizes the fixture with its tensor-type table", async () => {
    const text = await invoke("gguf_inspect", { path: "tiny-llama-f16.gguf" });
    const s = summarizeGguf(await readGgufModel(path.join(workspaceDir(), "tiny-llama-f16.gguf")));
    assert.match(text, new RegExp(`- parameters: ${s.parameterCount.toLocaleString("en-US")}`));
    assert.match(text, /- chat template: default/);
    for (const h of s.typeHistogram) assert.match(text, new RegExp(`\\| ${h.typeName} \\| ${h.tensorCount} \\|`));
  });

  it("gguf_check_chat_template lints the model's template against the configured engines", async () => {
    const text = await invoke("gguf_check_chat_template", { path: "tiny-llama-f16.gguf", mode: "lint" });
    assert.match(text, /## tokenizer\.chat_template: \d+ finding\(s\), 0 error\(s\)/);
    assert.match(text, /engines: [^\n]*llama\.cpp/);
  });

  it("gguf_estimate_quant_size asks llama-quantize --dry-run in a trusted workspace", async () => {
    const text = await invoke("gguf_estimate_quant_size", { model: "tiny-llama-f16.gguf", type: "Q4_K_M" });
    assert.match(text, /^Q4_K_M of tiny-llama-f16\.gguf: about [\d.]+ MiB \([\d.]+ bpw\)/);
    assert.match(text, /method: llama-quantize --dry-run/);
  });

  it("gguf_list_models lists the workspace's models", async () => {
    const text = await invoke("gguf_list_models", { filter: "tiny" });
    assert.ok(text.includes(path.join(workspaceDir(), "tiny-llama-f16.gguf")), text);
    assert.ok(text.includes(path.join(workspaceDir(), "tiny-moe-f16.gguf")), text);
  });

  it("a path outside the workspace and the model folders is refused with the reason", async () => {
    await assert.rejects(invoke("gguf_inspect", { path: "/etc/hostname" }), /Refused \(outside-roots\): Model \/etc\/hostname is outside the workspace and the model folders/);
    await assert.rejects(invoke("gguf_estimate_quant_size", { model: "../../outside.gguf", type: "Q8_0" }), /outside the workspace/);
  });

  it("gguf_quantize asks first; declined, nothing is written", async function () {
    if (!hasBrowserDriver()) this.skip(); // the modal needs the browser driver
    const r = await quantizeAnswering({ model: "tiny-llama-f16.gguf", type: "Q8_0" }, "Cancel", "lm-tool-quantize-confirmation");
    assert.ok(r.error instanceof Error, "declining rejects the call");
    assert.equal(fs.existsSync(output()), false);
  });

  it("gguf_quantize, confirmed, writes a verified Q8_0 model", async function () {
    if (!hasBrowserDriver()) this.skip();
    const r = await quantizeAnswering({ model: "tiny-llama-f16.gguf", type: "Q8_0" }, "Yes");
    assert.equal(r.error, undefined, String(r.error));
    assert.match(r.text ?? "", /Quantized tiny-llama-f16\.gguf to .*tiny-llama-f16-Q8_0\.gguf/);
    const model = await readGgufModel(output());
    assert.equal(model.tensors.filter((t) => t.typeName === "Q8_0").length, 44);
  });
});
