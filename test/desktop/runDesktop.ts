// `npm run test:desktop`: the same integration suite in desktop VS Code through @vscode/test-electron.
// Needs internet (it downloads VS Code from update.code.visualstudio.com), so it cannot run on the
// offline CI machine; there the suite runs in code-server (npm test). Without the browser driver,
// screenshots are skipped and webview DOM checks report DriverUnavailableError (see test/integration/driver.ts).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runTests } from "@vscode/test-electron";
import { SUITE_ENV, TRUST_MODE_ENV } from "../harness/protocol";
import { fixturesDir, repoRoot, testsIndex } from "../harness/paths";
import { makeFixtureWorkspace } from "../harness/workspace";

async function main(): Promise<void> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-desktop-"));
  try {
    if (!fs.existsSync(fixturesDir)) throw new Error(`fixtures missing at ${fixturesDir}`);
    const workspace = makeFixtureWorkspace(state);
    await runTests({
      // VS Code 1.100 matches the code-server host; override with GGUF_STUDIO_VSCODE_VERSION (e.g. "stable").
      version: process.env.GGUF_STUDIO_VSCODE_VERSION ?? "1.100.3",
      extensionDevelopmentPath: repoRoot,
      extensionTestsPath: testsIndex,
      // Desktop has no browser driver to click the trust editor: trust is disabled for this run.
      launchArgs: [workspace, "--disable-workspace-trust", "--disable-extensions", "--skip-welcome", "--skip-release-notes", `--user-data-dir=${path.join(state, "user-data")}`],
      extensionTestsEnv: { [SUITE_ENV]: "integration", [TRUST_MODE_ENV]: "disabled" },
    });
  } finally {
    fs.rmSync(state, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(`test:desktop failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
