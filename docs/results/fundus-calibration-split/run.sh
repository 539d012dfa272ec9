#!/usr/bin/env bash
# The recipe of docs/results/fundus-calibration/run.sh (RetinaMNIST as grade folders, ResNet-18 at 64×64, softmax and
# CORAL heads, 3 seeds) with --calibration-fraction 0.15: the temperature is fitted on 15% of the training photographs
# (stratified, seeded by --seed) held out of training, instead of on the 120 validation photographs that also select
# the epoch; fundus-folder evaluate then measures the test folder's calibration at the model file's temperature and at
# temperature 1 (the same weights uncalibrated).
# Run from the repository root: bash docs/results/fundus-calibration-split/run.sh  (FUNDUS=path/to/fundus-folder to use a copied build)
set -euo pipefail
out=docs/results/fundus-calibration-split
F=${F:-/tmp/retina-folders}
fundus() { if [ -n "${FUNDUS:-}" ]; then "$FUNDUS" "$@"; else dotnet run --project samples/FundusFolder -c Release --no-build -- "$@"; fi; }
mkdir -p runs
[ -d "$F/train" ] || /usr/bin/python3 scripts/retinamnist_folders.py "$F"
: > "$out/lines.txt"
for head in softmax coral; do
  for s in 0 1 2; do
    run=runs/retina-folders-r18-$head-calsplit-s$s
    extra=(); [ "$head" = coral ] && extra=(--head coral)
    NO_COLOR=1 fundus train --labels subfolders --train-folder "$F/train" --val-folder "$F/val" --depth 18 --size 64 --epochs 30 --batch 32 --lr 1e-3 \
      --threads 2 --seed $s --min-sensitivity 0.8 --calibrate --calibration-fraction 0.15 "${extra[@]}" --output $run > $run.log 2>&1
    grep -a '^RESULT' $run.log >> "$out/lines.txt"
    NO_COLOR=1 fundus evaluate --model $run/model.safetensors --test-folder "$F/test" --labels subfolders --threads 2 --output $run/test > $run/test.log 2>&1
    grep -a '^EVALUATION' $run/test.log >> "$out/lines.txt"
    mkdir -p "$out/$head-seed$s"
    cp $run.log "$out/$head-seed$s/train.log"; cp $run/test.log "$out/$head-seed$s/evaluate.log"
    cp $run/history.csv $run/validation-evaluation.csv "$out/$head-seed$s/"; cp $run/test/test-evaluation.csv "$out/$head-seed$s/" 2>/dev/null || true
  done
done
/usr/bin/python3 docs/results/fundus-calibration/summarize.py "$out/lines.txt" > "$out/summary.md"
