#!/usr/bin/env bash
# The main job on a fresh machine: set-up, build, then the MedMnist sample trains a ResNet-18 (small-input stem)
# on the RetinaMNIST shipped inside the library with a short schedule and prints test AUC/ACC.
# Extra arguments are passed to the sample (see: dotnet run --project samples/MedMnist -- --help).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build samples/MedMnist -c Release -nologo -v q
dotnet run --project samples/MedMnist -c Release --no-build -- train --epochs 4 --output runs/quickstart "$@"
