import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const repoRoot = path.resolve(__dirname, "../../../..");
const script = path.join(repoRoot, "scripts", "build-native.mjs");

/** A PATH holding only the named programs (symlinked), to simulate a machine missing the rest. */
function pathWith(programs: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-path-"));
  for (const p of programs) {
    const found = spawnSync("which", [p], { encoding: "utf8" }).stdout.trim();
    if (found) fs.symlinkSync(found, path.join(dir, p));
  }
  return dir;
}

describe("scripts/build-native.mjs", () => {
  it("names cmake as missing and exits non-zero when cmake is not installed", () => {
    const bin = pathWith(["which", "git", "g++", "c++"]);
    const r = spawnSync(process.execPath, [script, "--backend", "cpu"], { env: { PATH: bin }, encoding: "utf8" });
    fs.rmSync(bin, { recursive: true, force: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /missing cmake/);
    assert.match(r.stderr, /apt-get install cmake build-essential git/);
  });

  it("names the compiler as missing", () => {
    const bin = pathWith(["which", "git", "cmake"]);
    const r = spawnSync(process.execPath, [script, "--backend", "cpu"], { env: { PATH: bin }, encoding: "utf8" });
    fs.rmSync(bin, { recursive: true, force: true });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /missing a C\+\+ compiler/);
  });

  it("rejects an unknown backend by name", () => {
    const r = spawnSync(process.execPath, [script, "--backend", "rocm-please"], { encoding: "utf8" });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown backend "rocm-please"/);
  });

  it("skips the build when the stamp matches (source commit + flags)", function () {
    const stamp = path.join(repoRoot, "bin", `${process.platform}-${process.arch}-cpu`, "build-stamp.json");
    if (!fs.existsSync(stamp)) this.skip();
    const r = spawnSync(process.execPath, [script, "--backend", "cpu"], { encoding: "utf8" });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /is up to date/);
  });
});
