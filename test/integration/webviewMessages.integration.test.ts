// A hostile page inside the inspector webview: messages go through the very function the page's
// acquireVsCodeApi().postMessage calls (the webview host frame's __vscode_post_message__), with
// unknown types, malformed fields and path-like payloads. The host refuses each with a logged
// warning, and none of them writes a file or runs a tool.
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import * as vscode from "vscode";
import type { GgufStudioApi } from "../../src/host/extension";
import { hasBrowserDriver, screenshot, waitForWebview, waitUntil, webviewEval } from "./driver";

function workspaceFile(name: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, "a workspace folder is open");
  return path.join(folder.uri.fsPath, name);
}

/** Every file under `dir` with its size and mtime, to prove nothing was written. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const p = path.join(e.parentPath, e.name);
    const s = fs.statSync(p);
    out.set(p, `${s.size}:${s.mtimeMs}`);
  }
  return out;
}

const HOSTILE: unknown[] = [
  { type: "runTool", tool: "llama-quantize", args: ["/etc/passwd"] },
  { type: "writeFile", path: "../../pwned.txt", data: "x" },
  { type: "quantize", source: "tiny-llama-f16.gguf", output: "pwned.gguf" },
  { type: "__proto__" },
  { type: "constructor" },
  { type: "export", table: "../../../pwned", format: "csv" },
  { type: "export", table: "summary", format: "sh" },
  { type: "export", table: "summary", format: "csv", target: "/tmp/pwned.csv" },
  { type: "requestTensors", requestId: "1", offset: -5, count: 1e12 },
  { type: "requestArrayPage", requestId: 1, key: { toString: "x" }, offset: 0, count: 1, query: "" },
  { type: "copyText", text: 42, what: "x" },
  { type: "editChatTemplate", key: ["tokenizer.chat_template"] },
  { type: "reload", force: true },
  "ready",
  null,
  [{ type: "ready" }],
];

/** Posts each message as the inspector page's own vscode.postMessage would (run in the webview host frame). */
function post(messages: readonly unknown[]): Promise<unknown> {
  return webviewEval(HOST_FRAME, `(() => {
    const content = document.getElementById("active-frame").contentDocument;
    if (!content || !content.querySelector("#inspector")) throw new Error("this host frame does not hold the inspector");
    for (const message of ${JSON.stringify(messages)}) window.__vscode_post_message__("onmessage", { message });
    return true;
  })()`);
}

const HOST_FRAME = "iframe#active-frame";

describe("webview messages from a hostile page", function () {
  this.timeout(120_000);

  it("are refused with a warning each; none writes a file or runs a tool", async function () {
    if (!hasBrowserDriver()) this.skip();
    const ext = vscode.extensions.getExtension<GgufStudioApi>("gguf-studio.gguf-studio");
    assert.ok(ext);
    const { context } = await ext.activate();
    const model = workspaceFile("tiny-llama-f16.gguf");
    const folder = path.dirname(model);
    // One webview open, so the host frame found below is the inspector's.
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
    await vscode.commands.executeCommand("ggufStudio.inspectModel", vscode.Uri.file(model));
    const frame = `#inspector[data-state="ready"][data-file="${path.basename(model)}"]`;
    await waitForWebview(frame, frame, { timeoutMs: 30_000 });

    // Instrument the real host objects: any tool start and every warning are recorded.
    const warnings: string[] = [];
    const toolRuns: string[] = [];
    const log = context.log as { warn: (m: string, ...a: unknown[]) => void };
    const warn = log.warn.bind(log);
    const tools = context.tools as { run: (...a: unknown[]) => Promise<unknown>; runExecutable: (...a: unknown[]) => Promise<unknown> };
    const run = tools.run.bind(tools);
    const runExecutable = tools.runExecutable.bind(tools);
    log.warn = (m: string, ...a: unknown[]) => { warnings.push(m); warn(m, ...a); };
    tools.run = (...a: unknown[]) => { toolRuns.push(String(a[0])); return Promise.reject(new Error("no tool may run here")); };
    tools.runExecutable = (...a: unknown[]) => { toolRuns.push(String(a[0])); return Promise.reject(new Error("no tool may run here")); };
    const before = snapshot(folder);
    try {
      await post(HOSTILE);
      await waitUntil(() => warnings.filter((w) => w.startsWith("inspector: ignored")).length >= HOSTILE.length || undefined, `${HOSTILE.length} refusals to be logged`, 30_000);
      // A valid message through the same channel is still served (the inspector asks for it on load).
      const served = warnings.length;
      await post([{ type: "ready" }]);
      await waitForWebview(frame, frame, { timeoutMs: 30_000 });
      assert.equal(warnings.length, served, "a valid message is not refused");
    } finally {
      log.warn = warn;
      tools.run = run;
      tools.runExecutable = runExecutable;
    }
    const refusals = warnings.filter((w) => w.startsWith("inspector: ignored"));
    assert.equal(refusals.length, HOSTILE.length, refusals.join("\n"));
    assert.deepEqual(toolRuns, []);
    assert.deepEqual(snapshot(folder), before, "no file in the workspace was written");
    assert.equal(fs.existsSync(path.join(folder, "..", "..", "pwned.txt")), false);
    await screenshot("inspector-after-hostile-messages");
  });
});
