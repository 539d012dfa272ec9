#!/usr/bin/env bash
# The split audit of the shipped RetinaMNIST (medmnist audit), and how the committed cross-validations' folds split its
# near-duplicate pairs. Output: audit-output.txt beside this script.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../../.."   # the repository root
out=docs/results/audit-retinamnist
NO_COLOR=1 dotnet samples/MedMnist/bin/Release/net10.0/medmnist.dll audit --output $out
python3 $out/straddling.py $out/near-duplicates.csv docs/results/cv-r18-28-e20-seed0 docs/results/cv-r18-28-e20-swa-seed0 docs/results/cv-r18-28-e20-grouped-seed0
