// The language-model tools in a real VS Code host (code-server 1.100), called the way a chat agent
// calls them: vscode.lm.invokeTool. Quantize asks for confirmation (prepareInvocation); outside a chat
// the workbench asks with a modal, which its test mode answers "yes" by itself.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { AGENT_TOOL_SPECS } from "../../src/core/agentTools";
import { readGgufModel, summarizeGguf } from "../../src/core/gguf";
import type { GgufStudioApi } from "../../src/host/extension";

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

async function api(): Promise<GgufStudioApi> {
  const ext = vscode.extensions.getExtension<GgufStudioApi>("gguf-studio.gguf-studio");
  assert.ok(ext);
  return ext.activate();
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

  it("gguf_quantize asks for confirmation, naming the model, type and output", async () => {
    const tool = (await api()).languageModelTools.get("gguf_quantize");
    assert.ok(tool?.prepareInvocation);
    const token = new vscode.CancellationTokenSource().token;
    const prepared = await tool.prepareInvocation({ input: { model: "tiny-llama-f16.gguf", type: "Q8_0" } }, token);
    assert.equal(prepared?.confirmationMessages?.title, "Quantize with GGUF Studio?");
    const message = prepared?.confirmationMessages?.message;
    const text = typeof message === "string" ? message : "";
    assert.match(text, /Quantize tiny-llama-f16\.gguf to Q8_0 into .*tiny-llama-f16-Q8_0\.gguf/);
    // The reading tools need no confirmation.
    const inspect = await (await api()).languageModelTools.get("gguf_inspect")?.prepareInvocation?.({ input: { path: "tiny-llama-f16.gguf" } }, token);
    assert.equal(inspect?.confirmationMessages, undefined);
  });

  it("gguf_quantize cancelled through its token leaves no output and no temp file", async () => {
    const before = fs.readdirSync(workspaceDir()).sort();
    const source = new vscode.CancellationTokenSource();
    const call = vscode.lm.invokeTool("gguf_quantize", { input: { model: "tiny-llama-f16.gguf", type: "Q8_0" }, toolInvocationToken: undefined }, source.token);
    setTimeout(() => source.cancel(), 150);
    await assert.rejects(Promise.resolve(call));
    assert.deepEqual(fs.readdirSync(workspaceDir()).sort(), before);
  });

  it("gguf_quantize runs llama-quantize and writes a verified Q8_0 model", async () => {
    // The test workbench answers confirmations itself ("refused to show confirmation dialog in
    // tests": confirmed), so the call goes straight through after prepareInvocation.
    const text = await invoke("gguf_quantize", { model: "tiny-llama-f16.gguf", type: "Q8_0" });
    assert.match(text, /Quantized tiny-llama-f16\.gguf to .*tiny-llama-f16-Q8_0\.gguf/);
    assert.match(text, /- sha256: [0-9a-f]{64}/);
    const model = await readGgufModel(output());
    assert.equal(model.tensors.filter((t) => t.typeName === "Q8_0").length, 44);
    await assert.rejects(invoke("gguf_quantize", { model: "tiny-llama-f16.gguf", type: "Q8_0" }), /already exists/);
  });
});
