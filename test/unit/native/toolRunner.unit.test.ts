import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runTool, ToolCancelledError, ToolFailedError, ToolMissingError, type ToolProgress } from "../../../src/core/native/toolRunner";

// Small POSIX shell scripts stand in for native tools so each failure mode is exact and fast.
function fakeTool(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe("toolRunner", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "gguf-studio-runner-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("streams stdout and stderr lines, split on \\n and \\r, and passes arguments without a shell", async () => {
    const tool = fakeTool(dir, "echoer", 'printf "a\\rb\\n"; echo "err line" >&2; for a in "$@"; do echo "arg:$a"; done');
    const lines: string[] = [];
    const result = await runTool({ executable: tool, args: ["x y", "$HOME", "'q'"], onLine: (l, s) => lines.push(`${s}:${l}`) });
    assert.deepEqual(lines.filter((l) => l.startsWith("stdout:")), ["stdout:a", "stdout:b", "stdout:arg:x y", "stdout:arg:$HOME", "stdout:arg:'q'"]);
    assert.ok(lines.includes("stderr:err line"));
    assert.match(result.stderrTail, /err line/);
  });

  it("raises ToolMissingError naming the path when the executable does not exist", async () => {
    const missing = path.join(dir, "llama-quantize");
    await assert.rejects(runTool({ executable: missing, args: [] }), (e: unknown) => e instanceof ToolMissingError && e.message.includes(missing));
  });

  it("raises ToolFailedError with exit code and stderr tail on non-zero exit, and removes declared outputs", async () => {
    const out = path.join(dir, "out.gguf");
    const tool = fakeTool(dir, "fails", `echo partial > "${out}"; echo "llama_model_quantize: failed to quantize: bad tensor" >&2; exit 3`);
    await assert.rejects(runTool({ executable: tool, args: [], outputs: [out] }), (e: unknown) => {
      assert.ok(e instanceof ToolFailedError);
      assert.equal(e.exitCode, 3);
      assert.match(e.stderrTail, /failed to quantize: bad tensor/);
      assert.match(e.message, /exited with code 3: llama_model_quantize: failed to quantize: bad tensor/);
      return true;
    });
    assert.equal(fs.existsSync(out), false);
  });

  it("reports a crash by signal as ToolFailedError with the signal", async () => {
    const tool = fakeTool(dir, "crashes", 'echo "about to crash" >&2; kill -SEGV $$');
    await assert.rejects(runTool({ executable: tool, args: [] }), (e: unknown) => {
      assert.ok(e instanceof ToolFailedError);
      assert.equal(e.exitSignal, "SIGSEGV");
      assert.match(e.message, /killed by SIGSEGV/);
      return true;
    });
  });

  it("cancellation mid-run kills the process (even one ignoring SIGTERM) and removes partial outputs", async () => {
    const out = path.join(dir, "partial.gguf");
    const tool = fakeTool(dir, "slow", `trap "" TERM; echo started; echo data > "${out}"; while true; do sleep 0.05; done`);
    const abort = new AbortController();
    const run = runTool({
      executable: tool,
      args: [],
      outputs: [out],
      signal: abort.signal,
      killGraceMs: 200,
      onLine: (l) => {
        if (l === "started") setTimeout(() => abort.abort(), 50);
      },
    });
    await assert.rejects(run, (e: unknown) => e instanceof ToolCancelledError);
    assert.equal(fs.existsSync(out), false);
  });

  it("throttles progress but always delivers the last update", async () => {
    const tool = fakeTool(dir, "progress", 'i=1; while [ $i -le 200 ]; do echo "[ $i/ 200] tensor"; i=$((i+1)); done');
    const seen: ToolProgress[] = [];
    await runTool({
      executable: tool,
      args: [],
      progressIntervalMs: 10_000,
      parseProgress: (l) => {
        const m = /^\[\s*(\d+)\/\s*(\d+)\]/.exec(l);
        return m ? { fraction: Number(m[1]) / Number(m[2]), message: l } : undefined;
      },
      onProgress: (p) => seen.push(p),
    });
    assert.ok(seen.length <= 2, `expected throttled progress, got ${seen.length} updates`);
    assert.equal(seen.at(-1)?.fraction, 1);
  });
});
