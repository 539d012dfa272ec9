#!/usr/bin/env bash
# Conformal prediction sets for the five 20-epoch ResNet-18 (28×28) runs of docs/results.md ("Ensembles of the
# recipe's runs"; model files under runs/ensemble/r18-28-e20-seed$s) and their ensemble, at coverage 0.9 and 0.8:
# calibrated on RetinaMNIST's validation split, checked on its test split and on 1,000 random splits of the two pooled.
# Usage (from the repository root): bash docs/results/conformal-retinamnist/conformal.sh [MODEL_ROOT]
set -euo pipefail
root=${1:-runs/ensemble}
out=docs/results/conformal-retinamnist
app=(dotnet run --project samples/MedMnist -c Release --no-build --)
[ -n "${MEDMNIST_APP:-}" ] && app=("$MEDMNIST_APP")
for coverage in 0.9 0.8; do
  for s in 0 1 2 3 4; do
    NO_COLOR=1 "${app[@]}" conformal --model "$root/r18-28-e20-seed$s/model.safetensors" --coverage "$coverage" --threads 2 \
      --output "runs/conformal/seed$s-$coverage" > "$out/seed$s-coverage$coverage.txt"
  done
  models=()
  for s in 0 1 2 3 4; do models+=(--model "$root/r18-28-e20-seed$s/model.safetensors"); done
  NO_COLOR=1 "${app[@]}" conformal "${models[@]}" --coverage "$coverage" --threads 2 \
    --output "runs/conformal/ensemble-$coverage" > "$out/ensemble-coverage$coverage.txt"
done
# APS's sets (not intervals) at 0.9, to count those with a gap between grades (e.g. {0, 2}).
for s in 0 1 2 3 4; do
  NO_COLOR=1 "${app[@]}" conformal --model "$root/r18-28-e20-seed$s/model.safetensors" --score Aps --trials 0 --threads 2 \
    --output "runs/conformal/aps-seed$s" > /dev/null
  python3 -c "import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
sets = [list(map(int, r['set'].split())) for r in rows]
gapped = sum(1 for x in sets if x and x[-1] - x[0] + 1 != len(x))
print(f'seed $s: {gapped} of {len(sets)} APS sets (coverage 0.9) have a gap between grades')" "runs/conformal/aps-seed$s/test-sets.csv"
done | tee "$out/aps-gaps.txt"
grep -h "^CONFORMAL" "$out"/*.txt | wc -l
