#!/usr/bin/env bash
# The CORAL runs of "A CORAL head with the MedMNIST recipe" against the softmax runs of the same recipe, paired on the
# same 400 test images: medmnist compare (DeLong, McNemar with each model's own decision, paired bootstrap) and
# medmnist evaluate (selective prediction by each model's own prediction; test-predictions.csv for summarize.py).
# Needs runs/r18-28-e20-coral-s$s and runs/r18-28-e20-plain-seed$s (docs/results.md gives their train commands).
# Run from the repository root: bash docs/results/coral-vs-softmax/run.sh
set -euo pipefail
out=docs/results/coral-vs-softmax
medmnist() { dotnet run --project samples/MedMnist -c Release --no-build -- "$@"; }
: > "$out/lines.txt"
for s in 0 1 2; do
  coral=runs/r18-28-e20-coral-s$s/model.safetensors
  plain=runs/r18-28-e20-plain-seed$s/model.safetensors
  NO_COLOR=1 medmnist compare --model "$coral" --against "$plain" --threads 2 | tee runs/coral-vs-softmax-compare-s$s.log | grep '^COMPARISON' >> "$out/lines.txt"
  for m in coral plain; do
    model=$([ $m = coral ] && echo "$coral" || echo "$plain")
    NO_COLOR=1 medmnist evaluate --model "$model" --threads 2 --output runs/coral-vs-softmax-eval-$m-s$s | tee runs/coral-vs-softmax-eval-$m-s$s.log | grep '^EVALUATION' >> "$out/lines.txt"
    cp runs/coral-vs-softmax-eval-$m-s$s/test-predictions.csv "$out/test-predictions-$m-seed$s.csv"
  done
done
/usr/bin/python3 "$out/summarize.py"
