#!/usr/bin/env bash
# Re-runs the first epoch of the training runs published in docs/results.md and compares it with the history committed
# under docs/results/ (epoch, training loss, loss terms, learning rate, validation AUC and ACC, to every digit).
#   bash scripts/check-results.sh            every run below (about 13 minutes on 2 cores; the five cross-validations add about half a minute each)
#   bash scripts/check-results.sh r18 mtcsnn only the runs whose name contains one of the words
# Prints "SAME name" or "DIFF name: now [...] committed [...]" per run; exits 1 when any differs. Runs are deterministic
# for a seed and a thread count on one CPU; another CPU behind the same model name can round differently (oneDNN picks
# its kernels by instruction set), which is what a DIFF on an otherwise unchanged tree points to (docs/results.md,
# "Reproducibility": on 2026-12-03, 21 of the 23 runs were SAME; ResNet-50 (28) seeds 0 and 1, made on another CPU, DIFF;
# both have since been re-run here: 2026-12-03 and 12-04).
# The CDSF runs (cdsf-seed0..2) compare the first epoch's losses printed by samples/Cdsf with the committed log.
# The segmentation runs (segmentation-*) compare the first epoch's loss, validation Dice and learning rate.
# The grade-folder runs (retina-folders-*) need /usr/bin/python3 with numpy and PIL to write RetinaMNIST as folders.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
work="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet build samples/MedMnist -c Release -nologo -v q >/dev/null
dotnet build samples/Mtcsnn -c Release -nologo -v q >/dev/null
dotnet build samples/Cdsf -c Release -nologo -v q >/dev/null
dotnet build samples/Segmentation -c Release -nologo -v q >/dev/null
dotnet build samples/FundusFolder -c Release -nologo -v q >/dev/null
cp -r samples/MedMnist/bin/Release/net10.0 "$work/medmnist"   # a copy: later builds do not change a running check
cp -r samples/Mtcsnn/bin/Release/net10.0 "$work/mtcsnn"
cp -r samples/Cdsf/bin/Release/net10.0 "$work/cdsf"
cp -r samples/Segmentation/bin/Release/net10.0 "$work/segmentation"
cp -r samples/FundusFolder/bin/Release/net10.0 "$work/fundus"
results="$root/docs/results"
medmnist=(dotnet "$work/medmnist/medmnist.dll" train --threads 2)
medmnist_cv=(dotnet "$work/medmnist/medmnist.dll" cross-validate --threads 2)
mtcsnn=(dotnet "$work/mtcsnn/mtcsnn.dll" --epochs 20 --threads 2)
cdsf=(dotnet "$work/cdsf/cdsf.dll" --threads 2)
segmentation=(dotnet "$work/segmentation/segmentation.dll" --demo --demo-subjects 64 --epochs 30 --threads 2)
segmentation_images=(dotnet "$work/segmentation/segmentation.dll" images --demo --demo-subjects 96 --epochs 30 --threads 2)
fundus_grades=(dotnet "$work/fundus/fundus-folder.dll" train --labels subfolders --train-folder "$work/retina-folders/train" --val-folder "$work/retina-folders/val"
  --depth 18 --size 64 --epochs 30 --batch 32 --lr 1e-3 --threads 2 --min-sensitivity 0.8)
failed=0

