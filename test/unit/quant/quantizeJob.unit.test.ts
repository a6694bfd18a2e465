import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { metadataNumber, readGgufModel } from "../../../src/core/gguf";
import { ToolCancelledError, ToolFailedError, runTool } from "../../../src/core/native/toolRunner";
import { openModelVocab, type ModelVocab } from "../../../src/core/quant/calibration";
import { QuantizeError, runQuantizeJob, type QuantizeDeps, type QuantizeErrorCode, type QuantizeStage } from "../../../src/core/quant/quantizeJob";
import { CODE_CALIB, FAKE_CRASH_QUANTIZE, TEST_THREADS, TINY_LLAMA, mountTmpfs, realTools, sha256File, tempDir, type RealTools } from "./quantTestSupport";

const isQuantizeError = (code: QuantizeErrorCode) => (e: unknown) => {
  assert.ok(e instanceof QuantizeError, `expected QuantizeError(${code}), got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  return true;
};

/** The folder holds only what the test put there: no temp or partial files. */
function assertOnly(dir: string, names: string[]): void {
  assert.deepEqual(fs.readdirSync(dir).sort(), [...names].sort());
}

describe("quantize job", function () {
  this.timeout(120_000);
  let tools: RealTools;
  let dir: string;
  let vocab: ModelVocab;
  const sourceHash = sha256File(TINY_LLAMA);
  const deps = (extra: Partial<QuantizeDeps> = {}): QuantizeDeps => ({ executables: { quantize: tools.quantize, imatrix: tools.imatrix }, vocab, ...extra });

  before(async function () {
    const found = realTools();
    if (!found) this.skip();
    tools = found;
    vocab = await openModelVocab(TINY_LLAMA);
  });
  after(async () => vocab?.dispose());
  beforeEach(() => {
    dir = tempDir("qjob");
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    assert.equal(sha256File(TINY_LLAMA), sourceHash, "the source model is never modified");
  });

  it("quantizes to Q8_0: verified output, size and hash reported, estimate within 1%, nothing else left", async () => {
    const output = path.join(dir, "tiny-Q8_0.gguf");
    const stages = new Set<QuantizeStage>();
    const result = await runQuantizeJob({ source: TINY_LLAMA, output, type: "Q8_0", threads: TEST_THREADS }, deps({ onStage: (s) => stages.add(s) }));
    assertOnly(dir, ["tiny-Q8_0.gguf"]);
    const model = await readGgufModel(output);
    for (const t of model.tensors) assert.equal(t.typeName, t.shape.length >= 2 ? "Q8_0" : "F32", t.name);
    assert.equal(metadataNumber(model.metadata, "general.file_type"), 7);
    assert.equal(result.outputBytes, fs.statSync(output).size);
    assert.equal(result.sha256, sha256File(output));
    assert.equal(result.ratio, fs.statSync(TINY_LLAMA).size / result.outputBytes);
    assert.ok(Math.abs(result.estimate.bytes - result.outputBytes) / result.outputBytes < 0.01, `estimate ${result.estimate.bytes} vs ${result.outputBytes}`);
    assert.deepEqual([...stages], ["check", "estimate", "quantize", "verify", "hash"]);
    assert.equal(result.steps.length, 1);
    assert.ok(result.steps[0].args.includes(output), "the recorded command names the final output, not the temp file");
  });

  it("computes an imatrix from a calibration text, then quantizes to IQ2_XXS; the output loads and generates", async () => {
    const output = path.join(dir, "tiny-IQ2_XXS.gguf");
    const stages: QuantizeStage[] = [];
    const result = await runQuantizeJob(
      { source: TINY_LLAMA, output, type: "IQ2_XXS", calibration: CODE_CALIB, imatrixContext: 128, imatrixChunks: 4, threads: TEST_THREADS },
      deps({ onStage: (s) => stages.push(s) }),
    );
    assert.ok(stages.includes("imatrix") && stages.indexOf("imatrix") < stages.indexOf("quantize"));
    assert.equal(result.imatrix, path.join(dir, "tiny-IQ2_XXS.imatrix.gguf"));
    assertOnly(dir, ["tiny-IQ2_XXS.gguf", "tiny-IQ2_XXS.imatrix.gguf"]);
    const model = await readGgufModel(output);
    const types = new Set(model.tensors.map((t) => t.typeName));
    assert.ok(types.has("IQ2_XXS"), [...types].join(","));
    assert.equal(result.steps.map((s) => s.tool).join(","), "llama-imatrix,llama-quantize");
    assert.ok(result.steps[1].args.includes(result.imatrix));

    const { getLlama, LlamaCompletion, LlamaLogLevel } = await import("node-llama-cpp");
    const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
    const loaded = await llama.loadModel({ modelPath: output });
    const context = await loaded.createContext({ contextSize: 128 });
    const text = await new LlamaCompletion({ contextSequence: context.getSequence() }).generateCompletion("def main(", { maxTokens: 6, temperature: 0 });
    assert.ok(text.length > 0, "generates tokens");
    await context.dispose();
    await loaded.dispose();
    await llama.dispose();
  });

  it("quantizes a split set to one file, or shard by shard with --keep-split", async () => {
    const r = spawnSync(tools.split, ["--split", "--split-max-tensors", "30", TINY_LLAMA, path.join(dir, "src")], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const first = path.join(dir, "src-00001-of-00002.gguf");
    const single = await runQuantizeJob({ source: first, output: path.join(dir, "one.gguf"), type: "Q8_0", threads: TEST_THREADS }, deps());
    assert.equal((await readGgufModel(single.outputs[0])).isSplit, false);
    const split = await runQuantizeJob({ source: path.join(dir, "src-00002-of-00002.gguf"), output: path.join(dir, "kept.gguf"), type: "Q8_0", keepSplit: true, threads: TEST_THREADS }, deps());
    assert.deepEqual(split.outputs.map((p) => path.basename(p)), ["kept-00001-of-00002.gguf", "kept-00002-of-00002.gguf"]);
    const model = await readGgufModel(split.outputs[0]);
    assert.equal(model.tensors.length, 57);
    assert.equal(split.outputBytes, split.outputs.reduce((a, p) => a + fs.statSync(p).size, 0));
    assertOnly(dir, ["src-00001-of-00002.gguf", "src-00002-of-00002.gguf", "one.gguf", "kept-00001-of-00002.gguf", "kept-00002-of-00002.gguf"]);
  });

  it("requantizes an already-quantized source only when confirmed", async () => {
    const q8 = path.join(dir, "q8.gguf");
    await runQuantizeJob({ source: TINY_LLAMA, output: q8, type: "Q8_0", threads: TEST_THREADS }, deps());
    await assert.rejects(runQuantizeJob({ source: q8, output: path.join(dir, "q4.gguf"), type: "Q4_K_M" }, deps()), isQuantizeError("requantize-not-confirmed"));
    assertOnly(dir, ["q8.gguf"]);
    const result = await runQuantizeJob({ source: q8, output: path.join(dir, "q4.gguf"), type: "Q4_K_M", allowRequantize: true, threads: TEST_THREADS }, deps());
    assert.ok(result.steps[0].args.includes("--allow-requantize"));
    assert.ok((await readGgufModel(result.outputs[0])).tensors.some((t) => t.typeName === "Q4_K"));
  });

  describe("bad input", () => {
    it("a non-GGUF source and a truncated GGUF", async () => {
      const text = path.join(dir, "notes.gguf");
      fs.writeFileSync(text, "this is not a model\n".repeat(10));
      await assert.rejects(runQuantizeJob({ source: text, output: path.join(dir, "o.gguf"), type: "Q8_0" }, deps()), (e: unknown) => isQuantizeError("source-not-gguf")(e) && /not a GGUF/.test((e as Error).message));
      const truncated = path.join(dir, "cut.gguf");
      fs.writeFileSync(truncated, fs.readFileSync(TINY_LLAMA).subarray(0, 5_000_000));
      await assert.rejects(runQuantizeJob({ source: truncated, output: path.join(dir, "o.gguf"), type: "Q8_0" }, deps()), isQuantizeError("source-not-gguf"));
      await assert.rejects(runQuantizeJob({ source: path.join(dir, "missing.gguf"), output: path.join(dir, "o.gguf"), type: "Q8_0" }, deps()), isQuantizeError("source-unreadable"));
      assertOnly(dir, ["notes.gguf", "cut.gguf"]);
    });

    it("an output that is the source (also through another spelling of its path)", async () => {
      const copy = path.join(dir, "m.gguf");
      fs.copyFileSync(TINY_LLAMA, copy);
      const before = sha256File(copy);
      await assert.rejects(runQuantizeJob({ source: copy, output: path.join(dir, "sub/../m.gguf"), type: "Q8_0" }, deps()), isQuantizeError("output-is-source"));
      fs.symlinkSync(copy, path.join(dir, "link.gguf"));
      await assert.rejects(runQuantizeJob({ source: copy, output: path.join(dir, "link.gguf"), type: "Q8_0", overwrite: true }, deps()), isQuantizeError("output-is-source"));
      assert.equal(sha256File(copy), before);
    });

    it("an existing output without confirmation, which stays as it was", async () => {
      const existing = path.join(dir, "o.gguf");
      fs.writeFileSync(existing, "keep me");
      await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: existing, type: "Q8_0" }, deps()), isQuantizeError("output-exists"));
      assert.equal(fs.readFileSync(existing, "utf8"), "keep me");
      await runQuantizeJob({ source: TINY_LLAMA, output: existing, type: "Q8_0", overwrite: true, threads: TEST_THREADS }, deps());
      assert.equal((await readGgufModel(existing)).tensors.length, 57);
    });

    it("an output folder that does not exist or cannot be written", async function () {
      await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "no/such/dir/o.gguf"), type: "Q8_0" }, deps()), isQuantizeError("output-dir-unwritable"));
      const ro = path.join(dir, "ro");
      const mount = mountTmpfs(ro, 1024, true);
      if (!mount) this.skip(); // not permitted to mount (not root / no CAP_SYS_ADMIN): root ignores chmod, so no other way
      try {
        await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(ro, "o.gguf"), type: "Q8_0" }, deps()), (e: unknown) => isQuantizeError("output-dir-unwritable")(e) && /EROFS/.test((e as Error).message));
        assert.deepEqual(fs.readdirSync(ro), []);
      } finally {
        mount.unmount();
      }
    });

    it("a disk too small: refused up front from the dry-run estimate, and cleaned up when the tool runs out of space", async function () {
      const small = path.join(dir, "small");
      const mount = mountTmpfs(small, 2048);
      if (!mount) this.skip(); // mounting a tmpfs is not permitted here
      try {
        await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(small, "o.gguf"), type: "Q8_0" }, deps()), (e: unknown) => isQuantizeError("disk-full")(e) && /needs about/.test((e as Error).message));
        assert.deepEqual(fs.readdirSync(small), []);
        // Skip the pre-check to reach llama-quantize's own failure mid-write.
        await assert.rejects(
          runQuantizeJob({ source: TINY_LLAMA, output: path.join(small, "o.gguf"), type: "Q8_0", checkFreeSpace: false, threads: TEST_THREADS }, deps()),
          (e: unknown) => isQuantizeError("disk-full")(e) && /ran out of space/.test((e as Error).message),
        );
        assert.deepEqual(fs.readdirSync(small), [], "no partial output on the full disk");
      } finally {
        mount.unmount();
      }
    });

    it("an IQ type without an imatrix, and an imatrix file that does not exist", async () => {
      for (const type of ["IQ2_XXS", "IQ1_S", "IQ3_XXS", "iq2_m"]) {
        await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type }, deps()), isQuantizeError("needs-imatrix"));
      }
      await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "IQ2_XXS", imatrix: path.join(dir, "none.gguf") }, deps()), isQuantizeError("imatrix-missing"));
      await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "Q4_K_Q" }, deps()), isQuantizeError("unknown-type"));
      assertOnly(dir, []);
    });

    it("an empty or too-short calibration file", async () => {
      const empty = path.join(dir, "empty.txt");
      fs.writeFileSync(empty, "");
      await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "IQ2_XXS", calibration: empty }, deps()), /empty/);
      const short = path.join(dir, "short.txt");
      fs.writeFileSync(short, "def f():\n    pass\n".repeat(20));
      await assert.rejects(runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "IQ2_XXS", calibration: short, imatrixContext: 512 }, deps()), isQuantizeError("calibration-too-short"));
      assertOnly(dir, ["empty.txt", "short.txt"]);
    });

    it("cancel during the imatrix step and during quantization leaves nothing", async () => {
      const imatrixAbort = new AbortController();
      await assert.rejects(
        runQuantizeJob(
          { source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "IQ2_XXS", calibration: CODE_CALIB, imatrixContext: 128, threads: TEST_THREADS },
          deps({ signal: imatrixAbort.signal, onLine: (l) => /tokenizing the input|computing over/.test(l) && imatrixAbort.abort() }),
        ),
        ToolCancelledError,
      );
      assertOnly(dir, []);
      const quantAbort = new AbortController();
      let sawTensorLine = false;
      await assert.rejects(
        runQuantizeJob(
          { source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "Q4_K_M", threads: 1 },
          deps({ signal: quantAbort.signal, onStage: (s) => s === "quantize" && (sawTensorLine = true), onLine: (l) => sawTensorLine && /^\[\s*1\//.test(l) && quantAbort.abort() }),
        ),
        ToolCancelledError,
      );
      assertOnly(dir, []);
    });

    it("a llama-quantize crash (fake tool killed by SIGSEGV) reports the signal and removes its partial file", async () => {
      await assert.rejects(
        runQuantizeJob({ source: TINY_LLAMA, output: path.join(dir, "o.gguf"), type: "Q8_0" }, {
          executables: { quantize: FAKE_CRASH_QUANTIZE },
          invoke: (_tool, executable, args, o) => runTool({ executable, args, ...o, env: { ...process.env, REAL_LLAMA_QUANTIZE: tools.quantize } }),
        }),
        (e: unknown) => e instanceof ToolFailedError && e.exitSignal === "SIGSEGV" && /killed by SIGSEGV/.test(e.message),
      );
      assertOnly(dir, []);
    });
  });
});
