#!/usr/bin/env node
// Writes random-weight llama-architecture GGUFs (F16) that llama.cpp loads and runs, for the
// optimizer's scale benchmark (bench:optimizer-scale models): their KLDs mean nothing, their costs
// (bytes to write and load, FLOPs per token) are those of a real model of that shape. The tokenizer
// (every `tokenizer.*` key, vocab 4096) is copied byte for byte from a fixture.
//
//   node scripts/bench/randomWeightGguf.mjs [--preset small|medium|1b|all] [--out FILE]
//     [--layers N --hidden N --ffn N --heads N --kv-heads N [--experts N --experts-used K]]
//     [--seed N] [--tokenizer-from FILE] [--force]
//
// Without --out a preset goes to .bench/scale/<preset>-f16.gguf. A file that already holds the same
// parameters (recorded in `general.description`) is kept. Weights are N(0, 0.02) drawn by inverse
// transform from a 16-bit uniform, deterministic per (seed, tensor name); norms are 1. Output is
// streamed to a temp file and renamed into place.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const DEFAULT_TOKENIZER = path.join(ROOT, "test/fixtures/tiny-llama-f16.gguf");
const GENERATOR = "randomWeightGguf v1";
const ALIGNMENT = 32;
const STD = 0.02;

/** Shapes chosen so every weight row is a multiple of 256 (all k-quants apply). */
export const PRESETS = {
  small: { layers: 12, hidden: 512, ffn: 1536, heads: 8, kvHeads: 4 },
  medium: { layers: 24, hidden: 1024, ffn: 2816, heads: 16, kvHeads: 8 },
  // TinyLlama-1.1B's body (22 × 2048, ffn 5632, 32/4 heads) with the fixture's 4096 vocab: 0.99 B.
  "1b": { layers: 22, hidden: 2048, ffn: 5632, heads: 32, kvHeads: 4 },
};

// GGUF value types (gguf.h) and ggml tensor types.
const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STR: 8, ARR: 9, U64: 10, I64: 11, F64: 12 };
const FIXED = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
const GGML_F32 = 0;
const GGML_F16 = 1;

