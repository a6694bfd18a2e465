// llama-imatrix's "too short" refusal must never lose its last lines, however loaded the machine:
// the tool logs through an asynchronous writer thread, and before the log was drained on every
// exit path (scripts/native-patches/0003) a busy machine sometimes ended the process first.
// 20 runs with two busy loops competing for the CPUs; every one must carry both numbers.
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { runTool, ToolFailedError } from "../../../src/core/native/toolRunner";
import { parseImatrixTooShort } from "../../../src/core/quant/progress";
import { buildImatrixArgs } from "../../../src/core/quant/quantizeArgs";
import { realTools, TINY_LLAMA, tempDir } from "./quantTestSupport";

const RUNS = 20;

describe("llama-imatrix too-short refusal under load", function () {
  this.timeout(RUNS * 30_000);
  let dir: string;
  const busy: ChildProcess[] = [];
  before(() => {
    dir = tempDir("imatrix-load");
  });
  after(() => {
    for (const b of busy) b.kill("SIGKILL");
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(`reports the token counts and names the cause in all ${RUNS} runs beside two busy loops`, async function () {
    const tools = realTools();
    if (!tools) this.skip();
    for (let i = 0; i < 2; i++) busy.push(spawn(process.execPath, ["-e", "for (;;) {}"], { stdio: "ignore" }));
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, "def f(x):\n    return x + 1\n");
    const failures: string[] = [];
    for (let run = 0; run < RUNS; run++) {
      const lines: string[] = [];
      let message = "";
      try {
        await runTool({
          executable: tools.imatrix,
          args: buildImatrixArgs({ model: TINY_LLAMA, calibration: short, output: path.join(dir, `im-${run}.gguf`), contextSize: 128, threads: 1 }),
          onLine: (l) => lines.push(l),
        });
        failures.push(`run ${run}: llama-imatrix accepted a 12-token text`);
        continue;
      } catch (e) {
        assert.ok(e instanceof ToolFailedError, String(e));
        message = e.message;
      }
      const facts = parseImatrixTooShort(lines);
      if (!facts || facts.needed !== 256 || !(facts.got > 0 && facts.got < 256)) failures.push(`run ${run}: counts lost (${JSON.stringify(facts)}); last lines: ${lines.slice(-3).join(" | ")}`);
      if (!/you need at least 256 tokens/.test(message)) failures.push(`run ${run}: error names "${message}"`);
    }
    assert.deepEqual(failures, []);
  });
});
