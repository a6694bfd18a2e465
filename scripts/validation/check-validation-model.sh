#!/usr/bin/env bash
# Checks that a validation model is really trained and that llama.cpp reads it as it was trained:
#   - llama-perplexity's PPL on eval.txt (-c 256) against the trainer's own torch evaluation of the
#     same chunks (they agree within a few % when tensor layout, RoPE and routing match);
#   - mean KLD of stock Q4_K_M against F16 on eval.txt (`gguf-studio kld`), which must be > 0.
# Adds llama_ppl, ppl_ratio and kld_q4_k_m to DIR/manifest.json. SKIP_PPL=1 reuses the recorded llama_ppl.
#
#   scripts/validation/check-validation-model.sh .bench/validation/<name>
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="$(cd "$1" && pwd)"
PPL_TOOL="$(ls "$ROOT"/bin/*/llama-perplexity 2>/dev/null | head -1)"
[ -x "$PPL_TOOL" ] || { echo "no bin/*/llama-perplexity: run npm run setup (or build:native) first" >&2; exit 1; }
[ -f "$ROOT/dist/cli.js" ] || (cd "$ROOT" && node esbuild.mjs)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -n "${SKIP_PPL:-}" ]; then ppl="$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["llama_ppl"])' "$DIR/manifest.json")"; else
nice -n 10 "$PPL_TOOL" -m "$DIR/model-f16.gguf" -f "$DIR/eval.txt" -c 256 -b 256 -t 1 --chunks 64 > "$work/ppl.log" 2>&1
ppl="$(grep -o 'Final estimate: PPL = [0-9.]*' "$work/ppl.log" | awk '{print $NF}')"
[ -n "$ppl" ] || { tail -20 "$work/ppl.log" >&2; echo "llama-perplexity printed no PPL" >&2; exit 1; }
fi

nice -n 10 node "$ROOT/dist/cli.js" quantize "$DIR/model-f16.gguf" "$work/q4_k_m.gguf" Q4_K_M > "$work/quant.log" 2>&1 \
  || { tail -20 "$work/quant.log" >&2; exit 1; }
nice -n 10 node "$ROOT/dist/cli.js" kld "$DIR/model-f16.gguf" "$work/q4_k_m.gguf" --text "$DIR/eval.txt" --ctx 256 --chunks 64 --json > "$work/kld.json" 2> "$work/kld.log" \
  || { tail -20 "$work/kld.log" >&2; exit 1; }

/usr/bin/python3 - "$DIR" "$ppl" "$work/kld.json" <<'EOF'
import json, sys
d, ppl, kld_path = sys.argv[1], float(sys.argv[2]), sys.argv[3]
m = json.load(open(f"{d}/manifest.json"))
k = json.load(open(kld_path))
mean = k["results"][-1]["summary"]["meanKld"]["value"]  # gguf-studio kld --json: {base, results: [{summary: {meanKld: {value, error}}}]}
m.update({"llama_ppl": round(ppl, 3), "ppl_ratio_llama_vs_torch": round(ppl / m["torch_eval_ppl"], 4), "kld_q4_k_m": mean,
          "check": "llama-perplexity -c 256 --chunks 64 on eval.txt; gguf-studio kld Q4_K_M vs F16 --ctx 256 --chunks 64"})
json.dump(m, open(f"{d}/manifest.json", "w"), indent=1)
print(json.dumps({"model": d, "llama_ppl": m["llama_ppl"], "torch_ppl": m["torch_eval_ppl"], "ratio": m["ppl_ratio_llama_vs_torch"], "kld_q4_k_m": mean}))
if not (mean and mean > 0):
    sys.exit(f"Q4_K_M mean KLD is {mean}: expected > 0")
EOF
