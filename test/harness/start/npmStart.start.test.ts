// `npm start` as a user runs it: a child process in its own process group (as a terminal's
// foreground job), the printed link opened in the harness's Chromium, the GGUF Studio view and the
// inspector on a sample model checked in the real workbench, then Ctrl-C (SIGINT to the group) and
// no process left. Runs in plain Node (it is the outside of the product), in the integration tier.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Browser, Frame, Page } from "playwright-core";
import { findFrame, launchChromium } from "../browser";
import { repoRoot, screenshotsDir } from "../paths";
import { descendants, listProcesses, stillRunning, type ProcessInfo } from "../processTree";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

interface Run {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function npmStart(args: string[]): Run {
  let output = "";
  // detached: its own process group, so SIGINT to the group is exactly what Ctrl-C in a terminal sends.
  const child = spawn(npm, ["start", "--", ...args], { cwd: repoRoot, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout?.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Resolves with the first match of `pattern` in the output; rejects if the process ends first. */
function waitForOutput(run: Run, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(run.output());
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${pattern} in npm start's output within ${timeoutMs / 1000} s:\n${run.output()}`));
    }, timeoutMs);
    const ended = () => {
      cleanup();
      reject(new Error(`npm start ended before printing ${pattern}:\n${run.output()}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      run.child.stdout?.off("data", check);
      run.child.stderr?.off("data", check);
      run.child.off("exit", ended);
    };
    run.child.stdout?.on("data", check);
    run.child.stderr?.on("data", check);
    run.child.on("exit", ended);
    check();
  });
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms / 1000} s`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Adds the processes now below `pid` to `seen` (so ones that come and go are still remembered). */
function rememberTree(pid: number, seen: Map<number, ProcessInfo>): void {
  for (const p of descendants(pid)) seen.set(p.pid, p);
}

/** Ctrl-C, then: npm ended, and nothing it started is still running. */
async function interruptAndCheck(run: Run, seen: Map<number, ProcessInfo>, marker: string): Promise<void> {
  const pid = run.child.pid as number;
  rememberTree(pid, seen);
  process.kill(-pid, "SIGINT");
  const { code, signal } = await withTimeout(run.exited, 60_000, "npm start stopping after Ctrl-C");
  assert.ok(code === 0 || code === 130 || signal === "SIGINT", `npm start ended cleanly after Ctrl-C (code ${code}, signal ${signal}):\n${run.output()}`);
  const left = stillRunning([...seen.values()]);
  assert.deepEqual(left.map((p) => `${p.pid} ${p.command.slice(0, 120)}`), [], "every process npm start started has ended");
  // Also by the process list: nothing anywhere still runs with this run's port in its command line.
  const strays = listProcesses().filter((p) => p.command.includes(marker));
  assert.deepEqual(strays.map((p) => `${p.pid} ${p.command.slice(0, 120)}`), [], `no process mentions ${marker}`);
}

async function rowsText(page: Page): Promise<string[]> {
  return page.locator(".part.sidebar .monaco-list-row").allInnerTexts();
}

async function waitForRows(page: Page, labels: readonly string[], timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await rowsText(page);
    if (labels.every((l) => rows.some((r) => r.includes(l)))) return rows;
    if (Date.now() > deadline) throw new Error(`the GGUF Studio view does not list ${labels.join(", ")}; rows: ${rows.join(" | ")}`);
    await page.waitForTimeout(250);
  }
}

/** Runs a command through the command palette, as a user would. */
async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press("F1");
  const input = page.locator(".quick-input-widget input");
  await input.waitFor();
  await input.fill(`>${title}`);
  await page.locator(".quick-input-widget .monaco-list-row", { hasText: title }).first().waitFor();
  await page.keyboard.press("Enter");
}

/** The status bar item VS Code shows in Restricted Mode. */
const restrictedMode = (page: Page) => page.locator(".part.statusbar .statusbar-item", { hasText: "Restricted Mode" });

describe("npm start", function () {
  // The first run also makes the sample models (two quantizations and one short KLD run).
  this.timeout(12 * 60_000);
  let browser: Browser | undefined;

  before(() => fs.mkdirSync(screenshotsDir, { recursive: true }));
  afterEach(async () => {
    await browser?.close().catch(() => undefined);
    browser = undefined;
  });

  it("opens the sample workspace in code-server: models listed, inspector opens one, trusted; Ctrl-C leaves no process", async () => {
    const run = npmStart([]);
    const seen = new Map<number, ProcessInfo>();
    try {
      const url = (await waitForOutput(run, /^\s*open:\s+(http\S+)/m, 10 * 60_000))[1];
      assert.match(run.output(), /folder:\s+\S+\.studio\/samples \(sample models; trusted\)/);
      assert.doesNotMatch(run.output(), /opened in your browser/, "no browser is opened when the terminal is not interactive");
      const started = await launchChromium();
      browser = started.browser;
      const page = started.page;
      page.setDefaultTimeout(30_000);
      await page.goto(url, { waitUntil: "domcontentloaded", timeout: 60_000 });
      // The launch page forwards to the workbench with the extension under development.
      await page.waitForURL(/[?&]payload=/, { timeout: 30_000 });
      await page.locator(".monaco-workbench .part.activitybar").waitFor({ timeout: 60_000 });
      await page.locator('.part.activitybar .action-item a[aria-label^="GGUF Studio"]').click({ timeout: 60_000 });
      const rows = await waitForRows(page, ["tiny-llama-f16.gguf", "tiny-moe-f16.gguf", "tiny-llama-Q4_K_M.gguf", "tiny-llama-mix.gguf"], 60_000);
      assert.ok(rows.some((r) => r.includes("tiny-llama-Q4_K_M.gguf") && r.includes("Q4_K")), `the stock quant row shows its type: ${rows.join(" | ")}`);
      rememberTree(run.child.pid as number, seen); // the extension host is up by now

      await page.locator(".part.sidebar .monaco-list-row", { hasText: "tiny-llama-Q4_K_M.gguf" }).first().click();
      const frame: Frame = await findFrame(page, '#inspector[data-state="ready"][data-file="tiny-llama-Q4_K_M.gguf"]', 60_000);
      const overview = await frame.locator("body").innerText();
      assert.match(overview, /Q4_K/, "the inspector shows the quant types");
      // Pre-trusted: no Restricted Mode indicator in the status bar.
      assert.equal(await restrictedMode(page).count(), 0, "the sample workspace is trusted (no Restricted Mode)");
      assert.equal(await page.locator(".monaco-dialog-box").count(), 0, "and nobody was asked to trust it");
      await page.screenshot({ path: path.join(screenshotsDir, "npm-start-inspector.png") });

      // The Workspace Trust editor says so, and lists exactly the sample folder as trusted.
      await runCommand(page, "Workspaces: Manage Workspace Trust");
      const trustEditor = page.locator(".workspace-trust-editor");
      await trustEditor.getByText("You trust the authors of the files in the current folder", { exact: false }).waitFor({ timeout: 30_000 });
      const sampleFolder = /folder:\s+(\S+) \(sample models/.exec(run.output())?.[1] as string;
      const trustedRows = await trustEditor.locator(".workspace-trust-settings .monaco-table-tr, .workspace-trust-settings .monaco-list-row").allInnerTexts();
      assert.ok(trustedRows.some((r) => r.includes(sampleFolder)), `the trusted folders list holds ${sampleFolder}: ${trustedRows.join(" | ")}`);
      // (a table row and the list row inside it may both match: count distinct folders)
      assert.equal(new Set(trustedRows.filter((r) => r.includes("/")).map((r) => r.trim())).size, 1, `only the sample folder is trusted: ${trustedRows.join(" | ")}`);
      await page.screenshot({ path: path.join(screenshotsDir, "npm-start-trust.png") });

      // The chart has the samples' KLD points from the first run: the stock quant and the recipe's.
      await runCommand(page, "GGUF Studio: Open KLD Chart");
      const chart = await findFrame(page, "#points .point", 60_000);
      const points = await chart.locator("#points .point").evaluateAll((els) => els.map((e) => `${(e as HTMLElement).dataset.origin}:${(e as HTMLElement).dataset.label}`));
      assert.deepEqual(points.sort(), ["preset:Q4_K_M", "recipe:tiny-llama-mix"], "the KLD chart shows both sample quants");
      await page.screenshot({ path: path.join(screenshotsDir, "npm-start-kld-chart.png") });
    } finally {
      const port = /open:\s+http:\/\/[^:/]+:(\d+)\//.exec(run.output())?.[1];
      if (run.child.exitCode === null) await interruptAndCheck(run, seen, `:${port ?? "no-port"}`);
    }
    assert.ok(run.child.exitCode !== null || run.child.signalCode !== null, "npm start has ended");
  });

  it("--folder DIR opens that folder untrusted (Restricted Mode) and Ctrl-C leaves no process", async () => {
    const folder = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-start-folder-"));
    fs.copyFileSync(path.join(repoRoot, "test", "fixtures", "tiny-moe-f16.gguf"), path.join(folder, "mine.gguf"));
    const run = npmStart(["--folder", folder]);
    const seen = new Map<number, ProcessInfo>();
    try {
      const url = (await waitForOutput(run, /^\s*open:\s+(http\S+)/m, 5 * 60_000))[1];
      assert.match(run.output(), /untrusted until you trust it/);
      const started = await launchChromium();
      browser = started.browser;
      const page = started.page;
      await page.goto(url, { waitUntil: "domcontentloaded", timeout: 60_000 });
      await page.waitForURL(/[?&]payload=/, { timeout: 30_000 });
      // The usual startup trust prompt; declining it leaves the folder in Restricted Mode.
      await page.locator(".monaco-dialog-box").getByRole("button", { name: /No, I don't trust the authors/ }).click({ timeout: 60_000 });
      await restrictedMode(page).first().waitFor({ timeout: 30_000 });
      await page.locator('.part.activitybar .action-item a[aria-label^="GGUF Studio"]').click({ timeout: 60_000 });
      await waitForRows(page, ["mine.gguf"], 60_000);
      rememberTree(run.child.pid as number, seen);
      await page.screenshot({ path: path.join(screenshotsDir, "npm-start-folder-untrusted.png") });
    } finally {
      const port = /open:\s+http:\/\/[^:/]+:(\d+)\//.exec(run.output())?.[1];
      if (run.child.exitCode === null) await interruptAndCheck(run, seen, `:${port ?? "no-port"}`);
      fs.rmSync(folder, { recursive: true, force: true });
    }
  });

  it("--folder with a folder that does not exist is a clear error and starts nothing", async () => {
    const missing = path.join(os.tmpdir(), `gguf-studio-no-such-folder-${process.pid}`);
    const run = npmStart(["--folder", missing]);
    const seen = new Map<number, ProcessInfo>();
    const poll = setInterval(() => rememberTree(run.child.pid as number, seen), 50);
    const { code } = await withTimeout(run.exited, 60_000, "npm start --folder <missing>").finally(() => clearInterval(poll));
    assert.equal(code, 1, run.output());
    assert.match(run.output(), new RegExp(`--folder ${missing}: no such folder`));
    assert.match(run.output(), /nothing was started/);
    assert.doesNotMatch(run.output(), /building|open:/, "it stopped before building or starting anything");
    const started = [...seen.values()].filter((p) => /code-server|esbuild|entry\.js/.test(p.command));
    assert.deepEqual(started.map((p) => p.command), [], "no code-server or build was started");
    assert.deepEqual(stillRunning([...seen.values()]).map((p) => p.command), [], "nothing is left running");
  });
});
