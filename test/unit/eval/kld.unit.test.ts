import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileFingerprint } from "../../../src/core/eval/fileFingerprint";
import {
  BaseLogitsMissingError, BaseMismatchError, EvalTextTooShortError, guessQuantLabel, runKldForQuant, runKldJob, summaryFromChunkRows,
} from "../../../src/core/eval/kldJob";
import { estimateBaseLogitsBytes, LogitsCache, LogitsCacheFullError } from "../../../src/core/eval/logitsCache";
import { parsePerplexityOutput, parseValueWithError } from "../../../src/core/eval/perplexityParser";
import { KldResultsStore } from "../../../src/core/eval/resultsStore";
import { measureTextOverlap, overlapWarning } from "../../../src/core/eval/textOverlap";
import { locateTools } from "../../../src/core/native/toolLocator";
import { runTool, ToolCancelledError } from "../../../src/core/native/toolRunner";

const ROOT = path.resolve(__dirname, "../../../..");
const fixture = (n: string) => path.join(ROOT, "test", "fixtures", n);
const tools = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found;
const perplexity = tools["llama-perplexity"]?.path;
const quantize = tools["llama-quantize"]?.path;

describe("llama-perplexity output parser", () => {
  it("reads values with errors and percents", () => {
    assert.deepEqual(parseValueWithError("  0.061189 ±   0.004114"), { value: 0.061189, error: 0.004114, percent: false });
    assert.deepEqual(parseValueWithError(" 93.05%"), { value: 93.05, percent: true });
    assert.deepEqual(parseValueWithError("-4.146 ± 0.330 %"), { value: -4.146, error: 0.33, percent: true });
    assert.deepEqual(parseValueWithError("  -0.000000"), { value: -0, percent: false });
    assert.equal(parseValueWithError("abc"), undefined);
  });
});

