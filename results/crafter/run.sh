#!/usr/bin/env bash
# The Crafter comparison whose summaries live in results/crafter/ (run from the repository root).
# Same budget for every method: STEPS environment steps, episodes capped at 400 steps (the paper's config),
# no extrinsic reward (the paper's pretraining setting), 3 seeds. ELLM uses the real offline LM
# (SmolLM2-135M-Instruct, open-ended, Crafter few-shot prompts) and embedder (all-MiniLM-L6-v2), cached.
# "suggester" is the ELLM reward with goals from the LoRA suggester of results/goal_quality (its own method,
# trained on ground-truth goals: not ELLM); it needs runs/crafter-suggester (results/goal_quality/run.sh).
set -euo pipefail
STEPS=${STEPS:-5000}
SEEDS=${SEEDS:-"0 1 2"}
REWARDS=${REWARDS:-"none oracle novelty ellm"}
ELLM=${ELLM:-.venv/bin/ellm}
for reward in $REWARDS; do
  runs=()
  method=(--reward "$reward")
  [ "$reward" = suggester ] && method=(--reward ellm --lm-adapter runs/crafter-suggester/adapter --no-few-shot)
  for seed in $SEEDS; do
    out=runs/crafter-$STEPS/$reward-seed$seed
    if [ ! -f "$out/summary.json" ]; then
      rm -rf "$out"
      $ELLM crafter train --preset demo "${method[@]}" --seed "$seed" --steps "$STEPS" --length 400 \
        --dqn-learning-starts 500 --dqn-eps-decay-steps $((STEPS / 2)) --eval-every 0 --eval-episodes 1 \
        --checkpoint-every "$STEPS" --out "$out" > "$out.log" 2>&1 || { echo "failed: $out (see $out.log)"; exit 1; }
    fi
    runs+=("$out")
  done
  $ELLM crafter eval "${runs[@]}" --out "results/crafter/$reward-$STEPS" > /dev/null
  rm -f "results/crafter/$reward-$STEPS"/*.png   # keep results/ small: JSON only
  echo "$reward: $(python3 -c "import json,sys; s=json.load(open('results/crafter/$reward-$STEPS/crafter_eval.json')); print(round(s['score']['mean'],2), '+-', round(s['score']['std'],2))")"
done
