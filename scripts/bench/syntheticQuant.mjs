// Writes a synthetic QUANTIZED GGUF header at the scale of the biggest MoE models: about 1,000 layers
// of 60 tensor kinds (60,000 tensors) with a Q4_K_M-like mix (attn_v and ffn_down higher on
// llama.cpp's use_more_bits layers, attn_k at Q8_0, norms F32), or a Q3_K-based variant of it.
// The tensor data is a sparse hole (the file is extended, not written), so it costs no disk.
import fs from "node:fs";

const TYPES = { F32: [0, 1, 4], Q8_0: [8, 32, 34], Q3_K: [11, 256, 110], Q4_K: [12, 256, 144], Q5_K: [13, 256, 176], Q6_K: [14, 256, 210] };
const KINDS = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate_inp", "ffn_gate_exps", "ffn_up_exps", "ffn_down_exps",
  "ffn_gate_shexp", "ffn_up_shexp", "ffn_down_shexp", "attn_q_a", "attn_q_b", "attn_kv_a_mqa", "attn_kv_b", "attn_k_b", "attn_v_b", "attn_q_a_norm",
  ...Array.from({ length: 40 }, (_, i) => `proj_${String.fromCharCode(97 + (i % 26))}${Math.floor(i / 26)}`)];

/** Type of one tensor in the mix; `variant` "q3" lowers the base and the experts. */
function typeOf(kind, layer, layers, variant) {
  if (kind.endsWith("_norm")) return "F32";
  const more = layer < layers / 8 || layer >= (7 * layers) / 8 || (layer - Math.floor(layers / 8)) % 3 === 2;
  if (kind === "attn_k") return "Q8_0";
  if ((kind === "attn_v" || kind.startsWith("ffn_down")) && more) return "Q6_K";
  if (variant === "q3" && (kind.endsWith("_exps") || kind.startsWith("proj_"))) return "Q3_K";
  return variant === "q3" && kind === "attn_output" ? "Q5_K" : "Q4_K";
}

export function writeSyntheticQuant(path, { tensorCount = 60000, variant = "q4" } = {}) {
  const layers = Math.ceil(tensorCount / KINDS.length);
  const tensors = [];
  for (let l = 0; tensors.length < tensorCount; l++) {
    for (const kind of KINDS) {
      if (tensors.length >= tensorCount) break;
      const type = typeOf(kind, l, layers, variant);
      tensors.push({ name: `blk.${l}.${kind}.weight`, shape: type === "F32" ? [256] : [256, 64], type });
    }
  }
  tensors.push({ name: "token_embd.weight", shape: [256, 4096], type: variant === "q3" ? "Q3_K" : "Q4_K" }, { name: "output.weight", shape: [256, 4096], type: "Q6_K" });
  const chunks = [];
  let size = 0;
  const push = (b) => { chunks.push(b); size += b.length; };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); push(b); };
  const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); push(b); };
  push(Buffer.from("GGUF", "latin1"));
  u32(3); u64(tensors.length); u64(5);
  str("general.architecture"); u32(8); str("llama");
  str("llama.block_count"); u32(4); u32(layers);
  str("general.alignment"); u32(4); u32(32);
  str("general.file_type"); u32(4); u32(variant === "q3" ? 12 : 15);
  str("general.quantization_version"); u32(4); u32(2);
  let offset = 0;
  for (const t of tensors) {
    const [id, block, bytesPerBlock] = TYPES[t.type];
    const elements = t.shape.reduce((a, b) => a * b, 1);
    str(t.name);
    u32(t.shape.length);
    for (const d of t.shape) u64(d);
    u32(id);
    u64(offset);
    offset += Math.ceil(((elements / block) * bytesPerBlock) / 32) * 32;
  }
  const pad = (32 - (size % 32)) % 32;
  push(Buffer.alloc(pad));
  fs.writeFileSync(path, Buffer.concat(chunks));
  fs.truncateSync(path, size + offset);
  return { tensors: tensors.length, layers };
}
