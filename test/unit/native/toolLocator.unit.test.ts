import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { locateTools, NATIVE_TOOLS, probeToolVersion } from "../../../src/core/native/toolLocator";

const repoRoot = path.resolve(__dirname, "../../../..");

function makeToolDir(root: string, rel: string, names: readonly string[]): string {
  const dir = path.join(root, rel);
  fs.mkdirSync(dir, { recursive: true });
  for (const n of names) fs.writeFileSync(path.join(dir, n), "#!/bin/sh\necho 'version: 9 (fake)'\n", { mode: 0o755 });
  return dir;
}

describe("toolLocator", () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-locate-"));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it("prefers the configured folder, then bundled bin/ (GPU before CPU), then PATH", () => {
    const ext = path.join(root, "ext");
    makeToolDir(ext, `bin/${process.platform}-${process.arch}-cpu`, NATIVE_TOOLS);
    makeToolDir(ext, `bin/${process.platform}-${process.arch}-cuda`, ["llama-imatrix"]);
    const setting = makeToolDir(root, "mine", ["llama-quantize"]);
    const onPath = makeToolDir(root, "onpath", NATIVE_TOOLS);
    const loc = locateTools({ configuredDir: setting, extensionRoot: ext, pathEnv: onPath });
    assert.equal(loc.found["llama-quantize"]?.source, "setting");
    assert.equal(loc.found["llama-imatrix"]?.backend, "cuda");
    assert.equal(loc.found["llama-perplexity"]?.source, "bundled");
    assert.equal(loc.found["llama-perplexity"]?.backend, "cpu");
    assert.deepEqual(loc.missing, []);
  });

  it("falls back to PATH and names a configured folder that does not exist", () => {
    const onPath = makeToolDir(root, "onpath", ["llama-gguf-split"]);
    const loc = locateTools({ configuredDir: path.join(root, "nope"), extensionRoot: path.join(root, "ext"), pathEnv: onPath });
    assert.equal(loc.found["llama-gguf-split"]?.source, "path");
    assert.deepEqual(loc.missing.sort(), ["gguf-studio-probe", "llama-imatrix", "llama-perplexity", "llama-quantize"]);
    assert.match(loc.settingProblem ?? "", /not a folder/);
  });

  it("ignores files that are not executable", () => {
    const dir = path.join(root, "noexec");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "llama-quantize"), "not a program", { mode: 0o644 });
    const loc = locateTools({ extensionRoot: path.join(root, "ext"), pathEnv: dir });
    assert.ok(loc.missing.includes("llama-quantize"));
  });

  it("reads the version of each bundled tool built by scripts/build-native.mjs", async function () {
    const loc = locateTools({ extensionRoot: repoRoot, pathEnv: "" });
    if (loc.missing.length > 0) this.skip();
    for (const name of NATIVE_TOOLS) {
      const v = await probeToolVersion(loc.found[name]!.path);
      assert.match(v.version, /\(build \d+, commit [0-9a-f]+\)/, `${name} version`);
    }
  });
});
