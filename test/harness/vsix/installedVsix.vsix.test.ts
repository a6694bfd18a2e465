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

describe("installed VSIX contents", () => {
  it("holds no package esbuild bundles: node_modules is node-llama-cpp and its dependencies only", () => {
    const extension = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(extension);
    const modules = path.join(extension.extensionPath, "node_modules");
    const read = (dir: string, name: string) => JSON.parse(fs.readFileSync(path.join(dir, name, "package.json"), "utf8")) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    // The closure of node-llama-cpp's dependencies, as installed: each dependency resolved the way
    // Node does (nearest node_modules upwards), so nested copies of other versions count too.
    const seen = new Set<string>();
    const needed = new Set<string>();
    const visit = (name: string, from: string): void => {
      // The next node_modules folder up (a scoped package sits one level deeper).
      const up = (dir: string): string => {
        let d = path.dirname(dir);
        while (path.basename(d) !== "node_modules" && d.length > modules.length) d = path.dirname(d);
        return d;
      };
      for (let dir = from; dir.startsWith(modules); dir = dir === modules ? "" : up(dir)) {
        const at = path.join(dir, name);
        if (!fs.existsSync(path.join(at, "package.json"))) continue;
        if (seen.has(at)) return;
        seen.add(at);
        if (dir === modules) needed.add(name);
        const pkg = read(dir, name);
        for (const dep of [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]) visit(dep, path.join(at, "node_modules"));
        return;
      }
      // Not installed: an optional prebuilt for another platform.
    };
    visit("node-llama-cpp", modules);
    const top = fs.readdirSync(modules).filter((n) => !n.startsWith(".")).flatMap((n) => (n.startsWith("@") ? fs.readdirSync(path.join(modules, n)).map((m) => `${n}/${m}`) : [n]));
    const extra = top.filter((n) => !needed.has(n));
    assert.deepEqual(extra, [], `packages in the VSIX that node-llama-cpp does not need: ${extra.join(", ")}`);
    for (const bundled of ["@modelcontextprotocol/sdk", "@huggingface/gguf", "zod"]) assert.ok(!top.includes(bundled), bundled);
  });

  it("its gguf-studio CLI serves MCP from the installed folder", async () => {
    const extension = vscode.extensions.getExtension("gguf-studio.gguf-studio");
    assert.ok(extension);
    const { spawnSync } = await import("node:child_process");
    const requests = [
      { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "vsix-test", version: "1" } } },
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 2, method: "tools/list" },
    ].map((r) => JSON.stringify(r)).join("\n") + "\n";
    const r = spawnSync(process.execPath, [path.join(extension.extensionPath, "dist", "cli.js"), "mcp", "--no-caches"], { input: requests, encoding: "utf8", timeout: 30_000, env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" } });
    assert.equal(r.status, 0, r.stderr);
    const replies = r.stdout.trim().split("\n").map((l) => JSON.parse(l) as { id: number; result?: { tools?: { name: string }[] } });
    assert.deepEqual(replies.find((x) => x.id === 2)?.result?.tools?.map((t) => t.name), ["gguf_inspect", "gguf_check_chat_template", "gguf_estimate_quant_size", "gguf_list_models", "gguf_quantize"]);
  });
});
