import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { readGgufModel } from "../../../src/core/gguf";
import { runTool, type ToolProgress } from "../../../src/core/native/toolRunner";
import {
  createImatrixProgressParser, parseImatrixTooShort, parseQuantizeProgress, parseQuantizeSummary, parseQuantizeTensorLine,
} from "../../../src/core/quant/progress";
import { buildImatrixArgs, buildQuantizeArgs } from "../../../src/core/quant/quantizeArgs";
import { CODE_CALIB, TEST_THREADS, TINY_LLAMA, realTools, tempDir } from "./quantTestSupport";

describe("quantize output parsers", () => {
  let dir: string;
  before(() => {
    dir = tempDir("progress");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("read every per-tensor line of a real run: names, shapes and target types agree with the GGUF core on the output", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(60_000);
    const out = path.join(dir, "q4.gguf");
    const lines: string[] = [];
    const progress: ToolProgress[] = [];
    await runTool({
      executable: tools.quantize,
      args: buildQuantizeArgs({ input: TINY_LLAMA, output: out, type: "Q4_K_M", threads: TEST_THREADS }),
      onLine: (l) => lines.push(l),
      parseProgress: parseQuantizeProgress,
      onProgress: (p) => progress.push(p),
      progressIntervalMs: 0,
    });
    const parsed = lines.map(parseQuantizeTensorLine).filter((t) => t !== undefined);
    const source = await readGgufModel(TINY_LLAMA);
    const output = await readGgufModel(out);
    assert.equal(parsed.length, source.tensors.length);
    const byName = new Map(output.tensors.map((t) => [t.name, t]));
    for (const t of parsed) {
      const written = byName.get(t.name);
      assert.ok(written, `${t.name} in output`);
      assert.deepEqual(t.shape, written.shape, t.name);
      assert.equal(t.targetType ?? t.sourceType, written.typeName, t.name);
      assert.equal(t.total, source.tensors.length);
    }
    // Progress ends at 1 and never goes backwards.
    assert.equal(progress.at(-1)?.fraction, 1);
    for (let i = 1; i < progress.length; i++) assert.ok((progress[i].fraction ?? 0) >= (progress[i - 1].fraction ?? 0));
    const summary = parseQuantizeSummary(lines);
    assert.ok(summary.quantMiB !== undefined && summary.modelMiB !== undefined && summary.quantMiB < summary.modelMiB);
    assert.equal(summary.requiresImatrix, false);
  });

  it("read a dry run's target types, which the real run then uses", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(60_000);
    const lines: string[] = [];
    await runTool({
      executable: tools.quantize,
      args: buildQuantizeArgs({ input: TINY_LLAMA, output: path.join(dir, "dry.gguf"), type: "Q4_K_M", dryRun: true, threads: 1 }),
      onLine: (l) => lines.push(l),
    });
    assert.equal(fs.existsSync(path.join(dir, "dry.gguf")), false, "a dry run writes nothing");
    const dry = new Map(lines.map(parseQuantizeTensorLine).filter((t) => t !== undefined).map((t) => [t.name, t.targetType ?? t.sourceType]));
    const real = await readGgufModel(path.join(dir, "q4.gguf"));
    for (const t of real.tensors) assert.equal(dry.get(t.name), t.typeName, t.name);
  });

  it("turn llama-imatrix chunk output into chunk progress, several chunks per line included", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    this.timeout(60_000);
    const lines: string[] = [];
    await runTool({
      executable: tools.imatrix,
      args: buildImatrixArgs({ model: TINY_LLAMA, calibration: CODE_CALIB, output: path.join(dir, "im.gguf"), contextSize: 128, chunks: 3, threads: TEST_THREADS }),
      onLine: (l) => lines.push(l),
    });
    const parse = createImatrixProgressParser();
    const progress = lines.map((l) => parse(l)).filter((p) => p !== undefined);
    assert.equal(progress[0].fraction, 0);
    assert.equal(progress.at(-1)?.fraction, 1);
    assert.match(progress.at(-1)?.message ?? "", /3\/3 chunks/);
    // The chunk line as it grows: the last chunk on it counts.
    const live = createImatrixProgressParser();
    live("compute_imatrix: computing over 4 chunks, n_ctx=128, batch_size=2048, n_seq=16");
    assert.equal(live("[1]3.7032,[2]3.0527,")?.fraction, 0.5);
    assert.equal(createImatrixProgressParser()("[1]3.7032,"), undefined, "no total known yet");
  });

  it("pick the token counts out of llama-imatrix's too-short refusal", async function () {
    const tools = realTools();
    if (!tools) this.skip();
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, "def f(x):\n    return x + 1\n");
    const lines: string[] = [];
    await assert.rejects(
      runTool({
        executable: tools.imatrix,
        args: buildImatrixArgs({ model: TINY_LLAMA, calibration: short, output: path.join(dir, "im2.gguf"), contextSize: 128, threads: 1 }),
        onLine: (l) => lines.push(l),
      }),
    );
    const facts = parseImatrixTooShort(lines);
    assert.ok(facts);
    assert.equal(facts.needed, 256);
    assert.ok(facts.got > 0 && facts.got < 256);
  });

  it("ignore lines that are not progress", () => {
    assert.equal(parseQuantizeTensorLine("llama_model_loader: - type  f16:   44 tensors"), undefined);
    assert.equal(parseQuantizeProgress("main: quantize time =     4.58 ms"), undefined);
  });
});
