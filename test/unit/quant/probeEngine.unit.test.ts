// gguf-studio-probe, the real binary built by build:native, on the real fixtures.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { locateTools } from "../../../src/core/native/toolLocator";
import { ToolCancelledError } from "../../../src/core/native/toolRunner";
import { ProbeEngine, ProbeEngineError } from "../../../src/core/quant/probeEngine";

const ROOT = path.resolve(__dirname, "../../../..");
const fixture = (n: string) => path.join(ROOT, "test", "fixtures", n);
const TOOLS = locateTools({ extensionRoot: ROOT, pathEnv: "" }).found;
const ENGINE = TOOLS["gguf-studio-probe"]?.path;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids of engine processes whose command line holds `marker` (a unique file path). */
function enginePids(marker: string): number[] {
  const r = spawnSync("pgrep", ["-f", marker], { encoding: "utf8" });
  return r.stdout.split("\n").filter(Boolean).map(Number).filter((p) => p !== process.pid);
}

describe("probe engine (gguf-studio-probe)", function () {
  let dir: string;
  let text: string;
  let engine: ProbeEngine | undefined;
  before(function () {
    if (!ENGINE) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "probe-engine-"));
    text = path.join(dir, "probe.txt");
    fs.copyFileSync(fixture("code-calib.txt"), text);
  });
  after(async () => {
    await engine?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it("loads once, measures groups in memory, and restores every tensor after a probe", async () => {
    engine = await ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-llama-f16.gguf"), textPath: text, contextSize: 256, chunks: 3, fullKld: true, threads: 2 });
    assert.equal(engine.ready.nVocab, 4096);
    assert.equal(engine.ready.tokens, 3 * (256 - 1 - 128), "scored tokens: the second half of each chunk, as llama-perplexity");
    const none = await engine.evaluate([], "nothing");
    assert.ok(none.kld < 1e-6 && none.topK.mean < 1e-6, `the base against itself: ${none.kld}`);
    const q2 = await engine.evaluate([{ name: "blk.0.ffn_down.weight", type: "Q2_K" }], "blk.0.ffn_down at Q2_K");
    const q8 = await engine.evaluate([{ name: "blk.0.ffn_down.weight", type: "Q8_0" }], "blk.0.ffn_down at Q8_0");
    assert.ok(q2.kld > q8.kld && q8.kld > 0, `Q2_K ${q2.kld} > Q8_0 ${q8.kld} > 0`);
    // Top-k keeps the residual mass, so it never reads above the full KLD, and stays close to it.
    assert.ok(q2.topK.mean <= q2.full!.mean * 1.0001 && q2.topK.mean > 0.8 * q2.full!.mean, `top-k ${q2.topK.mean} vs full ${q2.full?.mean}`);
    const after = await engine.evaluate([], "nothing again");
    assert.ok(after.kld < 1e-6, `the originals were restored: ${after.kld}`);
    const errors = await engine.weightErrors(["blk.0.ffn_down.weight", "output.weight"], ["Q2_K", "Q4_K", "Q8_0"]);
    for (const name of ["blk.0.ffn_down.weight", "output.weight"]) {
      const e = errors.get(name) as Map<string, number>;
      assert.ok((e.get("Q2_K") as number) > (e.get("Q4_K") as number) && (e.get("Q4_K") as number) > (e.get("Q8_0") as number), `${name}: ${[...e]}`);
    }
  });

  it("weights the weight-error proxy by the probe text's activations with --proxy-imatrix, and quantizes without them", async function () {
    const imatrixTool = TOOLS["llama-imatrix"]?.path;
    if (!imatrixTool) this.skip();
    const im = path.join(dir, "proxy.imatrix.gguf");
    const r = spawnSync(imatrixTool as string, ["-m", fixture("tiny-llama-f16.gguf"), "-f", text, "-o", im, "-c", "256", "--chunks", "3", "-t", "2"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    const names = ["blk.0.ffn_down.weight", "blk.3.attn_v.weight"];
    const plain = await ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-llama-f16.gguf"), textPath: text, contextSize: 256, chunks: 3, threads: 2 });
    const weighted = await ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-llama-f16.gguf"), textPath: text, contextSize: 256, chunks: 3, threads: 2, proxyImatrix: im });
    try {
      assert.ok((weighted.ready.proxyImatrixEntries ?? 0) > 0, `proxy imatrix entries: ${weighted.ready.proxyImatrixEntries}`);
      assert.equal(weighted.ready.imatrixEntries, 0, "the quantization itself has no imatrix");
      const a = await plain.weightErrors(names, ["Q2_K", "Q4_K"]);
      const b = await weighted.weightErrors(names, ["Q2_K", "Q4_K"]);
      for (const n of names) {
        const pa = a.get(n)?.get("Q2_K") as number;
        const pb = b.get(n)?.get("Q2_K") as number;
        assert.ok(pa > 0 && pb > 0 && Math.abs(Math.log(pa / pb)) > 1e-3, `${n}: the activations change the proxy (${pa} vs ${pb})`);
        assert.ok(pb > (b.get(n)?.get("Q4_K") as number), `${n}: still falls with more bits`);
      }
      // The evaluation quantizes the same way with or without the proxy statistics.
      const probe = [{ name: "blk.0.ffn_down.weight", type: "Q3_K" }];
      assert.equal((await plain.evaluate(probe, "plain")).kld, (await weighted.evaluate(probe, "weighted")).kld);
    } finally {
      await plain.close();
      await weighted.close();
    }
  });

  it("names the problem in a request without stopping", async () => {
    assert.ok(engine);
    await assert.rejects(engine.evaluate([{ name: "blk.99.nothing.weight", type: "Q4_K" }], "a missing tensor"), /no tensor named blk\.99\.nothing\.weight/);
    await assert.rejects(engine.evaluate([{ name: "blk.0.ffn_down.weight", type: "Q9_X" }], "a bad type"), /unknown type Q9_X/);
    await assert.rejects(engine.evaluate([{ name: "blk.0.ffn_down.weight", type: "IQ2_XXS" }], "an imatrix-only type"), /needs imatrix data/);
    assert.ok((await engine.evaluate([], "still alive")).kld < 1e-6);
  });

  it("a crash mid-probe is an error naming the probe", async () => {
    const marker = path.join(dir, "crash-probe.txt");
    fs.copyFileSync(text, marker);
    const e2 = await ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-moe-f16.gguf"), textPath: marker, contextSize: 256, chunks: 3, threads: 2 });
    const pending = e2.evaluate([{ name: "blk.1.ffn_down_exps.weight", type: "Q3_K" }], "blk.1.ffn_down_exps at Q3_K");
    for (const pid of enginePids(marker)) process.kill(pid, "SIGKILL");
    await assert.rejects(pending, /stopped while measuring blk\.1\.ffn_down_exps at Q3_K/);
    await e2.close();
  });

  it("cancel stops the engine at once", async () => {
    const abort = new AbortController();
    const e3 = await ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-llama-f16.gguf"), textPath: text, contextSize: 256, chunks: 3, threads: 2, signal: abort.signal });
    const pending = e3.evaluate([{ name: "blk.2.attn_q.weight", type: "Q3_K" }], "blk.2.attn_q at Q3_K");
    abort.abort();
    await assert.rejects(pending, ToolCancelledError);
    await e3.close();
  });

  it("refuses a probe text shorter than the probe chunks, and a model that does not fit, before loading", async () => {
    const short = path.join(dir, "short.txt");
    fs.writeFileSync(short, "def f(x):\n    return x\n");
    await assert.rejects(ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-llama-f16.gguf"), textPath: short, contextSize: 256, chunks: 12 }), (e: unknown) => {
      assert.ok(e instanceof ProbeEngineError && e.code === "text-too-short", String(e));
      assert.match(e.message, /the probe text has \d+ tokens; 12 chunks of 256 need 3072/);
      return true;
    });
    await assert.rejects(ProbeEngine.start({ executable: ENGINE as string, basePath: fixture("tiny-llama-f16.gguf"), textPath: text, contextSize: 256, chunks: 2, maxMemoryBytes: 1_000_000 }), (e: unknown) => {
      assert.ok(e instanceof ProbeEngineError && e.code === "insufficient-memory", String(e));
      assert.match(e.message, /needs about \d+ MiB of RAM/);
      return true;
    });
  });

  it("ends itself when its parent dies", async () => {
    const marker = path.join(dir, "orphan-probe.txt");
    fs.copyFileSync(text, marker);
    // A parent that starts the engine and is then killed without a chance to clean up.
    const parent = spawn(process.execPath, ["-e", `require("child_process").spawn(${JSON.stringify(ENGINE)}, ["-m", ${JSON.stringify(fixture("tiny-llama-f16.gguf"))}, "-f", ${JSON.stringify(marker)}, "--chunks", "2", "-t", "1"], { stdio: ["pipe", "ignore", "ignore"] }); setInterval(() => {}, 1000);`], { stdio: "ignore" });
    let pids: number[] = [];
    for (let i = 0; i < 100 && pids.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      pids = enginePids(marker);
    }
    assert.ok(pids.length > 0, "the engine started");
    parent.kill("SIGKILL");
    for (let i = 0; i < 100 && pids.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(pids.filter(alive), [], "no engine outlives its parent");
  });
});