describe("KLD evaluation on the fixtures", function () {
  this.timeout(300_000);
  let dir: string;
  let q4: string;
  let q2: string;
  let evalSlice: string;
  before(async function () {
    if (!perplexity || !quantize) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kld-test-"));
    q4 = path.join(dir, "tiny-llama-Q4_K_M.gguf");
    q2 = path.join(dir, "tiny-llama-Q2_K.gguf");
    await runTool({ executable: quantize as string, args: [fixture("tiny-llama-f16.gguf"), q4, "Q4_K_M", "2"] });
    await runTool({ executable: quantize as string, args: [fixture("tiny-llama-f16.gguf"), q2, "Q2_K", "2"] });
    // A short held-out slice keeps the test quick on 2 cores.
    evalSlice = path.join(dir, "eval-slice.txt");
    fs.writeFileSync(evalSlice, fs.readFileSync(fixture("code-eval.txt"), "utf8").slice(0, 12_000));
  });
  after(() => { if (dir) fs.rmSync(dir, { recursive: true, force: true }); });

  it("parses every statistic of a real --kl-divergence run", async () => {
    const base = path.join(dir, "manual.kld");
    await runTool({ executable: perplexity as string, args: ["-m", fixture("tiny-llama-f16.gguf"), "-f", evalSlice, "--kl-divergence-base", base, "-c", "256", "--chunks", "4", "-t", "2"] });
    const { lines, parsed } = await runKldForQuant({ perplexity: perplexity as string, contextSize: 256, threads: 2 }, q4, base);
    const out = parsePerplexityOutput(lines);
    assert.deepEqual(out, parsed);
    assert.equal(out.chunkCount, 4);
    assert.equal(out.contextSize, 256);
    assert.equal(out.chunks.length, 4);
    assert.deepEqual(out.chunks.map((c) => c.chunk), [1, 2, 3, 4]);
    // Every non-empty line of every "======" section is captured.
    const sectionLines = (title: string) => {
      const start = lines.findIndex((l) => l.includes(`====== ${title} ======`));
      const body: string[] = [];
      for (let i = start + 1; i < lines.length && lines[i].trim() !== "" && !lines[i].includes("======"); i++) body.push(lines[i]);
      return body;
    };
    for (const title of ["Perplexity statistics", "KL divergence statistics", "Token probability statistics"]) {
      assert.equal(Object.keys(out.sections[title] ?? {}).length, sectionLines(title).length, title);
    }
    const s = out.summary;
    assert.ok(s.meanKld && s.meanKld.value > 0 && (s.meanKld.error ?? 0) > 0);
    for (const k of ["maxKld", "kld99_9", "kld99", "kld95", "kld90", "medianKld", "kld10", "kld5", "kld1", "kld0_1", "minKld"] as const) {
      assert.equal(typeof s[k], "number", k);
    }
    assert.ok((s.maxKld ?? 0) >= (s.kld99_9 ?? 0) && (s.kld99_9 ?? 0) >= (s.kld99 ?? 0) && (s.kld99 ?? 0) >= (s.medianKld ?? 0));
    assert.ok(s.sameTopP?.percent && s.sameTopP.value > 50 && s.sameTopP.value <= 100);
    assert.ok(s.rmsDeltaP?.percent);
    assert.ok(s.pplRatio && s.pplRatio.value > 0.9);
    assert.ok(s.corLnPpl?.percent);
    // The last chunk row carries the running mean, which equals the final mean.
    assert.equal(out.chunks[3].kld.value.toFixed(4), s.meanKld.value.toFixed(4));
    assert.equal(fs.statSync(base).size, estimateBaseLogitsBytes(4096, 256, 4), "size estimate is exact");
    // When llama.cpp loses its final log lines, the last chunk row still gives the running means.
    const cut = lines.findIndex((l) => l.includes("====== Perplexity statistics"));
    const truncated = parsePerplexityOutput(lines.slice(0, cut));
    assert.equal(truncated.summary.meanKld, undefined);
    const rescued = summaryFromChunkRows(truncated);
    assert.ok(rescued?.fromChunkRows);
    assert.equal(rescued?.summary.meanKld?.value.toFixed(4), s.meanKld.value.toFixed(4));
    assert.equal(rescued?.summary.sameTopP?.value.toFixed(2), s.sameTopP?.value.toFixed(2));
    assert.equal(summaryFromChunkRows(parsePerplexityOutput(lines.slice(0, cut - 3))), undefined, "incomplete rows are not used");
  });

  it("computes base logits once, evaluates quants, stores results with tool version and command line", async () => {
    const cache = new LogitsCache(path.join(dir, "cache"), 1024 ** 3);
    const store = new KldResultsStore(path.join(dir, "results"));
    let confirmations = 0;
    const stages: string[] = [];
    const opts = {
      perplexity: perplexity as string, toolVersion: "test-build", basePath: fixture("tiny-llama-f16.gguf"),
      evalPath: evalSlice, calibrationPath: fixture("code-calib.txt"), contextSize: 256, chunks: 4, threads: 2, cache, store,
      confirmBaseLogits: async (bytes: number) => { confirmations++; assert.ok(bytes > 0); return true; },
      onProgress: (p: { stage: string }) => stages.push(p.stage),
      onLine: (l: string) => { if (process.env.KLD_DEBUG) console.log("L", l); },
    };
    const first = await runKldJob({ ...opts, quants: [{ path: q4 }, { path: q2 }] });
    assert.equal(first.results.length, 2);
    const [r4, r2] = first.results;
    assert.equal(r4.label, "Q4_K_M");
    assert.equal(r4.origin, "preset");
    assert.ok((r2.summary.meanKld?.value ?? 0) > (r4.summary.meanKld?.value ?? 0), "Q2_K is worse than Q4_K_M");
    assert.ok(r2.quantBytes < r4.quantBytes);
    assert.match(r4.commandLine, /--kl-divergence-base .*--kl-divergence/);
    assert.equal(r4.toolVersion, "test-build");
    assert.ok(stages.includes("base") && stages.includes("quant"));
    assert.equal(confirmations, 1);
    const again = await runKldJob({ ...opts, quants: [{ path: q4 }] });
    assert.equal(confirmations, 1, "base logits were reused from the cache");
    assert.equal(again.baseLogits.file, first.baseLogits.file);
    const stored = await store.read(first.resultsFile as string);
    assert.equal(stored?.results.length, 2, "re-measuring the same quant replaces its record");
    assert.equal(stored?.base.name, "tiny-llama-f16.gguf");
    assert.equal((await cache.list()).length, 1);
    assert.equal(first.warnings.length, 0, "fixture eval and calib texts do not overlap");
  });

  it("rejects a quant of another model, a short eval text and a missing base-logits file", async () => {
    const cache = new LogitsCache(path.join(dir, "cache2"), 1024 ** 3);
    const moeQ = path.join(dir, "moe-Q8_0.gguf");
    await runTool({ executable: quantize as string, args: [fixture("tiny-moe-f16.gguf"), moeQ, "Q8_0", "2"] });
    const common = { perplexity: perplexity as string, toolVersion: "t", basePath: fixture("tiny-llama-f16.gguf"), contextSize: 256, threads: 2, cache };
    await assert.rejects(runKldJob({ ...common, evalPath: evalSlice, quants: [{ path: moeQ }] }), BaseMismatchError);
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, "def f():\n    return 1\n");
    await assert.rejects(runKldJob({ ...common, evalPath: short, quants: [{ path: q4 }] }), EvalTextTooShortError);
    assert.deepEqual(fs.readdirSync(cache.dir).filter((n) => n.endsWith(".kld") || n.endsWith(".partial")), [], "no partial logits left");
    await assert.rejects(runKldForQuant({ perplexity: perplexity as string }, q4, path.join(dir, "gone.kld")), BaseLogitsMissingError);
  });

  it("warns when the eval text overlaps the calibration text", async () => {
    const cache = new LogitsCache(path.join(dir, "cache3"), 1024 ** 3);
    const warnings: string[] = [];
    await runKldJob({
      perplexity: perplexity as string, toolVersion: "t", basePath: fixture("tiny-llama-f16.gguf"), quants: [{ path: q4 }],
      evalPath: evalSlice, calibrationPath: evalSlice, contextSize: 256, chunks: 2, threads: 2, cache, onWarning: (w) => warnings.push(w),
    });
    assert.match(warnings.join("\n"), /is the calibration text/);
  });

  it("cancelling the base-logits run leaves no partial file", async () => {
    const cache = new LogitsCache(path.join(dir, "cache4"), 1024 ** 3);
    const abort = new AbortController();
    const job = runKldJob({
      perplexity: perplexity as string, toolVersion: "t", basePath: fixture("tiny-llama-f16.gguf"), quants: [{ path: q4 }],
      evalPath: fixture("code-eval.txt"), contextSize: 256, threads: 2, cache, signal: abort.signal,
      onProgress: () => abort.abort(),
    });
    await assert.rejects(job, ToolCancelledError);
    assert.deepEqual(fs.existsSync(cache.dir) ? fs.readdirSync(cache.dir) : [], []);
  });
});

