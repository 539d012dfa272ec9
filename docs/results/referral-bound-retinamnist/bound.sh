#!/usr/bin/env bash
# Referral operating points for sensitivity >= 0.8 (grade >= 2) chosen on RetinaMNIST's validation split three ways —
# on the validation images alone (OperatingPoint.AtSensitivity), and shown with 90% and 95% confidence by the one-sided
# Clopper-Pearson bound (OperatingPoint.AtSensitivityBound) — then applied to the test split, for the 20-epoch
# ResNet-18 (28x28) runs of seeds 0-2 (docs/results.md, "An exponential moving average…": the plain runs, model files
# under runs/r18-28-e20-plain-seed$s) and their ensemble.
# Usage (from the repository root): bash docs/results/referral-bound-retinamnist/bound.sh [MODEL_ROOT]
set -euo pipefail
root=${1:-runs}
out=docs/results/referral-bound-retinamnist
app=(dotnet run --project samples/MedMnist -c Release --no-build --)
[ -n "${MEDMNIST_APP:-}" ] && app=("$MEDMNIST_APP")
models=()
for s in 0 1 2; do models+=(--model "$root/r18-28-e20-plain-seed$s/model.safetensors"); done
for confidence in none 0.9 0.95; do
  extra=()
  [ "$confidence" != none ] && extra=(--sensitivity-confidence "$confidence")
  for s in 0 1 2; do
    NO_COLOR=1 "${app[@]}" evaluate --model "$root/r18-28-e20-plain-seed$s/model.safetensors" --min-sensitivity 0.8 "${extra[@]}" \
      --threads 2 --output "runs/referral-bound/seed$s" | grep "^EVALUATION" | sed "s/^/seed$s confidence=$confidence /"
  done
  NO_COLOR=1 "${app[@]}" evaluate "${models[@]}" --min-sensitivity 0.8 "${extra[@]}" --threads 2 --output runs/referral-bound/ensemble \
    | grep "^EVALUATION" | sed "s/^/ensemble confidence=$confidence /"
done | tee "$out/evaluate-lines.txt"
