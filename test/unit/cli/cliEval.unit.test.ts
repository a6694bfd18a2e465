// `gguf-studio eval mc` and `eval divergence` on the tiny-llama fixture and a Q4_K_M made with the
// real llama-quantize, in-process through node-llama-cpp. The numbers are recomputed here from the
// per-question letters the command reports against the set's own answers.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli } from "../../../src/cli/main";
import type { AccuracyResultRecord, DivergenceResultRecord } from "../../../src/core/eval/accuracyRecords";
import { EvalCancelledError, runMcJob } from "../../../src/core/eval/mcJob";
import { KldResultsStore } from "../../../src/core/eval/resultsStore";
import { GgufValueType, readGgufFile, writeGgufWithMetadata, type GgufArray } from "../../../src/core/gguf";
import { locateTools } from "../../../src/core/native/toolLocator";

const ROOT = path.resolve(__dirname, "../../../..");
const FIXTURES = path.join(ROOT, "test/fixtures");
const TINY_LLAMA = path.join(FIXTURES, "tiny-llama-f16.gguf");
const SET = path.join(FIXTURES, "code-mc/next-line.jsonl");
const DEV = path.join(FIXTURES, "code-mc/next-line.dev.jsonl");
const PROMPTS = path.join(FIXTURES, "code-mc/prompts.jsonl");
const quantizeTool = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found["llama-quantize"];

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await runCli(argv, { out: (t) => { out += t; }, err: (t) => { err += t; }, signal: new AbortController().signal });
  return { code, out, err };
}

interface McJson { base: AccuracyResultRecord; quants: (AccuracyResultRecord | { quantName: string; error: string })[]; questions: number; resultsFile?: string }

