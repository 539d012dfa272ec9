#!/usr/bin/env bash
# The post-processing of the folds' ensemble, chosen on the out-of-fold predictions (nnU-Net's choice), then checked on
# slices no fold has seen: five-fold cross-validations of the 2-D phantom slices of segment.sh (96 slices, the same
# network and Adam) at two budgets — the recipe's 30 epochs per fold and an undertrained 4 — each writing
# OUTPUT/ensemble.json with its choice; then each ensemble on the 96 unseen slices of folds.sh (the demo of seed 1) with
# the manifest's post-processing, without it, and compared (--compare-postprocessing, which keeps the largest component
# on top of the unseen slices' own predictions).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-images/postprocessing.sh
# (SEGMENTATION_APP names another build of the sample.)
set -euo pipefail
out=docs/results/segmentation-images
app=${SEGMENTATION_APP:-samples/Segmentation/bin/Release/net10.0/segmentation}
NO_COLOR=1 "$app" images --demo --demo-subjects 96 --epochs 1 --seed 1 --threads 2 --output runs/segmentation-images/unseen > /dev/null
data=runs/segmentation-images/unseen/demo-images
for epochs in 30 4; do
  run=runs/segmentation-images/folds5-pp-e$epochs
  NO_COLOR=1 "$app" images --demo --demo-subjects 96 --folds 5 --epochs $epochs --seed 0 --threads 2 --output "$run" > "$out/folds5-pp-e$epochs.txt"
  {
    NO_COLOR=1 "$app" evaluate --model "$run/ensemble.json" --images "$data/images" --masks "$data/masks" --binary-masks --threads 2
    NO_COLOR=1 "$app" evaluate --model "$run/ensemble.json" --images "$data/images" --masks "$data/masks" --binary-masks --threads 2 --no-postprocessing
    NO_COLOR=1 "$app" evaluate --model "$run/ensemble.json" --images "$data/images" --masks "$data/masks" --binary-masks --threads 2 --compare-postprocessing
  } > "$out/folds5-pp-e$epochs-unseen.txt"
  cp "$run/ensemble.json" "$out/folds5-pp-e$epochs-ensemble.json"
done
grep -h '^RESULT' "$out"/folds5-pp-e*.txt
