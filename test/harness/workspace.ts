// A throw-away copy of the fixtures as the test workspace, so tests may write next to the models
// without touching test/fixtures (the source models stay read-only).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fixturesDir } from "./paths";

/** A fresh temp folder owned by one harness run. */
export function makeStateDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `gguf-studio-${label}-`));
}

/** Copies test/fixtures/* (flat) into `<stateDir>/workspace` and returns that folder. */
export function makeFixtureWorkspace(stateDir: string): string {
  const workspace = path.join(stateDir, "workspace");
  fs.mkdirSync(workspace, { recursive: true });
  if (!fs.existsSync(fixturesDir)) throw new Error(`fixtures folder ${fixturesDir} is missing`);
  for (const entry of fs.readdirSync(fixturesDir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const dest = path.join(workspace, entry.name);
    fs.copyFileSync(path.join(fixturesDir, entry.name), dest);
    // Fixtures are checked in read-only; the copies are the tests' to change.
    fs.chmodSync(dest, 0o644);
  }
  return workspace;
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
}
