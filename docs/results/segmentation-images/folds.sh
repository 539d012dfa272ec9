#!/usr/bin/env bash
# Five-fold cross-validation on the 2-D phantom slices of segment.sh (96 slices; the same network, Adam and 30 epochs
# per fold), then the five fold models — each alone and as an ensemble — on 96 new slices (the demo of seed 1, which
# no fold has seen).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-images/folds.sh
set -euo pipefail
out=docs/results/segmentation-images
app=samples/Segmentation/bin/Release/net10.0/segmentation
run=runs/segmentation-images/folds5
NO_COLOR=1 "$app" images --demo --demo-subjects 96 --folds 5 --epochs 30 --seed 0 --threads 2 --output "$run" > "$out/folds5.txt"
cp "$run/fold-1/history.csv" "$out/folds5-fold1-history.csv"
# The unseen slices: the demo folder of seed 1 (written by a one-epoch run whose model is not used).
NO_COLOR=1 "$app" images --demo --demo-subjects 96 --epochs 1 --seed 1 --threads 2 --output runs/segmentation-images/unseen > /dev/null
data=runs/segmentation-images/unseen/demo-images
{
  for f in 1 2 3 4 5; do
    NO_COLOR=1 "$app" evaluate --model "$run/fold-$f/model.safetensors" --images "$data/images" --masks "$data/masks" --binary-masks --threads 2
  done
  NO_COLOR=1 "$app" evaluate --model "$run/fold-1/model.safetensors" --model "$run/fold-2/model.safetensors" --model "$run/fold-3/model.safetensors" \
    --model "$run/fold-4/model.safetensors" --model "$run/fold-5/model.safetensors" --images "$data/images" --masks "$data/masks" --binary-masks --threads 2
} > "$out/folds5-unseen.txt"
grep -h '^RESULT' "$out/folds5.txt" "$out/folds5-unseen.txt"
