#!/usr/bin/env bash
# Does generating goals off the critical path (--lm-async) change what ELLM learns? (results/crafter/async/)
# The same ELLM run (default LM backend, open-ended goals, Crafter prompts) synchronous and in the background,
# plus no bonus for reference: STEPS steps, episodes of 400, no extrinsic reward, 3 seeds, each run with its own
# fresh cache (so no run profits from another's LM answers). Resumable: finished runs are skipped.
# Run from the repository root after `make install`; one run at a time (2 cores).
set -euo pipefail
STEPS=${STEPS:-3000}
SEEDS=${SEEDS:-"0 1 2"}
MODES=${MODES:-"background none sync"}
ELLM=${ELLM:-.venv/bin/ellm}
RUNS=runs/crafter-async-$STEPS
OUT=results/crafter/async
mkdir -p "$RUNS"
for mode in $MODES; do
  case $mode in
    sync) method=(--reward ellm --no-lm-async) ;;
    background) method=(--reward ellm --lm-async) ;;
    none) method=(--reward none) ;;
  esac
  runs=()
  for seed in $SEEDS; do
    out=$RUNS/$mode-seed$seed
    if [ ! -f "$out/summary.json" ]; then
      rm -rf "$out" "$out.sqlite"
      $ELLM crafter train --preset demo "${method[@]}" --seed "$seed" --steps "$STEPS" --length 400 \
        --dqn-learning-starts 500 --dqn-eps-decay-steps $((STEPS / 2)) --eval-every 0 --eval-episodes 1 \
        --checkpoint-every "$STEPS" --cache "$out.sqlite" --out "$out" > "$out.log" 2>&1 \
        || { echo "failed: $out (see $out.log)"; exit 1; }
    fi
    mkdir -p "$OUT/stats"
    cp "$out/stats.jsonl" "$OUT/stats/$mode-seed$seed.jsonl"
    python3 -c "import json; s=json.load(open('$out/summary.json')); print(json.dumps({k: s.get(k) for k in ('steps_per_s', 'llm_hit_rate', 'goal_miss_rate', 'step', 'episodes')}))" > "$OUT/stats/$mode-seed$seed.summary.json"
    runs+=("$out")
  done
  $ELLM crafter eval "${runs[@]}" --out "$OUT/$mode" > /dev/null
  rm -f "$OUT/$mode"/*.png
  echo "$mode: $(python3 -c "import json; s=json.load(open('$OUT/$mode/crafter_eval.json')); print(round(s['score']['mean'],2), '+-', round(s['score']['std'],2))")"
done
