// Data safety in a real VS Code host: temp files of interrupted runs are never listed as models and
// are offered for removal behind a modal; saving a template over an existing file asks first and,
// declined, leaves the file untouched.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import type { ModelsSnapshot } from "../../src/host/views/modelsTreeTypes";
import { hasBrowserDriver, screenshot, waitForWorkbench, workbenchClick } from "./driver";

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return folder.uri.fsPath;
}

function deadPid(): number {
  const r = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8", env: { ...process.env, ELECTRON_RUN_AS_NODE: "1" } });
  return Number(r.stdout);
}

async function workspaceSource(): Promise<ModelsSnapshot["sources"][number]> {
  const snapshot = await vscode.commands.executeCommand<ModelsSnapshot>("ggufStudio.refreshModels");
  const ws = snapshot.sources.find((s) => s.kind === "workspace");
  assert.ok(ws, "the workspace folder is a source");
  return ws;
}

/** Runs a command that may show a modal: clicks `button` in it when a browser shows one; a host that refuses modals answers Cancel by itself. */
async function answerModal<T>(run: Thenable<T>, button: string, shot: string): Promise<{ result: T; shown: boolean }> {
  let shown = false;
  if (hasBrowserDriver()) {
    const dialog = await Promise.race([
      waitForWorkbench(".monaco-dialog-box", undefined, 20_000).then(() => true, () => false),
      Promise.resolve(run).then(() => false),
    ]);
    if (dialog) {
      shown = true;
      await screenshot(shot);
      await workbenchClick(".monaco-dialog-box .monaco-button", button);
    }
  }
  return { result: await run, shown };
}

describe("Data safety in the extension", function () {
  this.timeout(120_000);
  const made: string[] = [];
  after(() => { for (const p of made) fs.rmSync(p, { force: true }); });

  it("the Models view lists temp files of a dead process as leftovers, never as models, and deletes them after a modal", async () => {
    const pid = deadPid();
    const stale = [
      path.join(workspaceDir(), `.ghost.gguf.gguf-studio-${pid}-0a1b2c3d.partial.gguf`),
      path.join(workspaceDir(), `.ghost-Q4_K_M.partial-${pid}-abcdef.gguf`),
    ];
    for (const p of stale) fs.copyFileSync(path.join(workspaceDir(), "tiny-llama-f16.gguf"), p);
    made.push(...stale);
    const ws = await workspaceSource();
    for (const m of ws.models) for (const s of m.shards) assert.ok(!path.basename(s).includes("ghost"), `temp file listed as a model: ${s}`);
    assert.deepEqual([...ws.staleTemps].sort(), [...stale].sort());

    const { result, shown } = await answerModal(vscode.commands.executeCommand<string[]>("ggufStudio.sweepTempFiles"), "Delete", "datasafety-sweep-modal");
    if (shown) {
      assert.deepEqual([...(result ?? [])].sort(), [...stale].sort());
      for (const p of stale) assert.equal(fs.existsSync(p), false, `${p} removed`);
      assert.deepEqual((await workspaceSource()).staleTemps, []);
    } else {
      assert.deepEqual(result ?? [], [], "without an answer nothing is deleted");
      for (const p of stale) assert.ok(fs.existsSync(p));
    }
    assert.ok(fs.existsSync(path.join(workspaceDir(), "tiny-llama-f16.gguf")), "the model itself is untouched");
  });

  it("saving a template over an existing file asks in a modal; declined, the file keeps its bytes", async () => {
    const existing = path.join(workspaceDir(), "ds-existing.gguf");
    fs.writeFileSync(existing, "not to be replaced");
    made.push(existing);
    const uri = await vscode.commands.executeCommand<vscode.Uri>("ggufStudio.editChatTemplate", vscode.Uri.file(path.join(workspaceDir(), "tiny-llama-f16.gguf")));
    const run = vscode.commands.executeCommand<string | undefined>("ggufStudio.saveTemplateToGguf", uri, existing);
    const { result, shown } = await answerModal(run, "Cancel", "datasafety-overwrite-modal");
    assert.equal(result, undefined, `declined (${shown ? "clicked Cancel" : "modal refused by the host"}): nothing written`);
    assert.equal(fs.readFileSync(existing, "utf8"), "not to be replaced");
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  });
});
