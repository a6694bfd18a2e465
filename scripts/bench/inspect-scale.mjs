// `inspect --json` on synthetic headers with many tensors (data section sparse): wall time, peak RSS
// and whether it finished. Run: node esbuild.mjs && node scripts/bench/inspect-scale.mjs [60000 2000000]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const counts = process.argv.slice(2).map(Number).filter((n) => n > 0);
const dir = path.join(root, ".bench/inspect-scale");
fs.mkdirSync(dir, { recursive: true });

function writeHeader(file, tensorCount) {
  const fd = fs.openSync(file, "w");
  let pos = 0;
  const out = [];
  let pending = 0;
  const flush = () => { const b = Buffer.concat(out); fs.writeSync(fd, b, 0, b.length, pos); pos += b.length; out.length = 0; pending = 0; };
  const push = (b) => { out.push(b); pending += b.length; if (pending > 1 << 22) flush(); };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); push(b); };
  const str = (s) => { const b = Buffer.from(s); u64(b.length); push(b); };
  push(Buffer.from("GGUF")); u32(3); u64(tensorCount); u64(2);
  str("general.architecture"); u32(8); str("llama");
  str("llama.block_count"); u32(4); u32(Math.ceil(tensorCount / 64));
  const kinds = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_up_exps", "ffn_gate_exps", "ffn_down_exps", "attn_norm"];
  for (let i = 0; i < tensorCount; i++) { str(`blk.${Math.floor(i / 64)}.${kinds[i % 8]}.${i % 64}.weight`); u32(1); u64(32); u32(0); u64(i * 128); }
  flush();
  const dataStart = Math.ceil(pos / 32) * 32;
  fs.ftruncateSync(fd, dataStart + tensorCount * 128); // sparse data section
  fs.closeSync(fd);
  return pos;
}

const rows = [];
for (const n of counts.length ? counts : [60_000, 2_000_000]) {
  const file = path.join(dir, `t${n}.gguf`);
  const headerBytes = writeHeader(file, n);
  const started = Date.now();
  const r = spawnSync("/usr/bin/time", ["-f", "%M", process.execPath, path.join(root, "dist/cli.js"), "inspect", file, "--json"], { encoding: "utf8", maxBuffer: 1 << 30, stdio: ["ignore", "ignore", "pipe"] });
  const rssKiB = Number(r.stderr.trim().split("\n").at(-1));
  rows.push({ tensors: n, headerMiB: +(headerBytes / 2 ** 20).toFixed(1), exit: r.status, wallS: +((Date.now() - started) / 1000).toFixed(1), peakRssMiB: Math.round(rssKiB / 1024), error: r.status === 0 ? "" : r.stderr.split("\n")[0].slice(0, 200) });
  fs.rmSync(file);
}
console.log(JSON.stringify(rows, null, 2));
