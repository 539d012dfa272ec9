#!/usr/bin/env bash
# Selective prediction for the five 20-epoch ResNet-18 (28×28) runs of docs/results.md ("Ensembles of the recipe's
# runs"; model files under runs/ensemble/r18-28-e20-seed$s) and their ensemble: the sample's evaluate command at target
# error rates 0.3, 0.2 and 0.1 (δ = 0.05), thresholds fitted on RetinaMNIST's validation split, applied to its test split.
# Usage (from the repository root): bash docs/results/selective-retinamnist/selective.sh [MODEL_ROOT]
set -euo pipefail
root=${1:-runs/ensemble}
out=docs/results/selective-retinamnist
app=(dotnet run --project samples/MedMnist -c Release --no-build --)
[ -n "${MEDMNIST_APP:-}" ] && app=("$MEDMNIST_APP")
models=()
for s in 0 1 2 3 4; do models+=(--model "$root/r18-28-e20-seed$s/model.safetensors"); done
for risk in 0.3 0.2 0.1; do
  for s in 0 1 2 3 4; do
    NO_COLOR=1 "${app[@]}" evaluate --model "$root/r18-28-e20-seed$s/model.safetensors" --target-risk "$risk" --threads 2 \
      --output "runs/selective/seed$s" | grep "^EVALUATION" | sed "s/^/seed$s /"
  done
  NO_COLOR=1 "${app[@]}" evaluate "${models[@]}" --target-risk "$risk" --threads 2 --output runs/selective/ensemble \
    | grep "^EVALUATION" | sed "s/^/ensemble /"
done | tee "$out/evaluate-lines.txt"
