#!/usr/bin/env bash
# The weight average's warm-up on the 2-D phantom slices of segment.sh (same data, network and 30 epochs, three seeds):
# the average of decay 0.99 that lagged in recipes.sh (Adam and nnU-Net's SGD), now with --ema-warmup, whose decay of
# step n is min(0.99, (1 + n)/(10 + n)).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-images/ema-warmup.sh
set -euo pipefail
out=docs/results/segmentation-images
app=samples/Segmentation/bin/Release/net10.0/segmentation
for s in 0 1 2; do
  for recipe in "adam-ema-warmup:--ema 0.99 --ema-warmup" "sgd-ema-warmup:--optimizer sgd --ema 0.99 --ema-warmup"; do
    name=${recipe%%:*}; args=${recipe#*:}
    # shellcheck disable=SC2086
    NO_COLOR=1 "$app" images --demo --demo-subjects 96 --epochs 30 --seed "$s" --threads 2 $args --output "runs/segmentation-images/$name-seed$s" > "$out/$name-seed$s.txt"
    cp "runs/segmentation-images/$name-seed$s/history.csv" "$out/$name-seed$s-history.csv"
  done
done
grep -H '^RESULT' "$out"/*warmup-seed*.txt
