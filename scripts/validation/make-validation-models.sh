#!/usr/bin/env bash
# Reproduces the validation models for the recipe optimizer (issue 10, item 3) on CPU:
#   .bench/validation/<name>/{model-f16.gguf, calib.txt, eval.txt, manifest.json}
# Each model is a small llama (dense) or Mixtral-style MoE trained from scratch with plain torch on
# one thread, on a corpus made from this machine's own files (see build_corpus.py).
#
#   scripts/validation/make-validation-models.sh [NAME...]     (default: all; one name per process
#                                                                runs them in parallel)
# Needs: apt-get install python3-torch python3-sentencepiece python3-numpy libopenblas0-serial
# (without OpenBLAS, Debian's torch uses the reference BLAS and trains ~4x slower), and the bundled
# llama.cpp source under .native/ (npm run build:native) for gguf-py and the checks.
#
# A model whose manifest.json records the same recipe is kept. The training budget is 420 s of the
# process's CPU time (--clock cpu), so the amount of training does not depend on the machine's
# load, unless --max-wall (MAX_WALL) stops it first on a crowded machine; the step count reached is in
# the manifest (train_tiny_cpu.py --steps N repeats it; --init-from model.pt adds a further phase).
# GGUF_PY=path/to/gguf-py overrides where gguf-py is taken from.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
OUT="$ROOT/.bench/validation"
PY=/usr/bin/python3
CPU_SECONDS="${CPU_SECONDS:-420}"
MAX_WALL="${MAX_WALL:-2700}"

# name | corpus | trainer arguments
MODELS=(
  "moe8-docs|docs|--arch mixtral --layers 4 --hidden 256 --heads 8 --kv-heads 4 --inter 512 --experts 8 --topk 2 --seed 11"
  "dense8-c|c|--arch llama --layers 8 --hidden 256 --heads 8 --kv-heads 4 --inter 512 --seed 12"
  "moe8-py6|python|--arch mixtral --layers 6 --hidden 256 --heads 8 --kv-heads 4 --inter 256 --experts 8 --topk 2 --seed 13"
)

want=("$@")
selected() { [ ${#want[@]} -eq 0 ] && return 0; for w in "${want[@]}"; do [ "$w" = "$1" ] && return 0; done; return 1; }

mkdir -p "$OUT/corpora"
for spec in "${MODELS[@]}"; do
  IFS='|' read -r name corpus trainargs <<<"$spec"
  selected "$name" || continue
  dir="$OUT/$name"
  recipe="$corpus $trainargs --seconds $CPU_SECONDS --clock cpu"
  if [ -f "$dir/manifest.json" ] && [ -f "$dir/model-f16.gguf" ] && grep -qF "\"recipe\": \"$recipe\"" "$dir/manifest.json"; then
    echo "$name: already made with this recipe, kept ($dir)"; continue
  fi
  text="$OUT/corpora/$corpus.txt"
  # flock: parallel runs that share a corpus build it once.
  flock "$OUT/corpora/.lock" bash -c "[ -f '$text' ] || nice -n 10 $PY '$ROOT/scripts/validation/build_corpus.py' '$corpus' '$text'"
  echo "$name: training ($recipe)"
  # shellcheck disable=SC2086
  nice -n 10 $PY "$ROOT/scripts/validation/train_tiny_cpu.py" "$text" "$dir" --name "validation-$name" $trainargs \
    --seconds "$CPU_SECONDS" --clock cpu --max-wall "$MAX_WALL" ${GGUF_PY:+--gguf-py "$GGUF_PY"} > "$dir.log" 2>&1 || { tail -20 "$dir.log"; exit 1; }
  mv "$dir.log" "$dir/train.log"
  $PY - "$dir" "$recipe" "$text" <<'EOF'
import hashlib, json, os, sys
d, recipe, corpus = sys.argv[1], sys.argv[2], sys.argv[3]
info = json.load(open(os.path.join(d, "train.json")))
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
info.update({"recipe": recipe, "corpus_file": os.path.basename(corpus), "corpus_sha256": sha(corpus),
             "gguf_sha256": sha(os.path.join(d, "model-f16.gguf")), "gguf_bytes": os.path.getsize(os.path.join(d, "model-f16.gguf")),
             "calib_sha256": sha(os.path.join(d, "calib.txt")), "eval_sha256": sha(os.path.join(d, "eval.txt"))})
json.dump(info, open(os.path.join(d, "manifest.json"), "w"), indent=1)
EOF
  if ls "$ROOT"/bin/*/llama-perplexity >/dev/null 2>&1; then "$ROOT/scripts/validation/check-validation-model.sh" "$dir"; fi
  echo "$name: done ($dir)"
done
