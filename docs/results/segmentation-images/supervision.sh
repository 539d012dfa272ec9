#!/usr/bin/env bash
# Deep supervision on the 2-D phantom slices of segment.sh (same data, network of three levels, 30 epochs, three
# seeds): the U-Net gets nnU-Net's heads (one, at half resolution, for three levels), trained against labels
# downsampled by nearest neighbour with weights 2/3 and 1/3; with Adam 1e-3 and cosine annealing (compare segment.sh's
# runs) and with nnU-Net's SGD and poly schedule (compare recipes.sh's sgd runs).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-images/supervision.sh
set -euo pipefail
out=docs/results/segmentation-images
app=samples/Segmentation/bin/Release/net10.0/segmentation
for s in 0 1 2; do
  for recipe in "ds:--deep-supervision" "sgd-ds:--optimizer sgd --deep-supervision"; do
    name=${recipe%%:*}; args=${recipe#*:}
    # shellcheck disable=SC2086
    NO_COLOR=1 "$app" images --demo --demo-subjects 96 --epochs 30 --seed "$s" --threads 2 $args --output "runs/segmentation-images/$name-seed$s" > "$out/$name-seed$s.txt"
    cp "runs/segmentation-images/$name-seed$s/history.csv" "$out/$name-seed$s-history.csv"
  done
done
grep -H '^RESULT' "$out"/*ds-seed*.txt
