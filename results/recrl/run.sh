#!/usr/bin/env bash
# The recommendation results whose summaries live in results/recrl/ (run from the repository root, after
# `make install`). CPU only. Every step is skipped when its output exists, so a killed run continues where it
# stopped (adapter training also resumes from its last checkpoint). To keep it on some cores: `taskset -c 1 bash ...`.
#  1. prepare the bundled sample;
#  2. fine-tune two rationale adapters (demo preset): earlier liked items given by title (as before), and grounded in
#     their metadata (genres, director, two cast names: --history metadata); held-out perplexity of each;
#  3. generate 3 rationales for every user with each adapter (CTranslate2, adapter merged), and their hallucination
#     rate (people named who are in no catalogue item);
#  4. validate the reward against held-out ratings of all test users (1,000 bootstrap resamples): every metric,
#     including the learned one and the taste-trained one, for both rationale sources, the users' own liked items,
#     a shuffled control and popularity, with the personal-signal statistics;
#  5. browse at full scale: `ellm sweep results/recrl/sweep-browse.yaml`;
#  6. the strongest description-based reward from a user's own history, chosen on the validation split and reported
#     on the test split beside popularity and the CF anchors (python -m recrl.validation.strongest).
set -euo pipefail
BIN=${BIN:-.venv/bin}
OUT=results/recrl
DATA=data/prepared/sample
STEPS=${STEPS:-123456}  # which steps to run

if [[ $STEPS == *1* ]]; then
  [ -f $DATA/report.json ] || $BIN/recrl data prepare --source sample --out $DATA
fi
if [[ $STEPS == *2* || $STEPS == *3* ]]; then
  for history in titles metadata; do
    run=runs/rationale-$history
    [ -f $run/adapter/manifest.json ] || $BIN/recrl rationale train --preset demo --history $history --max-length 320 \
      --data $DATA --out $run --samples 8
    mkdir -p $OUT/rationale-$history
    cp $run/metrics.json $run/samples.md $run/config.yaml $OUT/rationale-$history/
    [ -f runs/rationales-$history.parquet ] || $BIN/recrl rationale generate --adapter $run --data $DATA --num 3 \
      --backend ctranslate2 --out runs/rationales-$history.parquet
    $BIN/recrl rationale check runs/rationales-$history.parquet --data $DATA --json > $OUT/rationale-$history/people.json
  done
fi
if [[ $STEPS == *4* ]]; then
  # --learned-steps 300 (the paper preset trains 1,000: about 2 h per learned metric on one core of this machine)
  [ -f runs/validate-full/report.json ] || $BIN/recrl validate --preset paper --learned-steps 300 --data $DATA \
    --rationales runs/rationales-titles.parquet --extra-goals "grounded rationales=runs/rationales-metadata.parquet" \
    --metric sbert-cosine --metric tfidf-cosine --metric bm25 --metric jaccard --metric learned --metric learned-taste \
    --out runs/validate-full
  mkdir -p $OUT/validate-full
  cp runs/validate-full/{report.json,report.md,config.yaml,personal.png,reward_by_rating.png} $OUT/validate-full/
  $BIN/python -m recrl.rationale.grounded $OUT > /dev/null   # grounded.md: titles vs metadata inputs
fi
if [[ $STEPS == *5* ]]; then
  $BIN/ellm sweep results/recrl/sweep-browse.yaml   # copies its summaries into results/recrl/browse-20k
fi
if [[ $STEPS == *6* ]]; then
  $BIN/python -m recrl.validation.strongest --data $DATA --out $OUT/strongest
fi
