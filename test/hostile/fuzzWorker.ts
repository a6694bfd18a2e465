// The fuzz benchmark's worker (bundled by scripts/bench/gguf-fuzz.mjs): mutates GGUF headers in
// place, runs each through the reader, the summary and `inspect --json`, and prints one line per
// run ("<i> <ok|typed:<code>|crash> <ms>") so the parent can spot a hang and kill it. The last line
// is "rss <max resident KiB>".
import { promises as fsp } from "node:fs";
import path from "node:path";
import { runCli } from "../../src/cli/main";
import { GgufError, readGgufFile, readGgufModel, summarizeGguf } from "../../src/core/gguf";
import { corpusMakers } from "./corpus";

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Base { file: string; header: Buffer; size: number }

async function prepareBases(workDir: string, fixtures: readonly string[]): Promise<Base[]> {
  const bases: Base[] = [];
  for (const f of fixtures) {
    const info = await readGgufFile(f);
    const header = (await fsp.readFile(f)).subarray(0, info.tensorDataOffset);
    const file = path.join(workDir, `base-${path.basename(f)}`);
    await fsp.writeFile(file, header);
    await fsp.truncate(file, info.fileSize); // sparse: the reader never looks at tensor bytes
    bases.push({ file, header, size: info.fileSize });
  }
  for (const [name, expect, make] of corpusMakers()) {
    if (expect !== "valid") continue;
    const b = make();
    if (b.length > 4 << 20) continue;
    const file = path.join(workDir, `base-${name}.gguf`);
    await fsp.writeFile(file, b);
    bases.push({ file, header: b, size: b.length });
  }
  return bases;
}

const EXTREMES = [0n, 1n, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

async function main(): Promise<void> {
  const [workDir, startText, countText, seedText, ...fixtures] = process.argv.slice(2);
  const start = Number(startText);
  const count = Number(countText);
  await fsp.mkdir(workDir, { recursive: true });
  const bases = await prepareBases(workDir, fixtures);
  const rnd = mulberry32(Number(seedText));
  // Draw and discard the mutations before `start`, so a restarted worker continues the same sequence.
  for (let i = 0; i < start; i++) for (let k = 0; k < 12; k++) rnd();
  const sink = { out: (_t: string) => undefined, err: (_t: string) => undefined, signal: new AbortController().signal };
  for (let i = start; i < start + count; i++) {
    const draws = Array.from({ length: 12 }, () => rnd());
    const base = bases[Math.floor(draws[0] * bases.length)];
    const h = await fsp.open(base.file, "r+");
    const len = base.header.length;
    const mode = Math.floor(draws[1] * 5);
    let restore: () => Promise<void>;
    if (mode === 0) {
      const at = [2, 3, 4, 5].map((k) => Math.floor(draws[k] * len));
      for (const [j, a] of at.entries()) await h.write(Buffer.from([base.header[a] ^ (1 << Math.floor(draws[6 + j] * 8))]), 0, 1, a);
      restore = async () => { for (const a of at) await h.write(base.header, a, 1, a); };
    } else if (mode === 1) {
      const cut = Math.floor(draws[2] * len);
      await h.truncate(cut);
      restore = async () => { await h.truncate(base.size); await h.write(base.header, cut, len - cut, cut); };
    } else if (mode === 2 || mode === 3) {
      const width = mode === 2 ? 8 : 4;
      const at = Math.max(0, Math.min(len - width, Math.floor(draws[2] * len)));
      const v = Buffer.alloc(8);
      if (width === 8) v.writeBigUInt64LE(EXTREMES[Math.floor(draws[3] * EXTREMES.length)]);
      else v.writeUInt32LE(draws[4] < 0.5 ? Math.floor(draws[5] * 64) : Math.floor(draws[5] * 2 ** 32));
      await h.write(v, 0, width, at);
      restore = async () => { await h.write(base.header, at, width, at); };
    } else {
      // A run of 0xff bytes (lengths and counts become huge all at once).
      const at = Math.floor(draws[2] * len);
      const n = Math.min(len - at, 1 + Math.floor(draws[3] * 32));
      await h.write(Buffer.alloc(n, 0xff), 0, n, at);
      restore = async () => { await h.write(base.header, at, n, at); };
    }
    const t0 = Date.now();
    let result = "ok";
    try {
      const model = await readGgufModel(base.file, { maxMaterializedArrayLength: i % 8 === 0 ? Infinity : 4096 });
      summarizeGguf(model);
      const code = await runCli(["inspect", base.file, "--json"], sink);
      if (code !== 0) result = "crash:inspect-failed-on-readable";
    } catch (e) {
      result = e instanceof GgufError ? `typed:${e.code}` : `crash:${e instanceof Error ? e.name : typeof e}`;
    }
    process.stdout.write(`${i} ${result} ${Date.now() - t0}\n`);
    await restore();
    await h.close();
  }
  process.stdout.write(`rss ${process.resourceUsage().maxRSS}\n`);
}

void main().catch((e: unknown) => {
  process.stdout.write(`fatal ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(3);
});
