"""Trains a tiny but real causal LM on CPU (plain torch, one thread) and writes it as a GGUF F16.

The CPU counterpart of /work/shared/tools/train-tiny-lm/train.py, without transformers: a llama
(dense) or Mixtral-style MoE (top-k softmax routing, weights renormalised over the chosen experts)
with RMSNorm, RoPE, GQA and SwiGLU, and a 4096-token SentencePiece BPE (byte fallback,
<|im_start|>/<|im_end|> user-defined) trained on the corpus. RoPE rotates adjacent pairs, as
llama.cpp's llama arch does, so q/k weights go into the GGUF as they are (no permutation).

Usage: python3 train_tiny_cpu.py CORPUS.txt OUT_DIR --arch llama|mixtral --seconds N [dims...]

Writes OUT_DIR/{model-f16.gguf, calib.txt, eval.txt, tokenizer.model, train.json}. The last 3% of
the corpus is held out and split into calib.txt (first half) and eval.txt (second half).
Needs python3-torch, python3-sentencepiece, python3-numpy and the gguf-py of the bundled llama.cpp
(--gguf-py, default: found under .native/).
"""
import argparse, glob, json, math, os, random, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import sentencepiece as spm

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHAT_TEMPLATE = ("{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
                 "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")
BOS, EOS = 1, 2


def args():
    p = argparse.ArgumentParser()
    p.add_argument("corpus"); p.add_argument("out")
    p.add_argument("--arch", choices=["llama", "mixtral"], default="llama")
    p.add_argument("--name", default=None)
    p.add_argument("--vocab", type=int, default=4096)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=4)
    p.add_argument("--heads", type=int, default=8)
    p.add_argument("--kv-heads", type=int, default=4)
    p.add_argument("--inter", type=int, default=512)
    p.add_argument("--experts", type=int, default=8)
    p.add_argument("--topk", type=int, default=2)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seconds", type=float, default=420, help="training budget in seconds of --clock")
    p.add_argument("--clock", choices=["wall", "cpu"], default="wall",
                   help="wall: wall-clock seconds; cpu: this process's CPU seconds (same compute under any load)")
    p.add_argument("--max-wall", type=float, default=None, help="with --clock cpu: stop anyway after this many wall seconds")
    p.add_argument("--steps", type=int, default=None, help="train exactly this many steps (schedule by step), e.g. to reproduce a run")
    p.add_argument("--init-from", default=None, help="start from these weights (a model.pt of the same shape): a further training phase")
    p.add_argument("--export-only", action="store_true", help="rewrite model-f16.gguf from OUT_DIR/model.pt without training")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--eval-ctx", type=int, default=256, help="chunk size of the held-out evaluation (as llama-perplexity -c)")
    p.add_argument("--gguf-py", default=None)
    return p.parse_args()


# ---------------------------------------------------------------- model
class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__(); self.w = nn.Parameter(torch.ones(d)); self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.w


def rope_tables(seq, head_dim, base=10000.0):
    inv = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
    ang = torch.arange(seq, dtype=torch.float32)[:, None] * inv[None, :]
    return ang.cos(), ang.sin()


def rope(x, cos, sin):
    # x: (B, H, T, D); rotate adjacent pairs (x[2i], x[2i+1]) — llama.cpp's LLAMA_ROPE_TYPE_NORM.
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[: x.shape[2]], sin[: x.shape[2]]
    return torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)


