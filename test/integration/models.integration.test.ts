// The Models view in a real VS Code host: fixtures listed with architecture and file type, a split
// set made by llama-gguf-split grouped, watcher updates, opening a shard, Delete with confirmation.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import { readGgufModel, readGgufFile, summarizeGguf } from "../../src/core/gguf";
import type { GgufStudioApi } from "../../src/host/extension";
import type { ModelsSnapshot } from "../../src/host/views/modelsTreeTypes";
import { hasBrowserDriver, screenshot, waitForWebview, waitForWorkbench, waitUntil, webviewEval, workbenchClick, workbenchText } from "./driver";

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return folder.uri.fsPath;
}

async function extensionRoot(): Promise<string> {
  const ext = vscode.extensions.getExtension<GgufStudioApi>("gguf-studio.gguf-studio");
  assert.ok(ext);
  return (await ext.activate()).context.extensionRoot;
}

async function workspaceModels(): Promise<ModelsSnapshot["sources"][number]["models"]> {
  const snapshot = await vscode.commands.executeCommand<ModelsSnapshot>("ggufStudio.refreshModels");
  const ws = snapshot.sources.find((s) => s.kind === "workspace");
  assert.ok(ws, "the workspace folder is a source");
  return ws.models;
}

/** Labels of the rows the Models tree shows in the workbench. */
async function treeRows(): Promise<string[]> {
  return workbenchText(".part.sidebar .monaco-list-row");
}

