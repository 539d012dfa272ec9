#!/usr/bin/env bash
# Calibrating the FundusFolder sample's grading models (RetinaMNIST as grade folders; the recipe of "RetinaMNIST as
# grade folders" and "A CORAL head on the same grade folders" in docs/results.md) with --calibrate: the temperature is
# fitted on the 120 validation photographs (a CORAL head's on its cumulative logits), the referral operating point chosen
# on the calibrated probabilities, and fundus-folder evaluate measures the test folder's calibration at the model file's
# temperature and at temperature 1 (the same weights uncalibrated).
# Run from the repository root: bash docs/results/fundus-calibration/run.sh  (FUNDUS=path/to/fundus-folder to use a copied build)
# docs/results/fundus-calibration-split/run.sh runs it with OUT, TAG and EXTRA (--calibration-fraction 0.15) set.
set -euo pipefail
out=${OUT:-docs/results/fundus-calibration}
tag=${TAG:-calibrated}
read -r -a options <<< "${EXTRA:-}"
F=${F:-/tmp/retina-folders}
fundus() { if [ -n "${FUNDUS:-}" ]; then "$FUNDUS" "$@"; else dotnet run --project samples/FundusFolder -c Release --no-build -- "$@"; fi; }
mkdir -p runs
[ -d "$F/train" ] || /usr/bin/python3 scripts/retinamnist_folders.py "$F"
: > "$out/lines.txt"
for head in softmax coral; do
  for s in 0 1 2; do
    run=runs/retina-folders-r18-$head-$tag-s$s
    extra=("${options[@]}"); [ "$head" = coral ] && extra+=(--head coral)
    NO_COLOR=1 fundus train --labels subfolders --train-folder "$F/train" --val-folder "$F/val" --depth 18 --size 64 --epochs 30 --batch 32 --lr 1e-3 \
      --threads 2 --seed $s --min-sensitivity 0.8 --calibrate "${extra[@]}" --output $run > $run.log 2>&1
    grep -a '^RESULT' $run.log >> "$out/lines.txt"
    NO_COLOR=1 fundus evaluate --model $run/model.safetensors --test-folder "$F/test" --labels subfolders --threads 2 --output $run/test > $run/test.log 2>&1
    grep -a '^EVALUATION' $run/test.log >> "$out/lines.txt"
    # the run's logs, history and reports beside the lines
    mkdir -p "$out/$head-seed$s"
    cp $run.log "$out/$head-seed$s/train.log"; cp $run/test.log "$out/$head-seed$s/evaluate.log"
    cp $run/history.csv $run/validation-evaluation.csv $run/test/test-evaluation.csv "$out/$head-seed$s/"
  done
done
/usr/bin/python3 docs/results/fundus-calibration/summarize.py "$out/lines.txt" > "$out/summary.md"
