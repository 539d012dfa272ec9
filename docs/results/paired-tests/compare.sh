#!/usr/bin/env bash
# DeLong / McNemar / paired-bootstrap comparisons of the committed RetinaMNIST runs on the test split (medmnist compare).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."   # the repository root
app="dotnet samples/MedMnist/bin/Release/net10.0/medmnist.dll"
m() { for s in "$@"; do printf -- "--model runs/ensemble/r18-28-e20-seed%s/model.safetensors " "$s"; done; }
a() { for s in "$@"; do printf -- "--against runs/ensemble/r18-28-e20-seed%s/model.safetensors " "$s"; done; }
for s in 0 1 2 3 4; do
  echo "=== five-seed ensemble vs seed $s $(date -u +%H:%M:%S)"
  $app compare $(m 0 1 2 3 4) $(a $s) --threads 2
done
for s in 0 1; do
  echo "=== fold ensemble cv seed $s vs five-seed ensemble $(date -u +%H:%M:%S)"
  $app compare --model runs/cv-r18-28-e20-seed$s/ensemble.json $(a 0 1 2 3 4) --threads 2
done
echo "=== fold ensemble cv seed 0 vs cv seed 1 $(date -u +%H:%M:%S)"
$app compare --model runs/cv-r18-28-e20-seed0/ensemble.json --against runs/cv-r18-28-e20-seed1/ensemble.json --threads 2
echo "=== seed 0 vs seed 1 alone $(date -u +%H:%M:%S)"
$app compare $(m 0) $(a 1) --threads 2
echo "=== done $(date -u +%H:%M:%S)"
