#!/usr/bin/env bash
# Optimisation recipes on the 2-D phantom slices of segment.sh (same data, network, 30 epochs, three seeds): Adam 1e-3
# with cosine annealing (segment.sh's runs), nnU-Net's SGD (Nesterov momentum 0.99, weight decay 3e-5, 0.01) with the
# poly schedule, and each of the two with an exponential moving average of the weights (decay 0.99), and Adam with
# a faster average (decay 0.9).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-images/recipes.sh
set -euo pipefail
out=docs/results/segmentation-images
app=samples/Segmentation/bin/Release/net10.0/segmentation
for s in 0 1 2; do
  for recipe in "sgd:--optimizer sgd" "adam-ema:--ema 0.99" "sgd-ema:--optimizer sgd --ema 0.99" "adam-ema0.9:--ema 0.9"; do
    name=${recipe%%:*}; args=${recipe#*:}
    # shellcheck disable=SC2086
    NO_COLOR=1 "$app" images --demo --demo-subjects 96 --epochs 30 --seed "$s" --threads 2 $args --output "runs/segmentation-images/$name-seed$s" > "$out/$name-seed$s.txt"
  done
done
grep -H '^RESULT' "$out"/*seed*.txt
