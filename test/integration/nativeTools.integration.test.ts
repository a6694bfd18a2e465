import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufModel } from "../../src/core/gguf";
import type { GgufStudioApi } from "../../src/host/extension";
import type { NativeToolReport } from "../../src/host/commands/nativeToolsCommands";

async function api(): Promise<GgufStudioApi> {
  const ext = vscode.extensions.getExtension<GgufStudioApi>("gguf-studio.gguf-studio");
  assert.ok(ext, "extension gguf-studio.gguf-studio is installed");
  return ext.activate();
}

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

describe("native tools in the extension host", () => {
  it("Show Native Tools lists the four llama.cpp tools and the probe engine, working, with versions and backend", async () => {
    const reports = (await vscode.commands.executeCommand("ggufStudio.showNativeTools", { quiet: true })) as NativeToolReport[];
    assert.deepEqual(reports.map((r) => r.name), ["llama-quantize", "llama-imatrix", "llama-perplexity", "llama-gguf-split", "gguf-studio-probe"]);
    for (const r of reports) {
      assert.equal(r.problem, undefined, `${r.name}: ${r.problem}`);
      assert.ok(r.path && fs.existsSync(r.path), `${r.name} path exists`);
      assert.match(r.version ?? "", /build \d+, commit/);
      assert.equal(r.source, "bundled");
      assert.equal(r.backend, "cpu");
    }
  });

  it("a quantization through the extension's tool runner turns the tiny fixture into a valid Q8_0 GGUF", async () => {
    const { context } = await api();
    const src = workspaceFile("tiny-llama-f16.gguf");
    const out = workspaceFile("runner-smoke-Q8_0.gguf");
    fs.rmSync(out, { force: true });
    const before = fs.statSync(src).mtimeMs;
    const progress: number[] = [];
    await context.tools.run("llama-quantize", [src, out, "Q8_0", "2"], {
      outputs: [out],
      parseProgress: (line) => {
        const m = /^\[\s*(\d+)\/\s*(\d+)\]/.exec(line);
        return m ? { fraction: Number(m[1]) / Number(m[2]), message: line } : undefined;
      },
      onProgress: (p) => progress.push(p.fraction ?? 0),
    });
    const model = await readGgufModel(out);
    const matrices = model.tensors.filter((t) => t.shape.length > 1);
    assert.ok(matrices.length > 0);
    assert.ok(matrices.every((t) => t.typeName === "Q8_0"), "every 2-D tensor is Q8_0");
    assert.ok(model.tensors.filter((t) => t.shape.length === 1).every((t) => t.typeName === "F32"), "1-D tensors stay F32");
    assert.equal(progress.at(-1), 1);
    assert.equal(fs.statSync(src).mtimeMs, before, "source untouched");
    fs.rmSync(out, { force: true });
  });

  it("cancelling a run kills llama-quantize and leaves no output file", async () => {
    const { context } = await api();
    const src = workspaceFile("tiny-moe-f16.gguf");
    const out = workspaceFile("runner-cancel-Q4_K_M.gguf");
    const cts = new vscode.CancellationTokenSource();
    const run = context.tools.run("llama-quantize", [src, out, "Q4_K_M", "1"], {
      token: cts.token,
      outputs: [out],
      onLine: (line) => {
        if (/^\[\s*2\//.test(line)) cts.cancel();
      },
    });
    // The test bundle has its own copy of the error classes, so compare by name.
    await assert.rejects(run, (e: unknown) => e instanceof Error && e.name === "ToolCancelledError");
    assert.equal(fs.existsSync(out), false);
    cts.dispose();
  });
});
