#!/usr/bin/env bash
# Calibrating the three CORAL runs of "A CORAL head with the MedMNIST recipe": medmnist evaluate fits, on the validation
# split, a temperature on the cumulative logits (what --calibrate stores for a CORAL model; it keeps the median grades)
# and reports the test split's calibration before and after it. The same evaluation before this temperature existed fitted
# it on the grades' probabilities (P^(1/T)); its lines are in docs/results/coral-vs-softmax/lines.txt.
# Needs runs/r18-28-e20-coral-s$s (docs/results.md gives their train commands).
# Run from the repository root: bash docs/results/coral-calibration/run.sh  (MEDMNIST=path/to/medmnist to use a copied build)
set -euo pipefail
out=docs/results/coral-calibration
medmnist() { if [ -n "${MEDMNIST:-}" ]; then "$MEDMNIST" "$@"; else dotnet run --project samples/MedMnist -c Release --no-build -- "$@"; fi; }
: > "$out/lines.txt"
for s in 0 1 2; do
  NO_COLOR=1 medmnist evaluate --model runs/r18-28-e20-coral-s$s/model.safetensors --threads 2 --output runs/coral-calibration-s$s \
    | tee runs/coral-calibration-s$s.log | grep '^EVALUATION' >> "$out/lines.txt"
done