describe("gguf-studio eval mc / divergence", function () {
  this.timeout(600_000);
  let dir: string;
  let q4: string;
  let answers: number[];
  before(async function () {
    if (!quantizeTool) this.skip();
    dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), "gguf-cli-eval-"));
    q4 = path.join(dir, "tiny-Q4_K_M.gguf");
    const r = spawnSync(quantizeTool.path, [TINY_LLAMA, q4, "Q4_K_M"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    answers = (await fs.promises.readFile(SET, "utf8")).trim().split("\n").map((l) => (JSON.parse(l) as { answer: number }).answer);
  });
  after(async () => {
    if (dir) await fs.promises.rm(dir, { recursive: true, force: true });
  });

  it("scores base and quant, recomputable from the chosen letters; flips against the base; stored with versions and command line", async () => {
    const store = path.join(dir, "store");
    const r = await cli("eval", "mc", TINY_LLAMA, q4, TINY_LLAMA, "--set", SET, "--dev", DEV, "--threads", "1", "--gpu", "cpu", "--json", "--store", store);
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out) as McJson;
    assert.equal(res.questions, answers.length);
    const quant = res.quants[0] as AccuracyResultRecord;
    const self = res.quants[1] as AccuracyResultRecord;
    for (const rec of [res.base, quant, self]) {
      assert.equal(rec.chosen.length, answers.length);
      const correct = [...rec.chosen].filter((c, i) => "ABCD".indexOf(c) === answers[i]).length;
      assert.equal(rec.accuracy.correct, correct);
      assert.ok(Math.abs(rec.accuracy.accuracy - (100 * correct) / answers.length) < 1e-9);
      const size = (await fs.promises.stat(rec.quantPath)).size;
      assert.equal(rec.quantBytes, size);
      assert.ok(Math.abs(rec.efficiency - (rec.accuracy.accuracy - 25) / (size / 1e9)) < 1e-9);
      assert.deepEqual(rec.subjects.map((s) => s.subject), ["python_self_lines", "python_plain_lines"]);
    }
    // Flips recomputed from the two letter strings.
    let w2r = 0;
    let r2w = 0;
    for (let i = 0; i < answers.length; i++) {
      const b = "ABCD".indexOf(res.base.chosen[i]) === answers[i];
      const q = "ABCD".indexOf(quant.chosen[i]) === answers[i];
      if (!b && q) w2r++;
      if (b && !q) r2w++;
    }
    assert.deepEqual([quant.flips?.wrongToRight, quant.flips?.rightToWrong], [w2r, r2w]);
    assert.equal(self.chosen, res.base.chosen, "the base against itself answers identically");
    // The header and 5 shots are evaluated once per subject: most prompt tokens are reused.
    const t = res.base.promptTokens;
    assert.ok(t && t.reused > 3 * t.evaluated, `prefix reuse: ${JSON.stringify(t)}`);
    assert.equal(self.flips?.flips, 0);
    const stored = await new KldResultsStore(store).listBases();
    assert.equal(stored.length, 1);
    const acc = stored[0].data.accuracy ?? [];
    assert.ok(acc.some((a) => a.isBase) && acc.some((a) => a.quantName === "tiny-Q4_K_M.gguf"));
    assert.match(acc[0].runtimeVersion, /^node-llama-cpp 3\.22\.1 \(llama\.cpp /);
    assert.match(acc[0].commandLine, /^gguf-studio eval mc .*--set .*next-line\.jsonl/);
    // The text report shows the same accuracy.
    const text = await cli("eval", "mc", TINY_LLAMA, "--set", SET, "--dev", DEV, "--threads", "1", "--gpu", "cpu");
    assert.equal(text.code, 0, text.err);
    assert.ok(text.out.includes(`${res.base.accuracy.accuracy.toFixed(2)}% ± ${res.base.accuracy.stderr.toFixed(2)}`), text.out);
  });

  it("divergence of the base against itself is 100%; a quant gets its own rate", async () => {
    const r = await cli("eval", "divergence", TINY_LLAMA, TINY_LLAMA, q4, "--prompts", PROMPTS, "--tokens", "16", "--threads", "1", "--gpu", "cpu", "--json");
    assert.equal(r.code, 0, r.err);
    const res = JSON.parse(r.out) as { prompts: number; quants: DivergenceResultRecord[] };
    assert.equal(res.prompts, 16);
    const [self, quant] = res.quants;
    assert.equal(self.stats.exactMatchPercent, 100);
    assert.equal(self.stats.meanMatchingPrefix, 16);
    assert.deepEqual(self.stats.firstDivergence, new Array(16).fill(0));
    assert.equal(quant.stats.prompts, 16);
    const diverged = quant.stats.firstDivergence.reduce((s, c) => s + c, 0);
    assert.equal(diverged, Math.round(16 * (1 - quant.stats.exactMatchPercent / 100)));
  });

  it("a quant with another vocabulary is refused by name; a corrupt model is an error and the others still run", async () => {
    const file = await readGgufFile(TINY_LLAMA, { maxMaterializedArrayLength: Infinity });
    const tokens = file.metadata.get("tokenizer.ggml.tokens")?.value as GgufArray;
    const values = [...tokens.values];
    values[values.length - 1] = `${String(values[values.length - 1])}_renamed`;
    const otherVocab = path.join(dir, "other-vocab.gguf");
    await writeGgufWithMetadata({ input: q4, output: otherVocab, edits: { set: [{ key: "tokenizer.ggml.tokens", type: GgufValueType.ARRAY, value: { ...tokens, values } }] } });
    const corrupt = path.join(dir, "corrupt.gguf");
    const bytes = await fs.promises.readFile(q4);
    await fs.promises.writeFile(corrupt, bytes.subarray(0, Math.floor(bytes.length / 2)));

    const d = await cli("eval", "divergence", TINY_LLAMA, otherVocab, corrupt, q4, "--prompts", PROMPTS, "--tokens", "4", "--threads", "1", "--gpu", "cpu", "--json");
    assert.equal(d.code, 1);
    assert.match(d.err, /other-vocab\.gguf: other-vocab\.gguf has a different vocabulary from tiny-llama-f16\.gguf/);
    assert.match(d.err, /corrupt\.gguf: /);
    const dj = JSON.parse(d.out) as { quants: ({ quantName: string; error?: string } | DivergenceResultRecord)[] };
    assert.deepEqual(dj.quants.map((q) => [q.quantName, "error" in q]), [["other-vocab.gguf", true], ["corrupt.gguf", true], ["tiny-Q4_K_M.gguf", false]]);

    const m = await cli("eval", "mc", TINY_LLAMA, otherVocab, corrupt, "--set", SET, "--dev", DEV, "--limit", "6", "--threads", "1", "--gpu", "cpu", "--json");
    assert.equal(m.code, 1);
    const mj = JSON.parse(m.out) as McJson;
    const other = mj.quants[0] as AccuracyResultRecord;
    assert.equal(other.flips, undefined);
    assert.match(other.flipsRefused ?? "", /other-vocab\.gguf has a different vocabulary/);
    assert.ok("error" in mj.quants[1]);
  });

  it("cancel stops within the quant's first questions and keeps the finished base result", async () => {
    const store = new KldResultsStore(path.join(dir, "cancel-store"));
    const abort = new AbortController();
    let lastSeen = { model: -1, done: 0 };
    await assert.rejects(runMcJob({
      basePath: TINY_LLAMA, quants: [q4, q4], setPath: SET, devPath: DEV, limit: 12, threads: 1, gpu: "cpu", commandLine: "test", store, signal: abort.signal,
      onProgress: (p) => { lastSeen = { model: p.model, done: p.done }; if (p.model === 1 && p.done === 2) abort.abort(); },
    }), (e: unknown) => e instanceof EvalCancelledError && e.finished === 1);
    assert.deepEqual(lastSeen, { model: 1, done: 2 }, "no question ran after the cancel");
    const [only] = await store.listBases();
    assert.deepEqual((only.data.accuracy ?? []).map((a) => [a.quantName, a.isBase]), [["tiny-llama-f16.gguf", true]]);
  });

  it("bad input: the error names the file, the line and the problem", async () => {
    const bad = path.join(dir, "bad.jsonl");
    await fs.promises.writeFile(bad, '{"question":"q","choices":["a","b"],"answer":0}\n{"question":"q","choices":["a"],"answer":0}\n');
    const r = await cli("eval", "mc", TINY_LLAMA, "--set", bad, "--gpu", "cpu");
    assert.equal(r.code, 1);
    assert.match(r.err, /bad\.jsonl:2: a question needs at least 2 choices, this one has 1/);
    const few = await cli("eval", "mc", TINY_LLAMA, "--set", DEV, "--shots", "5", "--gpu", "cpu");
    assert.equal(few.code, 1);
    assert.match(few.err, /next-line\.dev\.jsonl: subject "python_self_lines" has 5 questions; with 5 shots/);
    const usage = await cli("eval", "mc", TINY_LLAMA, "--set", SET, "--format", "html");
    assert.equal(usage.code, 2);
    assert.match(usage.err, /--format must be raw or chat/);
  });
});