describe("Models view", function () {
  this.timeout(120_000);
  let shards: string[] = [];

  before(async () => {
    const dir = path.join(workspaceDir(), "split");
    fs.mkdirSync(dir, { recursive: true });
    const tool = path.join(await extensionRoot(), "bin", `${process.platform}-${process.arch}-cpu`, "llama-gguf-split");
    const r = spawnSync(tool, ["--split", "--split-max-tensors", "20", path.join(workspaceDir(), "tiny-llama-f16.gguf"), path.join(dir, "tiny-split")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    shards = fs.readdirSync(dir).sort().map((f) => path.join(dir, f));
    assert.equal(shards.length, 3);
  });
  after(async () => {
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("lists the fixtures with architecture and file type, and groups the split set", async () => {
    const models = await workspaceModels();
    for (const name of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf"]) {
      const file = path.join(workspaceDir(), name);
      const m = models.find((x) => x.id === file);
      assert.ok(m, `${name} is listed`);
      const header = await readGgufFile(file);
      assert.equal(m.architecture, header.metadata.get("general.architecture")?.value);
      assert.equal(m.fileType, "F16");
      assert.equal(m.totalSize, fs.statSync(file).size);
    }
    const split = models.find((m) => m.isSplit);
    assert.ok(split, "the split set is one model");
    assert.deepEqual(split.shards, shards);
    assert.deepEqual(split.missingShards, []);
    assert.equal(split.totalSize, shards.reduce((s, p) => s + fs.statSync(p).size, 0));
    assert.equal(models.filter((m) => m.shards.some((s) => shards.includes(s))).length, 1, "no shard is listed on its own");

    if (!hasBrowserDriver()) return;
    await vscode.commands.executeCommand("workbench.view.extension.ggufStudio");
    await waitForWorkbench(".part.sidebar .monaco-list-row", "tiny-split (3 shards)", 30_000);
    await workbenchClick(".part.sidebar .monaco-list-row", "tiny-split (3 shards)");
    await waitForWorkbench(".part.sidebar .monaco-list-row", "tiny-split-00003-of-00003.gguf", 20_000);
    const rows = await treeRows();
    for (const label of ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf", "tiny-split (3 shards)", ...shards.map((s) => path.basename(s))]) {
      assert.ok(rows.some((r) => r.includes(label)), `the tree shows ${label}: ${rows.join(" | ")}`);
    }
    assert.ok(rows.some((r) => r.includes("tiny-llama-f16.gguf") && r.includes("llama") && r.includes("F16")), "size · arch · file type");
    await screenshot("models-view");
  });

  it("follows files added and removed through its watcher", async function () {
    if (!hasBrowserDriver()) this.skip();
    await vscode.commands.executeCommand("workbench.view.extension.ggufStudio");
    await workspaceModels(); // scanned once; from here on only the watcher updates the tree
    const added = path.join(workspaceDir(), "added-later.gguf");
    fs.copyFileSync(path.join(workspaceDir(), "tiny-moe-f16.gguf"), added);
    await waitForWorkbench(".part.sidebar .monaco-list-row", "added-later.gguf", 30_000);
    fs.rmSync(added);
    await waitUntil(async () => !(await treeRows()).some((r) => r.includes("added-later.gguf")) || undefined, "the removed file to leave the tree", 30_000);
  });

  it("opening the second shard opens the whole split model", async function () {
    if (!hasBrowserDriver()) this.skip();
    const whole = summarizeGguf(await readGgufModel(path.join(workspaceDir(), "tiny-llama-f16.gguf")));
    await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(shards[1]));
    const frame = `#inspector[data-state="ready"][data-file="${path.basename(shards[1])}"]`;
    await waitForWebview(frame, frame, { timeoutMs: 30_000 });
    const f = await webviewEval<Record<string, string>>(frame, `Object.fromEntries([...document.querySelectorAll("[data-fact]")].map((e) => [e.dataset.fact, e.dataset.value]))`);
    assert.equal(Number(f["tensor-count"]), whole.tensorCount);
    assert.equal(Number(f["parameters"]), whole.parameterCount);
    assert.equal(Number(f["file-size"]), shards.reduce((s, p) => s + fs.statSync(p).size, 0));
    await screenshot("inspector-split-set");
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });

  it("Copy path puts the model's first shard on the clipboard", async () => {
    await vscode.env.clipboard.writeText("");
    const copied = await vscode.commands.executeCommand<string>("ggufStudio.copyModelPath", vscode.Uri.file(shards[0]));
    assert.equal(copied, shards[0]);
    assert.equal(await vscode.env.clipboard.readText(), shards[0]);
  });

  it("Reveal shows the model in the Explorer (a browser host has no OS file manager)", async function () {
    if (!hasBrowserDriver()) this.skip();
    await vscode.commands.executeCommand("ggufStudio.revealModel", vscode.Uri.file(shards[0]));
    const row = await waitForWorkbench(".explorer-folders-view .monaco-list-row.selected", path.basename(shards[0]), 20_000);
    assert.match(row, new RegExp(path.basename(shards[0]).replace(/\./g, "\\.")));
    await screenshot("models-reveal");
  });

  it("Delete names every shard in its confirmation and removes them all", async function () {
    if (!hasBrowserDriver()) this.skip();
    const deleting = vscode.commands.executeCommand<string[]>("ggufStudio.deleteModel", vscode.Uri.file(shards[1]));
    // The confirmation lists every shard before anything is removed.
    await waitForWorkbench(".quick-input-widget", "Move to Trash", 20_000);
    const listed = (await workbenchText(".quick-input-widget .monaco-list-row")).join("\n");
    for (const s of shards) assert.ok(listed.includes(path.basename(s)), `the confirmation names ${path.basename(s)}: ${listed}`);
    for (const s of shards) assert.ok(fs.existsSync(s), "nothing is removed before the answer");
    await screenshot("models-delete-confirmation");
    await workbenchClick(".quick-input-widget .monaco-list-row", "Move to Trash");
    // Hosts without a trash ask a second time before deleting for good.
    const second = await waitForWorkbench(".quick-input-widget", "Delete Permanently", 5_000).catch(() => undefined);
    if (second) await workbenchClick(".quick-input-widget .monaco-list-row", "Delete Permanently");
    const removed = await deleting;
    assert.deepEqual([...(removed ?? [])].sort(), shards);
    for (const s of shards) assert.equal(fs.existsSync(s), false, `${s} is gone`);
    const models = await workspaceModels();
    assert.equal(models.some((m) => m.isSplit), false);
    assert.ok(fs.existsSync(path.join(workspaceDir(), "tiny-llama-f16.gguf")), "the source model is untouched");
  });
});
