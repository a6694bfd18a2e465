// Runs in the "vsix" suite: gguf-studio comes from the packaged VSIX, installed with
// `code-server --install-extension` into a fresh extensions dir (the development extension is
// only the empty test/harness/vsix-probe). Proves the VSIX is complete: it activates, and its own
// bundled bin/ tools run from inside the installed folder.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import * as vscode from "vscode";
import { screenshot } from "../../integration/driver";

interface ToolReport {
  name: string;
  path?: string;
  source?: string;
  version?: string;
  problem?: string;
}

describe("installed VSIX", () => {
  it("is installed from the extensions dir, not the source checkout, and activates", async () => {
    const extension = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(extension, "gguf-studio.gguf-studio is not installed");
    assert.ok(!fs.existsSync(path.join(extension.extensionPath, "src")), `${extension.extensionPath} looks like a source checkout`);
    assert.ok(fs.existsSync(path.join(extension.extensionPath, "dist", "extension.js")));
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it("runs ggufStudio.showNativeTools with the four tools and the probe engine shipped inside the VSIX", async () => {
    const extension = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(extension);
    const reports = (await vscode.commands.executeCommand("ggufStudio.showNativeTools", { quiet: true })) as ToolReport[];
    assert.deepEqual(reports.map((r) => r.name).sort(), ["gguf-studio-probe", "llama-gguf-split", "llama-imatrix", "llama-perplexity", "llama-quantize"]);
    for (const r of reports) {
      assert.equal(r.problem, undefined, `${r.name}: ${r.problem}`);
      assert.equal(r.source, "bundled", `${r.name} comes from ${r.source}`);
      assert.ok(r.path?.startsWith(extension.extensionPath + path.sep), `${r.name} at ${r.path} is outside the installed extension`);
      assert.match(r.version ?? "", /build \d+/);
    }
    await screenshot("installed-vsix");
  });

  it("ships node-llama-cpp with only this platform's CPU prebuilt, and it loads", async () => {
    const extension = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(extension);
    const scoped = path.join(extension.extensionPath, "node_modules", "@node-llama-cpp");
    const prebuilt = fs.existsSync(scoped) ? fs.readdirSync(scoped) : [];
    assert.equal(prebuilt.length, 1, `expected one prebuilt package, found: ${prebuilt.join(", ")}`);
    assert.doesNotMatch(prebuilt[0], /cuda|vulkan/);
    // Load it from the installed folder the way the extension does (ESM, native addon, no build).
    const entry = pathToFileURL(path.join(extension.extensionPath, "node_modules", "node-llama-cpp", "dist", "index.js")).href;
    const nlc = (await import(entry)) as { getLlama(o: { gpu: false; build: "never"; logLevel?: unknown }): Promise<{ dispose(): Promise<void>; gpu: unknown }> };
    const llama = await nlc.getLlama({ gpu: false, build: "never" });
    assert.equal(llama.gpu, false);
    await llama.dispose();
  });
});
