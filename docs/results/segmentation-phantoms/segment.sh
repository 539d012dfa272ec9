#!/usr/bin/env bash
# 3-D lesion segmentation on the segmentation sample's generated demo folder (brain phantoms 32³, MRI + PET, lesions
# labelled where PET uptake is reduced; not patient data): 64 subjects (48 to train, 16 to validate), a U-Net of
# features 16/32/64 with instance norm, crops of 32³ centred on lesions two times in three, Dice + cross-entropy, Adam
# 1e-3 with cosine annealing, 30 epochs; three seeds (split, weights, order and augmentation).
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-phantoms/segment.sh
set -euo pipefail
out=docs/results/segmentation-phantoms
app=samples/Segmentation/bin/Release/net10.0/segmentation
for s in 0 1 2; do
  NO_COLOR=1 "$app" --demo --demo-subjects 64 --epochs 30 --seed "$s" --threads 2 --output "runs/segmentation-phantoms/seed$s" > "$out/seed$s.txt"
  cp "runs/segmentation-phantoms/seed$s/history.csv" "$out/seed$s-history.csv"
done
grep -h '^RESULT' "$out"/seed*.txt
