#!/usr/bin/env bash
# Data-parallel ResNet-18 (28×28) training throughput on this machine: 1 process × N threads against N processes × 1
# thread (Gloo on loopback), same global batch. Usage: benchmarks/distributed/run.sh [STEPS] [BATCH]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
steps="${1:-10}"; batch="${2:-128}"; cores="$(nproc)"
dotnet build benchmarks/MedVision.Benchmarks -c Release -v q -nologo >/dev/null
dotnet build samples/Launch -c Release -v q -nologo >/dev/null
bench=benchmarks/MedVision.Benchmarks/bin/Release/net10.0/MedVision.Benchmarks.dll
launch=samples/Launch/bin/Release/net10.0/mvlaunch.dll
echo "== 1 process × $cores threads"
dotnet "$bench" --distributed --steps "$steps" --batch "$batch" --threads "$cores"
echo "== $cores processes × 1 thread"
dotnet "$launch" --nproc-per-node "$cores" --threads-per-process 1 --master-port 0 -- dotnet "$bench" --distributed --steps "$steps" --batch "$batch"
