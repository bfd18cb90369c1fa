#!/usr/bin/env bash
# Does the prompt steer where Qwen2.5-Coder-1.5B ranks "place crafting table"? The 950 shipped situations in which
# the player holds wood (a table is one action away; `python -m ellm_core.goals.labels select ... --having wood`) are
# ranked again under two prompts, each on one core: `no-few-shot` (the Crafter prompt without its examples) and
# `table-first` (prompts-table-first.yaml: one example's two goals swapped). `rank` then says where the table comes.
# Run from the repository root after `make install` and `pip install '.[qwen-large]'`; ~7 min a variant on one
# core (0.44-0.46 s a situation, measured), both at once.
set -euo pipefail
BIN=${BIN:-.venv/bin}
DIR=results/crafter/labels/prompt-probe
CACHE=${CACHE:-runs/prompt-probe}
mkdir -p $CACHE
LABEL="$BIN/ellm crafter prewarm --reward ellm --goal-source lm --goals ranked --calibrate --lm-backend transformers
  --lm-model qwen2.5-coder-1.5b --lm-compute-type bfloat16 --policy labels --situations-from $DIR/having-wood.jsonl.gz
  --check-steps 0 --batch 16"
if [ "${1:-label}" = label ]; then
  [ -e $DIR/no-few-shot.jsonl.gz ] || OMP_NUM_THREADS=1 taskset -c 0 $LABEL --no-few-shot --cache $CACHE/no-few-shot.sqlite \
    --labels-out $DIR/no-few-shot.jsonl.gz > $CACHE/no-few-shot.log 2>&1 &
  [ -e $DIR/table-first.jsonl.gz ] || OMP_NUM_THREADS=1 taskset -c 1 $LABEL --prompts $DIR/prompts-table-first.yaml \
    --cache $CACHE/table-first.sqlite --labels-out $DIR/table-first.jsonl.gz > $CACHE/table-first.log 2>&1 &
  wait
fi
for variant in no-few-shot table-first; do
  $BIN/python -m ellm_core.goals.labels rank $DIR/$variant.jsonl.gz "place crafting table" --out $DIR/rank-$variant.json > /dev/null
done
$BIN/python -m ellm_core.goals.labels rank $DIR/having-wood.jsonl.gz "place crafting table" --out $DIR/rank-shipped.json > /dev/null
