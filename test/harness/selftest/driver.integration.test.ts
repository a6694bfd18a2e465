// Self-test of the browser driver, run in the integration suite: a throw-away webview and real
// workbench widgets prove that tests can read, fill and click inside webview frames, answer
// QuickPicks and input boxes with keys, read notifications, and save screenshots.
import assert from "node:assert/strict";
import fs from "node:fs";
import * as vscode from "vscode";
import {
  hasBrowserDriver,
  pressKeys,
  screenshot,
  typeText,
  waitForWebview,
  waitForWorkbench,
  webviewAttribute,
  webviewClick,
  webviewEval,
  webviewFill,
  webviewText,
} from "../../integration/driver";

const FRAME = "#driver-selftest";

function selftestHtml(nonce: string): string {
  return `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'nonce-${nonce}';">
<title>driver self-test</title></head>
<body><main id="driver-selftest" data-state="ready">
<input id="name"><button id="go">Greet</button><p id="out"></p>
</main>
<script nonce="${nonce}">
document.getElementById("go").addEventListener("click", () => {
  document.getElementById("out").textContent = "hello " + document.getElementById("name").value;
  document.getElementById("driver-selftest").dataset.state = "greeted";
});
</script></body></html>`;
}

describe("browser driver (harness self-test)", function () {
  before(function () {
    if (!hasBrowserDriver()) this.skip();
  });

  it("reads, fills and clicks inside a webview frame", async () => {
    const panel = vscode.window.createWebviewPanel("ggufStudioDriverSelftest", "Driver self-test", vscode.ViewColumn.One, { enableScripts: true });
    try {
      panel.webview.html = selftestHtml(Math.random().toString(36).slice(2));
      await waitForWebview(FRAME);
      await webviewFill(FRAME, "#name", "gguf");
      await webviewClick(FRAME, "#go");
      assert.equal(await webviewText(FRAME, "#out"), "hello gguf");
      assert.equal(await webviewAttribute(FRAME, FRAME, "data-state"), "greeted");
      assert.equal(await webviewEval<number>(FRAME, "document.querySelectorAll('button').length"), 1);
      const file = await screenshot("driver-selftest");
      assert.ok(file && fs.statSync(file).size > 0);
    } finally {
      panel.dispose();
    }
  });

  it("answers a QuickPick and an input box with keys typed in the workbench", async () => {
    const picked = vscode.window.showQuickPick(["alpha", "beta", "gamma"], { placeHolder: "driver self-test" });
    await waitForWorkbench(".quick-input-widget", "gamma");
    await typeText("bet");
    await pressKeys("Enter");
    assert.equal(await picked, "beta");

    const typed = vscode.window.showInputBox({ prompt: "driver self-test input" });
    await waitForWorkbench(".quick-input-widget", "driver self-test input");
    await typeText("Q4_K_M");
    await pressKeys("Enter");
    assert.equal(await typed, "Q4_K_M");
  });

  it("reads notification text from the workbench", async () => {
    void vscode.window.showInformationMessage("driver self-test notification");
    const text = await waitForWorkbench(".notifications-toasts .notification-list-item", "driver self-test notification");
    assert.match(text, /driver self-test notification/);
    await vscode.commands.executeCommand("notifications.clearAll");
  });
});
