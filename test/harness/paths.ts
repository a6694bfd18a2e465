// Where the harness finds things. Everything is relative to the repository root, so a fresh clone
// works after `npm run setup` (which creates .code-server/ and bin/).
import fs from "node:fs";
import path from "node:path";

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, "utf8")).name === "gguf-studio") return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`cannot find the gguf-studio repository root above ${start}`);
    dir = parent;
  }
}

/** The repository root (the folder holding gguf-studio's package.json). */
export const repoRoot = findRepoRoot(__dirname);

/** code-server's pinned version; must match test/harness/code-server/package.json. */
export const CODE_SERVER_VERSION = "4.100.3";

/** code-server's node entry point, installed by `npm run setup`. */
export const codeServerEntry = path.join(repoRoot, ".code-server", "node_modules", "code-server", "out", "node", "entry.js");

/** Git-ignored folder for screenshots, logs and result files. */
export const artifactsDir = path.join(repoRoot, ".test-artifacts");
export const screenshotsDir = path.join(artifactsDir, "screenshots");
export const logsDir = path.join(artifactsDir, "logs");

/** The in-host mocha entry (compiled from test/integration/index.ts). */
export const testsIndex = path.join(repoRoot, "out", "test", "integration", "index.js");

/** A tiny extension used as the development extension when testing the installed VSIX. */
export const vsixProbeExtension = path.join(repoRoot, "test", "harness", "vsix-probe");

export const fixturesDir = path.join(repoRoot, "test", "fixtures");

/** Debian/Ubuntu Chromium; never a Playwright download. Override with GGUF_STUDIO_CHROMIUM. */
export function findChromium(): string {
  const candidates = [
    process.env.GGUF_STUDIO_CHROMIUM,
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
    "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  ].filter((c): c is string => !!c);
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found) {
    throw new Error(
      `no Chromium found (looked for ${candidates.join(", ")}). Install it with \`sudo apt-get install chromium\` ` +
        "or point GGUF_STUDIO_CHROMIUM at a Chrome/Chromium binary.",
    );
  }
  return found;
}

export function requireCodeServer(): string {
  if (!fs.existsSync(codeServerEntry)) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed (${path.relative(repoRoot, codeServerEntry)} missing): run \`npm run setup\``);
  }
  return codeServerEntry;
}
