#!/usr/bin/env bash
# The goal-quality table of results/goal_quality/ (run from the repository root after `make install`; the
# llama.cpp rows need `pip install '.[llamacpp]'` and are skipped without it). CPU only, one row at a time.
# Every row is scored on the same 40 held-out situations. LM rows run without the cache (--cache none) so that
# their speed is real, except the calibrated closed-form rows, which reuse the uncalibrated row's P(yes) from
# a private cache (their only new prompts are the 22 content-free ones).
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=results/goal_quality
SITUATIONS=$OUT/crafter_situations_seed1_n40.jsonl
EVAL="$BIN/ellm goals eval --env crafter --situations-file $SITUATIONS"
ROWS=${ROWS:-"bounds transformers ctranslate2 llamacpp server suggester"}
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
  [ -f runs/crafter-suggester/adapter/manifest.json ] || \
    $BIN/ellm crafter suggester --out runs/crafter-suggester --steps ${SUGGESTER_STEPS:-150}
  cp runs/crafter-suggester/metrics.json $OUT/suggester-metrics.json
  $EVAL --mode open --cache none --no-few-shot --lm-adapter runs/crafter-suggester/adapter \
    --name "LoRA suggester (not ELLM)" --out $OUT/lora-suggester.json ;;
esac; done
$BIN/python -m ellm_core.crafter.goal_table $OUT > $OUT/table.md
cat $OUT/table.md