/** Reads a GGUF header's metadata: raw bytes of each entry, plus decoded scalars and array counts. */
export function readHeaderEntries(file) {
  const fd = fs.openSync(file, "r");
  try {
    const size = fs.fstatSync(fd).size;
    const buf = Buffer.alloc(Math.min(size, 64 * 1024 * 1024));
    fs.readSync(fd, buf, 0, buf.length, 0);
    if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${file} is not a GGUF file`);
    let p = 8;
    const u64 = () => { const v = Number(buf.readBigUInt64LE(p)); p += 8; return v; };
    const str = () => { const n = u64(); const s = buf.toString("utf8", p, p + n); p += n; return s; };
    const skip = (type) => {
      if (type === T.STR) { const n = u64(); p += n; return; }
      if (type === T.ARR) {
        const et = buf.readUInt32LE(p); p += 4;
        const count = u64();
        if (FIXED[et] !== undefined) p += FIXED[et] * count; else for (let i = 0; i < count; i++) skip(et);
        return;
      }
      if (FIXED[type] === undefined) throw new Error(`${file}: unknown metadata type ${type}`);
      p += FIXED[type];
    };
    const tensorCount = u64();
    const kvCount = u64();
    const entries = [];
    for (let i = 0; i < kvCount; i++) {
      const start = p;
      const key = str();
      const type = buf.readUInt32LE(p); p += 4;
      const valueAt = p;
      skip(type);
      if (p > buf.length) throw new Error(`${file}: header larger than ${buf.length} bytes`);
      let value;
      if (type === T.STR) value = buf.toString("utf8", valueAt + 8, p);
      else if (type === T.U32) value = buf.readUInt32LE(valueAt);
      else if (type === T.ARR) value = { count: Number(buf.readBigUInt64LE(valueAt + 4)) };
      entries.push({ key, type, value, raw: buf.subarray(start, p) });
    }
    return { tensorCount, entries, fileSize: size };
  } finally {
    fs.closeSync(fd);
  }
}

function f32ToF16Bits(v) {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (exp << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}

/** Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9). */
function normalQuantile(p) {
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const v = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    return p < lo ? v : -v;
  }
  const q = p - 0.5;
  const r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** 65536 quantiles of N(0, STD): indexing it with a uniform 16-bit integer samples the normal. */
const NORMAL_F16 = new Uint16Array(65536);
const NORMAL_F32 = new Float32Array(65536);
for (let i = 0; i < 65536; i++) {
  NORMAL_F32[i] = STD * normalQuantile((i + 0.5) / 65536);
  NORMAL_F16[i] = f32ToF16Bits(NORMAL_F32[i]);
}

function fnv1a(s, seed) {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The tensors of llama.cpp's llama arch (dense or Mixtral-style MoE); shape is ggml's ne order. */
export function llamaTensors(p, vocab) {
  const headDim = p.hidden / p.heads;
  const kvDim = headDim * p.kvHeads;
  const w = (name, shape) => ({ name, shape, type: GGML_F16, fill: "normal" });
  const f32 = (name, shape, fill) => ({ name, shape, type: GGML_F32, fill });
  const out = [w("token_embd.weight", [p.hidden, vocab])];
  for (let l = 0; l < p.layers; l++) {
    const b = `blk.${l}`;
    out.push(f32(`${b}.attn_norm.weight`, [p.hidden], "ones"));
    out.push(w(`${b}.attn_q.weight`, [p.hidden, p.hidden]));
    out.push(w(`${b}.attn_k.weight`, [p.hidden, kvDim]));
    out.push(w(`${b}.attn_v.weight`, [p.hidden, kvDim]));
    out.push(w(`${b}.attn_output.weight`, [p.hidden, p.hidden]));
    out.push(f32(`${b}.ffn_norm.weight`, [p.hidden], "ones"));
    if (p.experts > 0) {
      out.push(f32(`${b}.ffn_gate_inp.weight`, [p.hidden, p.experts], "normal"));
      out.push(w(`${b}.ffn_gate_exps.weight`, [p.hidden, p.ffn, p.experts]));
      out.push(w(`${b}.ffn_down_exps.weight`, [p.ffn, p.hidden, p.experts]));
      out.push(w(`${b}.ffn_up_exps.weight`, [p.hidden, p.ffn, p.experts]));
    } else {
      out.push(w(`${b}.ffn_gate.weight`, [p.hidden, p.ffn]));
      out.push(w(`${b}.ffn_down.weight`, [p.ffn, p.hidden]));
      out.push(w(`${b}.ffn_up.weight`, [p.hidden, p.ffn]));
    }
  }
  out.push(f32("output_norm.weight", [p.hidden], "ones"));
  out.push(w("output.weight", [p.hidden, vocab]));
  return out;
}

const elements = (t) => t.shape.reduce((a, b) => a * b, 1);
const byteSize = (t) => elements(t) * (t.type === GGML_F16 ? 2 : 4);
const align = (n) => Math.ceil(n / ALIGNMENT) * ALIGNMENT;

class Bytes {
  parts = [];
  u32(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v); this.parts.push(b); }
  u64(v) { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); this.parts.push(b); }
  f32(v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.parts.push(b); }
  str(s) { const b = Buffer.from(s, "utf8"); this.u64(b.length); this.parts.push(b); }
  kv(key, type, write) { this.str(key); this.u32(type); write(); }
  buffer() { return Buffer.concat(this.parts); }
}

export function normalizeParams(p) {
  const q = { layers: p.layers, hidden: p.hidden, ffn: p.ffn, heads: p.heads, kvHeads: p.kvHeads ?? p.heads, experts: p.experts ?? 0, expertsUsed: p.experts ? (p.expertsUsed ?? 2) : 0, seed: p.seed ?? 1 };
  for (const [k, v] of Object.entries(q)) {
    if (!Number.isInteger(v) || v < 0 || (v === 0 && !["experts", "expertsUsed", "seed"].includes(k))) throw new Error(`--${k}: expected a positive integer, got ${p[k]}`);
  }
  if (q.hidden % q.heads !== 0) throw new Error(`hidden ${q.hidden} is not a multiple of heads ${q.heads}`);
  if (q.heads % q.kvHeads !== 0) throw new Error(`heads ${q.heads} is not a multiple of kv heads ${q.kvHeads}`);
  if ((q.hidden / q.heads) % 2 !== 0) throw new Error(`head size ${q.hidden / q.heads} must be even for RoPE`);
  if (q.experts > 0 && (q.expertsUsed < 1 || q.expertsUsed > q.experts)) throw new Error(`experts used ${q.expertsUsed} must be in 1..${q.experts}`);
  return q;
}

/** Header bytes (metadata + tensor infos + padding) and the tensor list with data offsets. */
function buildHeader(p, name, tokenizer, vocab) {
  const tensors = llamaTensors(p, vocab);
  let offset = 0;
  for (const t of tensors) { t.offset = offset; offset = align(offset + byteSize(t)); }
  const description = JSON.stringify({ generator: GENERATOR, ...p, tokenizer: path.basename(tokenizer.file) });
  const h = new Bytes();
  const kvs = [];
  const s = (k, v) => kvs.push(() => h.kv(k, T.STR, () => h.str(v)));
  const u = (k, v) => kvs.push(() => h.kv(k, T.U32, () => h.u32(v)));
  const f = (k, v) => kvs.push(() => h.kv(k, T.F32, () => h.f32(v)));
  const headDim = p.hidden / p.heads;
  s("general.architecture", "llama");
  s("general.type", "model");
  s("general.name", name);
  s("general.description", description);
  u("llama.block_count", p.layers);
  u("llama.context_length", 4096);
  u("llama.embedding_length", p.hidden);
  u("llama.feed_forward_length", p.ffn);
  u("llama.attention.head_count", p.heads);
  u("llama.attention.head_count_kv", p.kvHeads);
  f("llama.rope.freq_base", 10000);
  f("llama.attention.layer_norm_rms_epsilon", 1e-5);
  u("llama.attention.key_length", headDim);
  u("llama.attention.value_length", headDim);
  if (p.experts > 0) { u("llama.expert_count", p.experts); u("llama.expert_used_count", p.expertsUsed); }
  u("general.file_type", 1);
  u("llama.vocab_size", vocab);
  u("llama.rope.dimension_count", headDim);
  u("general.quantization_version", 2);
  h.parts.push(Buffer.from("GGUF", "latin1"));
  h.u32(3);
  h.u64(tensors.length);
  h.u64(kvs.length + tokenizer.entries.length);
  for (const k of kvs) k();
  for (const e of tokenizer.entries) h.parts.push(e.raw);
  for (const t of tensors) {
    h.str(t.name);
    h.u32(t.shape.length);
    for (const d of t.shape) h.u64(d);
    h.u32(t.type);
    h.u64(t.offset);
  }
  const body = h.buffer();
  const header = Buffer.concat([body, Buffer.alloc(align(body.length) - body.length)]);
  return { header, tensors, description, totalBytes: header.length + offset };
}

function writeTensorData(fd, t, seed, at) {
  const CHUNK = 1 << 22;
  const n = elements(t);
  let state = fnv1a(t.name, seed) | 0;
  let written = 0;
  const wide = t.type === GGML_F32;
  const arr = wide ? new Float32Array(Math.min(CHUNK, n)) : new Uint16Array(Math.min(CHUNK, n));
  const table = wide ? NORMAL_F32 : NORMAL_F16;
  while (written < n) {
    const m = Math.min(CHUNK, n - written);
    if (t.fill === "ones") arr.fill(1, 0, m);
    else {
      for (let i = 0; i < m; i += 2) {
        // mulberry32: 32 random bits, two 16-bit uniform indices.
        state = (state + 0x6d2b79f5) | 0;
        let r = Math.imul(state ^ (state >>> 15), state | 1);
        r ^= r + Math.imul(r ^ (r >>> 7), r | 61);
        r ^= r >>> 14;
        arr[i] = table[r & 0xffff];
        if (i + 1 < m) arr[i + 1] = table[(r >>> 16) & 0xffff];
      }
    }
    const bytes = Buffer.from(arr.buffer, 0, m * arr.BYTES_PER_ELEMENT);
    fs.writeSync(fd, bytes, 0, bytes.length, at);
    at += bytes.length;
    written += m;
  }
}

/** Writes one model; returns { path, skipped, bytes, parameters }. */
export function writeRandomLlamaGguf(outPath, params, { name = "random-llama", tokenizerFrom = DEFAULT_TOKENIZER, force = false, log = () => {} } = {}) {
  const p = normalizeParams(params);
  const src = readHeaderEntries(tokenizerFrom);
  const tokEntries = src.entries.filter((e) => e.key.startsWith("tokenizer."));
  const tokens = tokEntries.find((e) => e.key === "tokenizer.ggml.tokens");
  if (!tokens) throw new Error(`${tokenizerFrom} has no tokenizer.ggml.tokens`);
  const vocab = tokens.value.count;
  const { header, tensors, description, totalBytes } = buildHeader(p, name, { file: tokenizerFrom, entries: tokEntries }, vocab);
  const parameters = tensors.reduce((a, t) => a + elements(t), 0);
  if (!force && fs.existsSync(outPath)) {
    try {
      const old = readHeaderEntries(outPath);
      const d = old.entries.find((e) => e.key === "general.description");
      if (d?.value === description && old.fileSize === totalBytes) {
        log(`${outPath}: already written with these parameters, kept`);
        return { path: outPath, skipped: true, bytes: totalBytes, parameters };
      }
    } catch { /* unreadable: rewrite it */ }
  }
  fs.mkdirSync(path.dirname(path.resolve(outPath)), { recursive: true });
  const temp = `${outPath}.tmp-${process.pid}`;
  const fd = fs.openSync(temp, "wx");
  const cleanup = () => { try { fs.closeSync(fd); } catch { /* closed */ } fs.rmSync(temp, { force: true }); };
  const onSignal = () => { cleanup(); process.exit(130); };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    fs.writeSync(fd, header, 0, header.length, 0);
    const started = Date.now();
    let done = 0;
    for (const t of tensors) {
      writeTensorData(fd, t, p.seed, header.length + t.offset);
      done += byteSize(t);
      if (t.name.endsWith("attn_norm.weight")) log(`  ${(100 * done / (totalBytes - header.length)).toFixed(0)}% (at layer ${t.name.split(".")[1]} of ${p.layers}, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
    fs.ftruncateSync(fd, totalBytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(temp, outPath);
  } catch (e) {
    cleanup();
    throw e;
  } finally {
    process.removeListener("SIGINT", onSignal);
    process.removeListener("SIGTERM", onSignal);
  }
  return { path: outPath, skipped: false, bytes: totalBytes, parameters };
}

function parseArgs(argv) {
  const opts = {};
  const num = { "--layers": "layers", "--hidden": "hidden", "--ffn": "ffn", "--heads": "heads", "--kv-heads": "kvHeads", "--experts": "experts", "--experts-used": "expertsUsed", "--seed": "seed" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--force") opts.force = true;
    else if (a === "--preset") opts.preset = argv[++i];
    else if (a === "--out") opts.out = argv[++i];
    else if (a === "--tokenizer-from") opts.tokenizerFrom = argv[++i];
    else if (num[a]) {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v)) throw new Error(`${a}: expected an integer, got ${argv[i]}`);
      opts[num[a]] = v;
    } else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const custom = o.layers !== undefined || o.hidden !== undefined;
  const jobs = [];
  if (custom) {
    if (!o.out) throw new Error("custom shapes need --out FILE");
    jobs.push({ name: "random-llama", out: o.out, params: o });
  } else {
    const names = !o.preset || o.preset === "all" ? Object.keys(PRESETS) : [o.preset];
    for (const n of names) {
      if (!PRESETS[n]) throw new Error(`unknown preset ${n} (known: ${Object.keys(PRESETS).join(", ")}, all)`);
      if (o.out && names.length > 1) throw new Error("--out takes one preset");
      jobs.push({ name: `random-llama-${n}`, out: o.out ?? path.join(ROOT, ".bench/scale", `${n}-f16.gguf`), params: { ...PRESETS[n], seed: o.seed, experts: o.experts, expertsUsed: o.expertsUsed } });
    }
  }
  for (const j of jobs) {
    const started = Date.now();
    console.log(`${j.out}: ${JSON.stringify(normalizeParams(j.params))}`);
    const r = writeRandomLlamaGguf(j.out, j.params, { name: j.name, tokenizerFrom: o.tokenizerFrom, force: o.force, log: (m) => console.log(m) });
    console.log(`${r.skipped ? "kept" : "wrote"} ${j.out}: ${(r.parameters / 1e6).toFixed(1)} M parameters, ${(r.bytes / 2 ** 20).toFixed(1)} MiB${r.skipped ? "" : `, ${((Date.now() - started) / 1000).toFixed(1)} s`}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(`randomWeightGguf: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  }
}