selected() {
  [ ${#filters[@]} -eq 0 ] && return 0
  local f
  for f in "${filters[@]}"; do [[ $1 == *"$f"* ]] && return 0; done
  return 1
}

# report NAME NOW COMMITTED: prints SAME or DIFF (and marks the check failed).
report() {
  if [ -n "$2" ] && [ "$2" = "$3" ]; then
    echo "SAME $1"
  else
    echo "DIFF $1: now [$2] committed [$3]"
    [ -n "$2" ] || tail -5 "$work/$1.log"
    failed=1
  fi
}

# check NAME HISTORY_IN_OUTPUT COMMITTED_HISTORY -- COMMAND...: runs COMMAND --output DIR until its first epoch is written
# and compares the first six fields of its line (CHECK_FIELDS=1-4 for histories whose fifth field is a duration).
check() {
  local name=$1 rel=$2 committed=$3 fields=${CHECK_FIELDS:-1-6}
  shift 4
  selected "$name" || return 0
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
  now="$(sed -n 2p "$out/$rel" 2>/dev/null | cut -d, -f"$fields")"
  was="$(sed -n 2p "$committed" | cut -d, -f"$fields")"
  report "$name" "$now" "$was"
}

# The first epoch's line of a Cdsf log (wrapped over two lines), without its duration.
cdsf_epoch1() {
  sed -n '/^epoch   1:/,/^epoch   2:/p' "$1" 2>/dev/null | grep -v '^epoch   2:' | tr '\n' ' ' | sed -E 's/ · [0-9.]+ s *$//'
}

# check_cdsf SEED: runs the Cdsf sample until its second epoch starts and compares the first epoch's losses.
check_cdsf() {
  local name="cdsf-seed$1"
  selected "$name" || return 0
  local log="$work/$name.log"
  "${cdsf[@]}" --seed "$1" --output "$work/$name" >"$log" 2>&1 &
  local pid=$!
  while ! grep -q '^epoch   2:' "$log"; do
    sleep 1
    kill -0 $pid 2>/dev/null || break
  done
  kill $pid 2>/dev/null || true
  wait $pid 2>/dev/null || true
  report "$name" "$(cdsf_epoch1 "$log")" "$(cdsf_epoch1 "$results/cdsf/seed$1.log")"
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
  check "r18-28-e20-ema-seed$s" history.csv "$results/r18-28-e20-ema-seed$s/history.csv" -- "${medmnist[@]}" --epochs 20 --ema 0.999 --ema-warmup --seed $s
done
for s in 0 1 2 3 4; do
  check "r18-28-e20-plain-seed$s" history.csv "$results/r18-28-e20-plain-seed$s/history.csv" -- "${medmnist[@]}" --epochs 20 --seed $s
done
for s in 0 1 2; do
  check "r18-28-e20-coral-seed$s" history.csv "$results/r18-28-e20-coral-seed$s/history.csv" -- "${medmnist[@]}" --epochs 20 --head coral --seed $s
done
for s in 0 1 2; do
  check "mtcsnn-coral-seed$s" "seed$s/resnet/history.csv" "$results/mtcsnn-coral-seed$s/resnet-history.csv" -- "${mtcsnn[@]}" --seeds $s --head coral
done
# The cross-validations: the first epoch of fold 1 (fold 1's training images, its model's initial weights).
for s in 0 1; do
  check "cv-r18-28-e20-seed$s" fold-1/history.csv "$results/cv-r18-28-e20-seed$s/fold-1/history.csv" -- "${medmnist_cv[@]}" --folds 5 --epochs 20 --seed $s
done
check "cv-r18-28-e20-swa-seed0" fold-1/history.csv "$results/cv-r18-28-e20-swa-seed0/fold-1/history.csv" -- "${medmnist_cv[@]}" --folds 5 --epochs 20 --seed 0 --swa-lr 0.0005 --swa-start 0.25 --swa-anneal-epochs 2
check "cv-r18-28-e20-ema-seed0" fold-1/history.csv "$results/cv-r18-28-e20-ema-seed0/fold-1/history.csv" -- "${medmnist_cv[@]}" --folds 5 --epochs 20 --seed 0 --ema 0.999 --ema-warmup
check "cv-r18-28-e20-grouped-seed0" fold-1/history.csv "$results/cv-r18-28-e20-grouped-seed0/fold-1/history.csv" -- "${medmnist_cv[@]}" --folds 5 --epochs 20 --seed 0 --group-near-duplicates 0.01
for s in 0 1 2; do
  check "r50-28-seed$s" history.csv "$results/r50-28-seed$s/history.csv" -- "${medmnist[@]}" --model resnet50 --epochs 100 --seed $s
  check "r18-224-seed$s" history.csv "$results/r18-224-seed$s/history.csv" -- "${medmnist[@]}" --model resnet18 --resolution 224 --epochs 100 --seed $s
done
for s in 0 1 2; do
  check_cdsf $s
done
for s in 0 1 2; do
  CHECK_FIELDS=1-4 check "segmentation-phantoms-seed$s" history.csv "$results/segmentation-phantoms/seed$s-history.csv" -- "${segmentation[@]}" --seed $s
  CHECK_FIELDS=1-4 check "segmentation-images-seed$s" history.csv "$results/segmentation-images/seed$s-history.csv" -- "${segmentation_images[@]}" --seed $s
done
CHECK_FIELDS=1-4 check "segmentation-images-folds5" fold-1/history.csv "$results/segmentation-images/folds5-fold1-history.csv" -- "${segmentation_images[@]}" --folds 5 --seed 0
# Deep supervision and the weight average's warm-up (seed 0 of each; docs/results/segmentation-images/supervision.sh, ema-warmup.sh).
CHECK_FIELDS=1-4 check "segmentation-images-ds-seed0" history.csv "$results/segmentation-images/ds-seed0-history.csv" -- "${segmentation_images[@]}" --deep-supervision --seed 0
CHECK_FIELDS=1-4 check "segmentation-images-sgd-ds-seed0" history.csv "$results/segmentation-images/sgd-ds-seed0-history.csv" -- "${segmentation_images[@]}" --optimizer sgd --deep-supervision --seed 0
CHECK_FIELDS=1-4 check "segmentation-images-adam-ema-warmup-seed0" history.csv "$results/segmentation-images/adam-ema-warmup-seed0-history.csv" -- "${segmentation_images[@]}" --ema 0.99 --ema-warmup --seed 0
CHECK_FIELDS=1-4 check "segmentation-images-sgd-ema-warmup-seed0" history.csv "$results/segmentation-images/sgd-ema-warmup-seed0-history.csv" -- "${segmentation_images[@]}" --optimizer sgd --ema 0.99 --ema-warmup --seed 0
# RetinaMNIST as grade folders through fundus-folder (docs/results.md, "RetinaMNIST as grade folders"): the folders are
# written once by scripts/retinamnist_folders.py (Debian's python3-numpy and python3-pil), only when such a run is asked for.
grade_runs=()
for s in 0 1 2; do grade_runs+=("retina-folders-r18-seed$s" "retina-folders-r18-cw-seed$s" "retina-folders-r18-coral-seed$s"); done
for name in "${grade_runs[@]}"; do
  if selected "$name"; then
    /usr/bin/python3 scripts/retinamnist_folders.py "$work/retina-folders" >/dev/null
    break
  fi
done
for s in 0 1 2; do
  check "retina-folders-r18-seed$s" history.csv "$results/retina-folders-r18-seed$s/history.csv" -- "${fundus_grades[@]}" --seed $s
  check "retina-folders-r18-cw-seed$s" history.csv "$results/retina-folders-r18-cw-seed$s/history.csv" -- "${fundus_grades[@]}" --class-weights balanced --seed $s
  check "retina-folders-r18-coral-seed$s" history.csv "$results/retina-folders-r18-coral-seed$s/history.csv" -- "${fundus_grades[@]}" --head coral --seed $s
done
exit $failed
