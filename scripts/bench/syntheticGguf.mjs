// Writes a synthetic GGUF with many tensor infos and a big string array (no dependencies), to
// measure header parsing at the scale of large MoE models and 250k-token vocabularies.
import fs from "node:fs";

export function writeSyntheticGguf(path, { tensorCount = 60000, stringCount = 250000 } = {}) {
  const chunks = [];
  let size = 0;
  const push = (b) => { chunks.push(b); size += b.length; };
  const u32 = (v) => { const b = Buffer.alloc(4); b.writeUInt32LE(v); push(b); };
  const u64 = (v) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(v)); push(b); };
  const str = (s) => { const b = Buffer.from(s, "utf8"); u64(b.length); push(b); };
  push(Buffer.from("GGUF", "latin1"));
  u32(3); u64(tensorCount); u64(4);
  str("general.architecture"); u32(8); str("llama");
  str("llama.block_count"); u32(4); u32(Math.ceil(tensorCount / 64));
  str("general.alignment"); u32(4); u32(32);
  str("tokenizer.ggml.tokens"); u32(9); u32(8); u64(stringCount);
  for (let i = 0; i < stringCount; i++) str(`tok_${i}_${"ü".repeat(i % 5)}`);
  const kinds = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_up_exps", "ffn_gate_exps", "ffn_down_exps", "attn_norm"];
  const perTensor = 32 * 4; // F32 [32]
  for (let i = 0; i < tensorCount; i++) {
    str(`blk.${Math.floor(i / 64)}.${kinds[i % kinds.length]}.${i}.weight`);
    u32(1); u64(32); u32(0); u64(i * perTensor);
  }
  const pad = (32 - (size % 32)) % 32;
  push(Buffer.alloc(pad));
  push(Buffer.alloc(tensorCount * perTensor));
  fs.writeFileSync(path, Buffer.concat(chunks));
}