class Attention(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.h, self.kv, self.d = a.heads, a.kv_heads, a.hidden // a.heads
        self.q = nn.Linear(a.hidden, a.hidden, bias=False)
        self.k = nn.Linear(a.hidden, self.kv * self.d, bias=False)
        self.v = nn.Linear(a.hidden, self.kv * self.d, bias=False)
        self.o = nn.Linear(a.hidden, a.hidden, bias=False)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        q = self.q(x).view(B, T, self.h, self.d).transpose(1, 2)
        k = self.k(x).view(B, T, self.kv, self.d).transpose(1, 2)
        v = self.v(x).view(B, T, self.kv, self.d).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = self.h // self.kv  # q head h reads kv head h // rep, as ggml's broadcast does
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(self.d) + mask[:T, :T]
        y = att.softmax(-1) @ v
        return self.o(y.transpose(1, 2).reshape(B, T, -1))


class SwiGLU(nn.Module):
    def __init__(self, d, inter):
        super().__init__()
        self.gate = nn.Linear(d, inter, bias=False); self.up = nn.Linear(d, inter, bias=False); self.down = nn.Linear(inter, d, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class MoE(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.topk = a.topk
        self.router = nn.Linear(a.hidden, a.experts, bias=False)
        self.experts = nn.ModuleList([SwiGLU(a.hidden, a.inter) for _ in range(a.experts)])
        self.aux = torch.zeros(())

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        probs = self.router(x).softmax(-1)
        w, idx = probs.topk(self.topk, dim=-1)
        w = w / w.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            tok, slot = (idx == e).nonzero(as_tuple=True)
            if tok.numel():
                out.index_add_(0, tok, expert(x[tok]) * w[tok, slot, None])
        # Switch-style load balancing: fraction routed × mean probability, per expert.
        frac = F.one_hot(idx, probs.shape[-1]).float().sum(1).mean(0) / self.topk
        self.aux = probs.shape[-1] * (frac * probs.mean(0)).sum()
        return out.view(shape)


class Block(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.attn_norm, self.attn = RMSNorm(a.hidden), Attention(a)
        self.ffn_norm = RMSNorm(a.hidden)
        self.ffn = MoE(a) if a.arch == "mixtral" else SwiGLU(a.hidden, a.inter)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask)
        return x + self.ffn(self.ffn_norm(x))


class LM(nn.Module):
    def __init__(self, a):
        super().__init__()
        self.emb = nn.Embedding(a.vocab, a.hidden)
        self.blocks = nn.ModuleList([Block(a) for _ in range(a.layers)])
        self.norm = RMSNorm(a.hidden)
        self.out = nn.Linear(a.hidden, a.vocab, bias=False)
        cos, sin = rope_tables(max(a.seq, a.eval_ctx), a.hidden // a.heads)
        self.register_buffer("cos", cos, persistent=False); self.register_buffer("sin", sin, persistent=False)
        n = max(a.seq, a.eval_ctx)
        self.register_buffer("mask", torch.full((n, n), float("-inf")).triu(1), persistent=False)
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, std=0.02)

    def forward(self, ids):
        x = self.emb(ids)
        for b in self.blocks:
            x = b(x, self.cos, self.sin, self.mask)
        return self.out(self.norm(x))

    def aux_loss(self):
        return sum((b.ffn.aux for b in self.blocks if isinstance(b.ffn, MoE)), torch.zeros(()))


# ---------------------------------------------------------------- data
def split_corpus(text):
    """Train text, then the held-out last 3% cut at line starts into calib and eval halves."""
    cut = text.rfind("\n", 0, int(len(text) * 0.97)) + 1
    held = text[cut:]
    mid = held.rfind("\n", 0, len(held) // 2) + 1
    return text[:cut], held[:mid], held[mid:]


def train_tokenizer(train_text, prefix, vocab, seed):
    if hasattr(spm, "set_random_generator_seed"):
        spm.set_random_generator_seed(seed)  # sentence sampling is shuffled; keep it reproducible
    sample = prefix + ".sample.txt"
    with open(sample, "w", encoding="utf-8") as f:
        f.write(train_text[:3_000_000])
    spm.SentencePieceTrainer.train(
        input=sample, model_prefix=prefix, vocab_size=vocab, model_type="bpe", byte_fallback=True,
        character_coverage=1.0, split_digits=True, allow_whitespace_only_pieces=True,
        remove_extra_whitespaces=False, normalization_rule_name="identity", input_sentence_size=300_000,
        shuffle_input_sentence=True, max_sentence_length=8192, unk_id=0, bos_id=BOS, eos_id=EOS, pad_id=-1,
        num_threads=1, user_defined_symbols=["<|im_start|>", "<|im_end|>"], minloglevel=2)
    os.remove(sample)
    return spm.SentencePieceProcessor(model_file=prefix + ".model")


@torch.no_grad()
def perplexity_like_llama(model, ids, ctx, max_chunks=64):
    """llama-perplexity's number: chunks of ctx tokens, first token replaced by BOS, loss over the
    second half of each chunk."""
    model.eval()
    nll, count = 0.0, 0
    for c in range(min(len(ids) // ctx, max_chunks)):
        x = torch.tensor(ids[c * ctx:(c + 1) * ctx], dtype=torch.long)
        tgt = x[1:].clone()
        x[0] = BOS
        logits = model(x[None])[0, :-1].float()
        first = ctx // 2  # logits at positions first..ctx-2 score tokens first+1..ctx-1
        nll += F.cross_entropy(logits[first:], tgt[first:], reduction="sum").item()
        count += tgt[first:].numel()
    model.train()
    return math.exp(nll / count), count


# ---------------------------------------------------------------- GGUF
def find_gguf_py(given):
    if given:
        return given
    hits = sorted(glob.glob(os.path.join(ROOT, ".native", "llama.cpp-*", "gguf-py")))
    if not hits:
        raise SystemExit("gguf-py not found under .native/llama.cpp-*/; run npm run build:native or pass --gguf-py")
    return hits[0]


def write_gguf(model, sp, a, path, name):
    sys.path.insert(0, find_gguf_py(a.gguf_py))
    import gguf
    head_dim = a.hidden // a.heads
    tmp = path + ".tmp"
    w = gguf.GGUFWriter(tmp, "llama")
    w.add_type("model"); w.add_name(name)
    w.add_block_count(a.layers); w.add_context_length(4096); w.add_embedding_length(a.hidden)
    w.add_feed_forward_length(a.inter); w.add_head_count(a.heads); w.add_head_count_kv(a.kv_heads)
    w.add_rope_freq_base(10000.0); w.add_layer_norm_rms_eps(1e-5)
    w.add_key_length(head_dim); w.add_value_length(head_dim)
    if a.arch == "mixtral":
        w.add_expert_count(a.experts); w.add_expert_used_count(a.topk)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    w.add_vocab_size(a.vocab); w.add_rope_dimension_count(head_dim)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    # Vocabulary as convert_hf_to_gguf.py writes a SentencePiece one.
    tokens, scores, types = [], [], []
    for i in range(sp.get_piece_size()):
        tokens.append(sp.id_to_piece(i).encode("utf-8")); scores.append(sp.get_score(i))
        t = gguf.TokenType.NORMAL
        if sp.is_unknown(i): t = gguf.TokenType.UNKNOWN
        elif sp.is_control(i): t = gguf.TokenType.CONTROL
        elif sp.is_unused(i): t = gguf.TokenType.UNUSED
        elif sp.is_byte(i): t = gguf.TokenType.BYTE
        types.append(t)
    w.add_tokenizer_model("llama"); w.add_tokenizer_pre("default")
    w.add_token_list(tokens); w.add_token_scores(scores); w.add_token_types(types)
    w.add_bos_token_id(BOS); w.add_eos_token_id(EOS); w.add_add_bos_token(True); w.add_add_eos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)
    f16 = lambda t: t.detach().float().numpy().astype(np.float16)
    f32 = lambda t: t.detach().float().numpy().astype(np.float32)
    w.add_tensor("token_embd.weight", f16(model.emb.weight))
    for i, b in enumerate(model.blocks):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", f32(b.attn_norm.w))
        w.add_tensor(p + "attn_q.weight", f16(b.attn.q.weight)); w.add_tensor(p + "attn_k.weight", f16(b.attn.k.weight))
        w.add_tensor(p + "attn_v.weight", f16(b.attn.v.weight)); w.add_tensor(p + "attn_output.weight", f16(b.attn.o.weight))
        w.add_tensor(p + "ffn_norm.weight", f32(b.ffn_norm.w))
        if isinstance(b.ffn, MoE):
            w.add_tensor(p + "ffn_gate_inp.weight", f32(b.ffn.router.weight))
            for kind in ("gate", "up", "down"):  # stacked (experts, out, in) = ggml ne [in, out, experts]
                w.add_tensor(p + f"ffn_{kind}_exps.weight", f16(torch.stack([getattr(e, kind).weight for e in b.ffn.experts])))
        else:
            for kind in ("gate", "up", "down"):
                w.add_tensor(p + f"ffn_{kind}.weight", f16(getattr(b.ffn, kind).weight))
    w.add_tensor("output_norm.weight", f32(model.norm.w))
    w.add_tensor("output.weight", f16(model.out.weight))
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
    os.replace(tmp, path)


# ---------------------------------------------------------------- main
def main():
    a = args()
    if a.hidden % a.heads or a.heads % a.kv_heads:
        raise SystemExit("hidden must be a multiple of heads, heads a multiple of kv heads")
    torch.set_num_threads(1)
    torch.manual_seed(a.seed); random.seed(a.seed); np.random.seed(a.seed)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.time()
    text = open(a.corpus, encoding="utf-8", errors="replace").read()
    train_text, calib, evaltext = split_corpus(text)
    if a.export_only or a.init_from:  # the weights belong to the tokenizer already in OUT_DIR
        sp = spm.SentencePieceProcessor(model_file=os.path.join(a.out, "tokenizer.model"))
        if a.export_only:
            train_text = train_text[:1000]
    else:
        for n, t in (("calib.txt", calib), ("eval.txt", evaltext)):
            with open(os.path.join(a.out, n), "w", encoding="utf-8") as f:
                f.write(t)
        sp = train_tokenizer(train_text, os.path.join(a.out, "tokenizer"), a.vocab, a.seed)
    t_tok = time.time() - t0
    # Enough training tokens for any CPU budget here (a few hundred thousand per run).
    ids = np.array(sp.encode(train_text[:4_000_000]), dtype=np.int64)
    eval_ids = [BOS] + sp.encode(evaltext)  # llama-perplexity tokenizes the whole text with a BOS first
    print(f"tokenizer + encode {time.time() - t0:.0f} s; train tokens available {len(ids)}, eval tokens {len(eval_ids)}", flush=True)

    model = LM(a)
    if a.export_only:
        model.load_state_dict(torch.load(os.path.join(a.out, "model.pt")))
        name = a.name or os.path.basename(os.path.normpath(a.out))
        write_gguf(model, sp, a, os.path.join(a.out, "model-f16.gguf"), name)
        ppl, counted = perplexity_like_llama(model, eval_ids, a.eval_ctx)
        info_path = os.path.join(a.out, "train.json")
        if os.path.exists(info_path):
            info = json.load(open(info_path))
            info.update({"torch_eval_ppl": round(ppl, 3), "eval_tokens_scored": counted})
            json.dump(info, open(info_path, "w"), indent=1)
        print(f"rewrote {os.path.join(a.out, 'model-f16.gguf')}; torch eval ppl {ppl:.2f} over {counted} tokens")
        return
    if a.init_from:
        model.load_state_dict(torch.load(a.init_from))
    nparams = sum(p.numel() for p in model.parameters())
    print(f"params {nparams / 1e6:.2f} M", flush=True)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}], lr=a.lr, betas=(0.9, 0.95))
    data = torch.from_numpy(ids)
    n = len(data) - a.seq - 1
    gen = torch.Generator().manual_seed(a.seed)
    clock = time.process_time if a.clock == "cpu" else time.time
    step, start, wall_start, warm = 0, clock(), time.time(), 30
    losses = []
    while True:
        el = clock() - start
        if a.steps is not None:
            if step >= a.steps:
                break
            frac = step / a.steps
        else:
            if el > a.seconds or (a.max_wall and time.time() - wall_start > a.max_wall):
                break
            frac = min(1.0, max(el / a.seconds, (time.time() - wall_start) / a.max_wall if a.max_wall else 0))
        lr = a.lr * min(1.0, (step + 1) / warm) * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        ix = torch.randint(0, n, (a.batch,), generator=gen)
        x = torch.stack([data[i:i + a.seq + 1] for i in ix])
        inp, tgt = x[:, :-1].clone(), x[:, 1:]
        inp[:, 0] = BOS  # as llama-perplexity evaluates: every window starts with BOS
        logits = model(inp)
        loss = F.cross_entropy(logits.reshape(-1, a.vocab), tgt.reshape(-1))
        total = loss + 0.01 * model.aux_loss()
        opt.zero_grad(set_to_none=True)
        total.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 50 == 0:
            print(f"step {step} t={el:.0f}s loss {loss.item():.3f} lr {lr:.2e}", flush=True)
        step += 1
    train_seconds = clock() - start
    wall_seconds = time.time() - wall_start
    torch.save(model.state_dict(), os.path.join(a.out, "model.pt"))
    final = sum(losses[-20:]) / max(1, len(losses[-20:]))
    ppl, counted = perplexity_like_llama(model, eval_ids, a.eval_ctx)
    print(f"done steps={step} tokens_seen={step * a.batch * a.seq} final_train_loss={final:.3f} eval_ppl(c={a.eval_ctx})={ppl:.2f} over {counted} tokens", flush=True)
    name = a.name or os.path.basename(os.path.normpath(a.out))
    info = {"name": name, "arch": a.arch, "layers": a.layers, "hidden": a.hidden, "heads": a.heads, "kv_heads": a.kv_heads,
            "inter": a.inter, "experts": a.experts if a.arch == "mixtral" else 0, "topk": a.topk if a.arch == "mixtral" else 0,
            "vocab": a.vocab, "params": nparams, "seq": a.seq, "batch": a.batch, "lr": a.lr, "seed": a.seed, "steps": step,
            "tokens_seen": step * a.batch * a.seq, "train_seconds": round(train_seconds, 1), "clock": a.clock, "train_wall_seconds": round(wall_seconds, 1), "tokenizer_seconds": round(t_tok, 1),
            "final_train_loss": round(final, 4), "torch_eval_ppl": round(ppl, 3), "eval_ctx": a.eval_ctx, "eval_tokens_scored": counted,
            "init_from": a.init_from, "torch": torch.__version__, "threads": torch.get_num_threads()}
    with open(os.path.join(a.out, "train.json"), "w") as f:
        json.dump(info, f, indent=1)
    print(json.dumps(info), flush=True)
    write_gguf(model, sp, a, os.path.join(a.out, "model-f16.gguf"), name)


if __name__ == "__main__":
    main()
