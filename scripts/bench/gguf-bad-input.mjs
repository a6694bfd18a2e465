// Feeds the same broken/unusual GGUFs to our reader, @huggingface/gguf and readGgufFileInfo, each in
// its own process with a time limit, and prints what each did (for docs/ARCHITECTURE.md).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dir = path.join(root, ".bench/bad-input");
fs.mkdirSync(dir, { recursive: true });
const bundle = path.join(root, ".bench/gguf-core.cjs");
await esbuild.build({ entryPoints: [path.join(root, "src/core/gguf/index.ts")], bundle: true, platform: "node", format: "cjs", target: "node20", outfile: bundle, logLevel: "warning" });

const src = fs.readFileSync(path.join(root, "test/fixtures/tiny-llama-f16.gguf"));
const at = (needle) => src.indexOf(Buffer.from(needle));
const cases = [];
const mk = (name, mutate) => { const b = Buffer.from(src); const out = mutate(b) ?? b; fs.writeFileSync(path.join(dir, name), out); cases.push(name); };
mk("truncated-in-metadata.gguf", (b) => b.subarray(0, at("tokenizer.ggml.scores") + 3));
mk("bad-magic.gguf", (b) => { b.write("GGML", 0); });
mk("kv-count-2^50.gguf", (b) => { b.writeBigUInt64LE(2n ** 50n, 16); });
mk("tensor-count-2^40.gguf", (b) => { b.writeBigUInt64LE(2n ** 40n, 8); });
mk("string-length-past-eof.gguf", (b) => { b.writeBigUInt64LE(BigInt(b.length * 4), at("general.name") - 8); });
mk("array-count-2^40.gguf", (b) => { b.writeBigUInt64LE(2n ** 40n, at("tokenizer.ggml.tokens") + "tokenizer.ggml.tokens".length + 8); });
mk("unknown-value-type.gguf", (b) => { b.writeUInt32LE(77, at("general.name") + "general.name".length); });
mk("tensor-data-past-eof.gguf", (b) => b.subarray(0, b.length - 4096));
mk("unknown-ggml-type-200.gguf", (b) => { const o = at("output_norm.weight") + "output_norm.weight".length; b.writeUInt32LE(200, o + 4 + 8 * b.readUInt32LE(o)); });
mk("overlapping-tensors.gguf", (b) => { const o = at("output_norm.weight") + "output_norm.weight".length; b.writeBigUInt64LE(0n, o + 4 + 8 * b.readUInt32LE(o) + 4); });

const readers = ["ours", "hf", "nlc"];
const rows = [];
for (const c of cases) {
  const row = { case: c };
  for (const r of readers) {
    const t0 = Date.now();
    const p = spawnSync(process.execPath, ["--max-old-space-size=2048", path.join(root, "scripts/bench/gguf-runners/probe.mjs"), r, path.join(dir, c), bundle], { encoding: "utf8", timeout: 20000, killSignal: "SIGKILL" });
    const ms = Date.now() - t0;
    let res;
    if (p.error?.code === "ETIMEDOUT") res = `no answer within 20 s (killed; node-llama-cpp ignores SIGTERM)`;
    else if (p.status !== 0) res = `CRASH exit ${p.status ?? p.signal}: ${(p.stderr || "").trim().split("\n").filter(Boolean).slice(-1)[0]?.slice(0, 100)}`;
    else {
      const j = JSON.parse(p.stdout.trim().split("\n").pop());
      res = j.ok ? `read OK (${j.tensors} tensors${j.sample ? `, last ${j.sample}` : ""})` : `${j.name}${j.code ? `[${j.code}]` : ""}: ${j.message}`;
      res += ` — ${ms} ms, ${(j.rss / 1024).toFixed(0)} MB`;
    }
    row[r] = res;
    console.log(`${c.padEnd(32)} ${r.padEnd(5)} ${res}`);
  }
  rows.push(row);
}
fs.writeFileSync(path.join(root, ".bench/gguf-bad-input.json"), JSON.stringify(rows, null, 2));
