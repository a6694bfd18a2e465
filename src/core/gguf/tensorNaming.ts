// Tensor names follow llama.cpp's gguf-py/constants.py: "blk.N.<kind>.weight" for layer tensors,
// "<kind>.weight" for the rest; multimodal projectors prefix them ("v.blk.N.", "a.blk.N.").

const LAYER_RE = /(?:^|\.)blk\.(\d+)\./;

/** N of `blk.N.` in a tensor name, or undefined for non-layer tensors. */
export function tensorLayerIndex(name: string): number | undefined {
  const m = LAYER_RE.exec(name);
  return m ? Number(m[1]) : undefined;
}

/**
 * What the tensor is, independent of its layer: "blk.3.ffn_down_exps.weight" -> "ffn_down_exps",
 * "token_embd.weight" -> "token_embd", "blk.0.attn_q.bias" -> "attn_q.bias".
 * Prefixes before the layer (like "v.") are kept so vision tensors group apart.
 */
export function tensorKind(name: string): string {
  let kind = name;
  const m = LAYER_RE.exec(name);
  if (m) kind = name.slice(0, m.index + (m[0].startsWith(".") ? 1 : 0)) + name.slice(m.index + m[0].length);
  if (kind.endsWith(".weight")) kind = kind.slice(0, -".weight".length);
  return kind;
}