describe("base-logits cache", () => {
  let dir: string;
  beforeEach(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), "logits-cache-")); });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const key = (n: number) => ({ baseFingerprint: `b${n}`, evalFingerprint: "e", contextSize: 256, chunks: 4 });

  it("evicts least recently used entries over the cap and cleans everything", async () => {
    const cache = new LogitsCache(dir, 2500);
    for (const n of [1, 2]) {
      fs.writeFileSync(cache.fileFor(key(n)), Buffer.alloc(1000));
      await cache.put(key(n), { basePath: "b", evalPath: "e" });
      await new Promise((r) => setTimeout(r, 5));
    }
    await cache.get(key(1)); // 1 is now more recent than 2
    await new Promise((r) => setTimeout(r, 5));
    fs.writeFileSync(cache.fileFor(key(3)), Buffer.alloc(1000));
    await cache.makeRoom(1000);
    await cache.put(key(3), { basePath: "b", evalPath: "e" });
    const left = (await cache.list()).map((e) => e.baseFingerprint).sort();
    assert.deepEqual(left, ["b1", "b3"]);
    await assert.rejects(cache.makeRoom(5000), LogitsCacheFullError);
    fs.writeFileSync(path.join(dir, "orphan.kld"), Buffer.alloc(10));
    const cleaned = await cache.clean();
    assert.equal(cleaned.removed, 2);
    assert.equal(cleaned.bytes, 2010);
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("estimates the size from vocabulary, context and chunks", () => {
    // Llama-3 8B on wikitext-2 at ctx 512: ~37 GiB as users report.
    const gib = estimateBaseLogitsBytes(128256, 512, 564) / 1024 ** 3;
    assert.ok(gib > 30 && gib < 40, String(gib));
  });
});

describe("eval text checks and labels", () => {
  it("measures overlap on the fixtures and warns on a copy", () => {
    const e = fs.readFileSync(fixture("code-eval.txt"), "utf8");
    const c = fs.readFileSync(fixture("code-calib.txt"), "utf8");
    const o = measureTextOverlap(e, c);
    assert.ok(o.fraction < 0.05 && o.evalLines > 1000);
    assert.equal(overlapWarning(o), undefined);
    const mixed = measureTextOverlap(e.slice(0, 20000) + c.slice(0, 20000), c);
    assert.match(overlapWarning(mixed) ?? "", /also occur in the calibration text/);
  });

  it("fingerprints content, not names", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fp-"));
    fs.writeFileSync(path.join(dir, "a"), "same");
    fs.writeFileSync(path.join(dir, "b"), "same");
    fs.writeFileSync(path.join(dir, "c"), "other");
    assert.equal(await fileFingerprint(path.join(dir, "a")), await fileFingerprint(path.join(dir, "b")));
    assert.notEqual(await fileFingerprint(path.join(dir, "a")), await fileFingerprint(path.join(dir, "c")));
    fs.rmSync(dir, { recursive: true });
  });

  it("labels stock presets from file names", () => {
    assert.deepEqual(guessQuantLabel("/m/model-Q4_K_M.gguf"), { label: "Q4_K_M", origin: "preset" });
    assert.deepEqual(guessQuantLabel("/m/model-IQ2_XXS.gguf"), { label: "IQ2_XXS", origin: "preset" });
    assert.deepEqual(guessQuantLabel("/m/my-recipe.gguf"), { label: "my-recipe", origin: "other" });
  });
});
