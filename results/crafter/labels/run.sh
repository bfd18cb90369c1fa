#!/usr/bin/env bash
# The 1.5B's ranked labels of the situations that the committed 100k agents visit (run from the repository root
# after `make install` and `pip install '.[qwen-large]'`). Five parts of three agents each, 1,800 steps per agent
# (epsilon 0.05; a sixth part of two agents), so a stopped labelling keeps the finished parts: each part's file is written when it is done,
# and a rerun skips the situations its cache already holds. One core: OMP_NUM_THREADS=1.
# Then `bash results/crafter/labels/run.sh merge` writes the one label file of all parts and its summary.
# ORDER=reverse takes the parts last to first: a second core can label beside the first (one shared cache).
# `run.sh heldout` labels another play (random, seed 11); `run.sh distill` measures the distilled goal model on it.
# `run.sh smollm2` labels the same situations with the default LM (SmolLM2-135M, ranked the same way): the
# `ranked-labelled` row of the 100k sweep, which has the 1.5B's coverage with the small LM's answers.
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=results/crafter/labels
CACHE=${CACHE:-runs/labels/cache.sqlite}
RUNS=results/crafter/100k/runs
LABEL="$BIN/ellm crafter prewarm --reward ellm --goal-source lm --goals ranked --calibrate --lm-backend transformers
  --lm-model qwen2.5-coder-1.5b --lm-compute-type bfloat16 --cache $CACHE --policy agent --steps 1800 --seed 0
  --check-steps 0 --batch 16"
PARTS=(
  "ellm-seed0 health-seed0 oracle-paper-seed0"
  "ellm-paper-seed0 ranked-paper-seed0 ellm-seed1"
  "health-seed1 oracle-paper-seed1 ellm-paper-seed1"
  "ranked-paper-seed1 ellm-seed2 health-seed2"
  "oracle-paper-seed2 ellm-paper-seed2 ranked-paper-seed2"
  "ellm-distilled-seed0 ellm-strict-seed0"  # the parts overlap (4,664 distinct of 5,750): two more agents
)
mkdir -p "$(dirname "$CACHE")" $OUT/parts
# parts committed by an earlier session go into the cache first, so a rerun asks the LM about none of them
for part in $OUT/parts/*.jsonl.gz; do [ -e "$part" ] && $BIN/ellm cache import "$part" "$CACHE"; done
if [ "${1:-parts}" = parts ]; then
  order=("${!PARTS[@]}"); [ "${ORDER:-}" = reverse ] && order=($(printf "%s\n" "${!PARTS[@]}" | sort -rn))
  for i in "${order[@]}"; do
    target=$OUT/parts/part$i.jsonl.gz
    [ -e "$target" ] && continue
    agents=$(for run in ${PARTS[$i]}; do printf '%s ' "$RUNS/$run"; done)
    $LABEL --agents $agents --labels-out $target
  done
fi
if [ "${1:-parts}" = merge ]; then
  $BIN/python -m ellm_core.goals.labels merge $OUT/qwen2.5-coder-1.5b-ranked.jsonl.gz $OUT/parts/part*.jsonl.gz
  $BIN/python -m ellm_core.goals.labels summary $OUT/qwen2.5-coder-1.5b-ranked.jsonl.gz --out $OUT/summary.json
  $BIN/python -m ellm_core.goals.labels rank $OUT/qwen2.5-coder-1.5b-ranked.jsonl.gz "place crafting table" --having wood \
    --out $OUT/rank-place-table-having-wood.json
fi
if [ "${1:-parts}" = heldout ]; then  # another play (random, seed 11), labelled the same way: the truth of `distill`
  $LABEL --policy random --steps 1500 --seed 11 --labels-out $OUT/heldout-random-seed11.jsonl.gz
fi
if [ "${1:-parts}" = distill ]; then  # the distilled goal model learned from 1k and 5k labels, against that truth
  $BIN/python -m ellm_core.crafter.analysis.distill_quality --labels-file $OUT/qwen2.5-coder-1.5b-ranked.jsonl.gz \
    --heldout-file $OUT/heldout-random-seed11.jsonl.gz --labels 1000 5000 --cache $CACHE --out $OUT/distill
fi
if [ "${1:-parts}" = smollm2 ]; then  # the same situations, the default LM's ranked answers (resumable: one cache)
  $BIN/ellm crafter prewarm --reward ellm --goal-source lm --goals ranked --calibrate --lm-backend transformers --lm-compute-type float32 \
    --cache ${CACHE%.sqlite}-smollm2.sqlite --policy labels --situations-from $OUT/qwen2.5-coder-1.5b-ranked.jsonl.gz \
    --check-steps 0 --batch 16 --labels-out $OUT/smollm2-135m-ranked.jsonl.gz
  $BIN/python -m ellm_core.goals.labels summary $OUT/smollm2-135m-ranked.jsonl.gz --out $OUT/summary-smollm2.json
  $BIN/python -m ellm_core.goals.labels rank $OUT/smollm2-135m-ranked.jsonl.gz "place crafting table" --having wood \
    --out $OUT/rank-place-table-having-wood-smollm2.json
fi
