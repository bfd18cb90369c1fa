#!/usr/bin/env bash
# The recommendation results whose summaries live in results/recrl/ (run from the repository root, after
# `make install`). CPU only. Steps: prepare the bundled sample; fine-tune the rationale adapter (demo preset);
# generate rationales (fine-tuned and base model) for the first USERS users; validate the reward against
# held-out ratings under every metric (the learned one trained on the train split); train browsing agents
# (ELLM with the same rationales, none, novelty; SEEDS each) and evaluate them on held-out test sessions.
set -euo pipefail
USERS=${USERS:-100}
SEEDS=${SEEDS:-"0 1 2"}
STEPS=${STEPS:-3000}
BIN=${BIN:-.venv/bin}
PY=$BIN/python
OUT=results/recrl
DATA=data/prepared/sample

[ -f $DATA/report.json ] || $BIN/recrl data prepare --source sample --out $DATA
[ -f runs/rationale-demo/adapter/manifest.json ] || \
  $BIN/recrl rationale train --preset demo --data $DATA --out runs/rationale-demo --samples 8
mkdir -p $OUT/rationale
cp runs/rationale-demo/metrics.json runs/rationale-demo/samples.md runs/rationale-demo/config.yaml $OUT/rationale/

# Rationales of the fine-tuned and of the base model for the same users (cached in ~/.cache/ellm).
$PY - <<PYEOF
from ellm_core.cache import open_cache
from ellm_core.llm_local import TransformersLM
from recrl.data.prepared import load_prepared
from recrl.rationale.examples import user_histories
from recrl.rationale.generate import generate_rationales, write_rationales
from recrl.rationale.model import rationale_lm
import json
data = load_prepared("$DATA")
users = sorted(set(data.part("train")["user_id"]))[:$USERS]
histories = user_histories(data, users)
decoding = dict(temperature=0.8, top_p=0.95, max_new_tokens=40, seed=0)
counts = {}
for label, lm in (("tuned", rationale_lm("runs/rationale-demo", **decoding)), ("base", TransformersLM(**decoding))):
    frame, c = generate_rationales(lm, histories, 3, open_cache(None))
    write_rationales(frame, f"runs/rationales-{label}.parquet")
    frame.to_json(f"$OUT/rationale/rationales-{label}.jsonl", orient="records", lines=True, force_ascii=False)
    counts[label] = c.as_dict()
print(json.dumps(counts))
PYEOF

$BIN/recrl validate --preset demo --data $DATA --max-users $USERS --rationales runs/rationales-tuned.parquet \
  --extra-goals "base model=runs/rationales-base.parquet" --metric sbert-cosine --metric tfidf-cosine \
  --metric bm25 --metric jaccard --metric learned --out runs/validate-demo
mkdir -p $OUT/validate
cp runs/validate-demo/report.json runs/validate-demo/report.md runs/validate-demo/config.yaml $OUT/validate/

runs=()
mkdir -p runs/browse-$STEPS
for reward in ellm none novelty; do
  for seed in $SEEDS; do
    run=runs/browse-$STEPS/$reward-seed$seed
    if [ ! -f $run/summary.json ]; then
      rm -rf $run
      $BIN/recrl browse train --preset demo --data $DATA --rationale runs/rationale-demo --reward $reward \
        --seed $seed --steps $STEPS --max-users $USERS --num-rationales 3 --dqn-learning-starts 300 \
        --dqn-eps-decay-steps $((STEPS / 2)) --checkpoint-every $STEPS --eval-sessions 10 --out $run > $run.log 2>&1 \
        || { echo "failed: $run (see $run.log)"; exit 1; }
    fi
    runs+=($run)
  done
done
$BIN/recrl browse eval "${runs[@]}" --episodes 200 --out runs/browse-$STEPS/eval
mkdir -p $OUT/browse
cp runs/browse-$STEPS/eval/browse_eval.json runs/browse-$STEPS/eval/browse_eval.md $OUT/browse/
