#!/usr/bin/env bash
# The recipe of docs/results/fundus-calibration/run.sh (RetinaMNIST as grade folders, ResNet-18 at 64×64, softmax and
# CORAL heads, 3 seeds) with --calibration-fraction 0.15: the temperature is fitted on 15% of the training photographs
# (stratified, seeded by --seed) held out of training, instead of on the 120 validation photographs that also select
# the epoch; fundus-folder evaluate then measures the test folder's calibration at the model file's temperature and at
# temperature 1 (the same weights uncalibrated).
# Run from the repository root: bash docs/results/fundus-calibration-split/run.sh  (FUNDUS=path/to/fundus-folder to use a copied build)
set -euo pipefail
OUT=docs/results/fundus-calibration-split TAG=calsplit EXTRA="--calibration-fraction 0.15" exec bash docs/results/fundus-calibration/run.sh
