#!/usr/bin/env bash
# 2-D lesion segmentation on the segmentation sample's generated image demo (`images --demo`: axial slices of brain
# phantoms 64³ through each lesion, MRI in red and PET in green, black-and-white masks of the region of reduced PET
# uptake; not patient data): 96 slices (72 to train, 24 to validate), a 2-D U-Net of features 16/32/64 with batch norm
# at 64×64, each image normalised by its own statistics, flips, Dice + cross-entropy, Adam 1e-3 with cosine annealing,
# batch 8, 30 epochs; three seeds (split, weights, order and augmentation).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-images/segment.sh
set -euo pipefail
out=docs/results/segmentation-images
app=samples/Segmentation/bin/Release/net10.0/segmentation
for s in 0 1 2; do
  NO_COLOR=1 "$app" images --demo --demo-subjects 96 --epochs 30 --seed "$s" --threads 2 --output "runs/segmentation-images/seed$s" > "$out/seed$s.txt"
  cp "runs/segmentation-images/seed$s/history.csv" "$out/seed$s-history.csv"
done
grep -h '^RESULT' "$out"/seed*.txt
