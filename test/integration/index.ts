// The extension host's test entry (extensionTestsPath): runs the mocha BDD suite inside a real
// VS Code extension host (code-server here, desktop VS Code through @vscode/test-electron) and
// reports per-test lines and totals to the outer driver when one is listening.
//
// Which files load depends on GGUF_STUDIO_TEST_SUITE:
//   integration (default): out/test/{integration,harness/selftest}/**/*.integration.test.js, trusted workspace
//   untrusted:             out/test/integration/**/*.untrusted.test.js, workspace not trusted
//   vsix:                  out/test/harness/vsix/*.vsix.test.js, gguf-studio installed from the VSIX
import fs from "node:fs";
import path from "node:path";
import Mocha from "mocha";
import * as vscode from "vscode";
import { GREP_ENV, SUITE_ENV, TRUST_MODE_ENV } from "../harness/protocol";
import { hasBrowserDriver, log, reportTotals, screenshot, waitUntil, workbenchClick } from "./driver";

const outTest = path.resolve(__dirname, "..");
const SUITES = {
  // harness/selftest holds the browser driver's own test.
  integration: { dirs: [path.join(outTest, "integration"), path.join(outTest, "harness", "selftest")], pattern: /\.integration\.test\.js$/ },
  untrusted: { dirs: [path.join(outTest, "integration")], pattern: /\.untrusted\.test\.js$/ },
  vsix: { dirs: [path.join(outTest, "harness", "vsix")], pattern: /\.vsix\.test\.js$/ },
} as const;
type Suite = keyof typeof SUITES;

function findTests(dir: string, pattern: RegExp): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? findTests(path.join(dir, e.name), pattern) : pattern.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

/**
 * Trust stays enabled (restricted mode is real), but the workbench refuses the startup trust dialog
 * while running tests, so the trusted suite trusts its folder the way a user can: through the
 * Workspace Trust editor's "Trust" button, clicked in the real browser.
 */
async function awaitTrust(expected: string | undefined): Promise<void> {
  if (expected === "trusted" && !vscode.workspace.isTrusted) {
    if (!hasBrowserDriver()) throw new Error("the workspace is not trusted and no browser driver can trust it");
    const granted = new Promise<void>((resolve) => {
      const sub = vscode.workspace.onDidGrantWorkspaceTrust(() => {
        sub.dispose();
        resolve();
      });
    });
    await vscode.commands.executeCommand("workbench.trust.manage");
    await workbenchClick(".workspace-trust-editor .workspace-trust-buttons .monaco-button", "Trust", 30_000).catch(async (e: unknown) => {
      await screenshot("trust-setup-failed"); // what covered the Trust button
      throw e;
    });
    await waitUntil(() => vscode.workspace.isTrusted || undefined, "workspace trust to be granted", 30_000);
    await granted;
    await vscode.commands.executeCommand("workbench.action.closeAllEditors");
  }
  if (expected === "untrusted" && vscode.workspace.isTrusted) {
    throw new Error("the untrusted suite runs in a trusted workspace; restricted-mode tests would prove nothing");
  }
}

export async function run(): Promise<void> {
  const suite = (process.env[SUITE_ENV] ?? "integration") as Suite;
  const spec = SUITES[suite];
  if (!spec) throw new Error(`unknown ${SUITE_ENV} "${suite}"`);
  try {
    await awaitTrust(process.env[TRUST_MODE_ENV]);
  } catch (e) {
    // Tell the outer runner why nothing ran, rather than only "no results".
    const message = e instanceof Error ? e.message : String(e);
    await reportTotals({ suite, passed: 0, failed: 1, pending: 0, failures: [`workspace trust setup: ${message}`] }).catch(() => undefined);
    throw e;
  }

  const mocha = new Mocha({ ui: "bdd", color: false, timeout: 120_000, reporter: "spec" });
  const grep = process.env[GREP_ENV];
  if (grep) mocha.grep(grep);
  const files = spec.dirs.flatMap((d) => findTests(d, spec.pattern));
  if (files.length === 0) throw new Error(`no test files match ${spec.pattern} under ${spec.dirs.join(", ")}`);
  for (const f of files) mocha.addFile(f);

  // Posted lines must arrive before the host exits, so keep their promises. Without a driver
  // (desktop runs) the spec reporter's own output is the log.
  const pending: Promise<void>[] = [];
  const send = (line: string) => hasBrowserDriver() && pending.push(log(line).catch(() => undefined));
  const failures: string[] = [];
  const totals = await new Promise<{ passed: number; failed: number; pending: number }>((resolve) => {
    const runner = mocha.run(() => undefined);
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    runner.on("suite", (s: Mocha.Suite) => s.title && send(`${"  ".repeat(s.titlePath().length)}${s.title}`));
    runner.on("pass", (t: Mocha.Test) => {
      passed++;
      send(`${"  ".repeat(t.titlePath().length)}✔ ${t.title} (${t.duration ?? 0} ms)`);
    });
    runner.on("fail", (t: Mocha.Runnable, err: Error) => {
      failed++;
      failures.push(`${t.fullTitle()}: ${err.message}`);
      send(`${"  ".repeat(t.titlePath().length)}✘ ${t.title}\n${err.stack ?? err.message}`);
    });
    runner.on("pending", (t: Mocha.Test) => {
      skipped++;
      send(`${"  ".repeat(t.titlePath().length)}- ${t.title} (skipped)`);
    });
    runner.on("end", () => resolve({ passed, failed, pending: skipped }));
  });
  await Promise.all(pending);
  await reportTotals({ suite, ...totals, failures }).catch(() => undefined);
  if (totals.failed > 0) throw new Error(`${totals.failed} integration test(s) failed`);
}
