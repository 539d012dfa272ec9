#!/usr/bin/env bash
# The same phantom task with training crops of 16³ (an eighth of each 32³ phantom): centred on a lesion voxel two times
# in three (--foreground 0.67, CropAroundLabels as MONAI's RandCropByPosNegLabel) against always on a background voxel
# (--foreground 0, close to crops placed uniformly, since background is most of each phantom); validation on whole
# phantoms through a 16³ sliding window; three seeds each.
# Usage (from the repository root, after a Release build): bash docs/results/segmentation-phantoms/crops.sh
set -euo pipefail
out=docs/results/segmentation-phantoms
app=samples/Segmentation/bin/Release/net10.0/segmentation
for fg in 0.67 0; do
  for s in 0 1 2; do
    NO_COLOR=1 "$app" --demo --demo-subjects 64 --epochs 30 --crop 16 16 16 --foreground "$fg" --seed "$s" --threads 2 \
      --output "runs/segmentation-phantoms/crop16-fg$fg-seed$s" > "$out/crop16-fg$fg-seed$s.txt"
  done
done
grep -H '^RESULT' "$out"/crop16-*.txt
