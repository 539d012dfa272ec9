#!/usr/bin/env bash
# Re-runs the first epoch of the training runs published in docs/results.md and compares it with the history committed
# under docs/results/ (epoch, training loss, loss terms, learning rate, validation AUC and ACC, to every digit).
#   bash scripts/check-results.sh            every run below (about 12 minutes on 2 cores)
#   bash scripts/check-results.sh r18 mtcsnn only the runs whose name contains one of the words
# Prints "SAME name" or "DIFF name: now [...] committed [...]" per run; exits 1 when any differs. Runs are deterministic
# for a seed and a thread count on one CPU; another CPU behind the same model name can round differently (oneDNN picks
# its kernels by instruction set), which is what a DIFF on an otherwise unchanged tree points to (docs/results.md,
# "Reproducibility": on 2026-12-03, 21 of the 23 runs were SAME; ResNet-50 (28) seeds 0 and 1, made on another CPU, DIFF).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet build samples/MedMnist -c Release -nologo -v q >/dev/null
dotnet build samples/Mtcsnn -c Release -nologo -v q >/dev/null
cp -r samples/MedMnist/bin/Release/net10.0 "$work/medmnist"   # a copy: later builds do not change a running check
cp -r samples/Mtcsnn/bin/Release/net10.0 "$work/mtcsnn"
results="$root/docs/results"
medmnist=(dotnet "$work/medmnist/medmnist.dll" train --threads 2)
mtcsnn=(dotnet "$work/mtcsnn/mtcsnn.dll" --epochs 20 --threads 2)
failed=0

# check NAME HISTORY_IN_OUTPUT COMMITTED_HISTORY -- COMMAND...: runs COMMAND --output DIR until its first epoch is written.
check() {
  local name=$1 rel=$2 committed=$3
  shift 4
  if [ ${#filters[@]} -gt 0 ]; then
    local hit=0 f
    for f in "${filters[@]}"; do [[ $name == *"$f"* ]] && hit=1; done
    [ $hit = 1 ] || return 0
  fi
  local out="$work/$name"
  "$@" --output "$out" >"$work/$name.log" 2>&1 &
  local pid=$!
  while [ ! -f "$out/$rel" ] || [ "$(wc -l <"$out/$rel")" -lt 2 ]; do
    sleep 1
    kill -0 $pid 2>/dev/null || break
  done
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  local now was
  now="$(sed -n 2p "$out/$rel" 2>/dev/null | cut -d, -f1-6)"
  was="$(sed -n 2p "$committed" | cut -d, -f1-6)"
  if [ -n "$now" ] && [ "$now" = "$was" ]; then
    echo "SAME $name"
  else
    echo "DIFF $name: now [$now] committed [$was]"
    [ -n "$now" ] || tail -5 "$work/$name.log"
    failed=1
  fi
}

filters=("$@")
for s in 0 1 2; do
  check "r18-28-seed$s" history.csv "$results/r18-28-seed$s/history.csv" -- "${medmnist[@]}" --epochs 100 --seed $s
done
for s in 0 1 2; do
  check "r18-28-bf16-seed$s" history.csv "$results/r18-28-bf16-seed$s/history.csv" -- "${medmnist[@]}" --mixed-precision --epochs 100 --seed $s
  check "r18-28-onecycle-seed$s" history.csv "$results/r18-28-onecycle-seed$s/history.csv" -- "${medmnist[@]}" --schedule onecycle --lr 0.00052 --epochs 100 --seed $s
  check "r18-28-e20-swa-seed$s" history.csv "$results/r18-28-e20-swa-seed$s/history.csv" -- "${medmnist[@]}" --epochs 20 --swa-lr 0.0005 --swa-start 0.25 --swa-anneal-epochs 2 --seed $s
  check "mtcsnn-seed$s" "seed$s/resnet/history.csv" "$results/mtcsnn-seed$s/resnet-history.csv" -- "${mtcsnn[@]}" --seeds $s
done
for s in 0 1 2; do
  check "r50-28-seed$s" history.csv "$results/r50-28-seed$s/history.csv" -- "${medmnist[@]}" --model resnet50 --epochs 100 --seed $s
  check "r18-224-seed$s" history.csv "$results/r18-224-seed$s/history.csv" -- "${medmnist[@]}" --model resnet18 --resolution 224 --epochs 100 --seed $s
done
exit $failed
