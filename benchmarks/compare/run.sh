#!/usr/bin/env bash
# Side-by-side: Python PyTorch (Debian's 1.13, /usr/bin/python3) against MedVision.Nets on the same workloads.
# Runs ROUNDS rounds (default 3); in each round every workload is measured in Python, then in C#, one after the other,
# so a change in machine load hits both sides alike. Prints the median over rounds of each side's median time.
#   bash benchmarks/compare/run.sh                       # all workloads, ~10 minutes on 2 cores
#   ROUNDS=1 bash benchmarks/compare/run.sh add_4x4      # a subset
#   AMP=1 bash benchmarks/compare/run.sh r18_28_train_b128   # both sides under bfloat16 autocast
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rounds="${ROUNDS:-3}"
amp=(); if [ "${AMP:-0}" = 1 ]; then amp=(--amp); fi
python=/usr/bin/python3
workloads=("$@")
if [ ${#workloads[@]} -eq 0 ]; then workloads=(r18_28_train_b128 r18_28_infer_b128 r18_28_infer_b1 add_4x4); fi

if ! "$python" -c 'import torch, torchvision' 2>/dev/null; then
  echo "installing Debian's python3-torch and python3-torchvision for the Python side" >&2
  if [ "$(id -u)" -eq 0 ]; then apt-get install -y python3-torch python3-torchvision >&2; else sudo apt-get install -y python3-torch python3-torchvision >&2; fi
fi
dotnet build "$root/benchmarks/MedVision.Benchmarks" -c Release -v quiet -nologo >/dev/null
app="$root/benchmarks/MedVision.Benchmarks/bin/Release/net10.0/MedVision.Benchmarks.dll"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

for ((r = 1; r <= rounds; r++)); do
  for w in "${workloads[@]}"; do
    echo "round $r/$rounds: $w" >&2
    "$python" "$here/compare.py" "$w" ${amp[@]+"${amp[@]}"} | sed -n 's/^RESULT /python /p' >>"$log"
    dotnet "$app" --compare "$w" ${amp[@]+"${amp[@]}"} | sed -n 's/^RESULT /medvision /p' >>"$log"
  done
done

"$python" - "$log" "${workloads[@]}" <<'PY'
import statistics, sys
log, names = sys.argv[1], sys.argv[2:]
runs = {}
for line in open(log):
    side, name, seconds, items = line.split()
    runs.setdefault((side, name), []).append((float(seconds), int(items)))
def rate(side, name):
    r = runs.get((side, name), [])
    return (statistics.median(s for s, _ in r), r[0][1], len(r)) if r else None
print(f"{'workload':<20} {'Python /s':>12} {'MedVision /s':>13} {'ratio':>7}   {'Python time':>12} {'MedVision time':>15}  rounds")
for name in names:
    p, m = rate("python", name), rate("medvision", name)
    if not p or not m:
        print(f"{name:<20} missing"); continue
    unit = "op" if name.startswith("add") else "img"
    pr, mr = p[1] / p[0], m[1] / m[0]
    def t(x): return f"{x[0] / x[1] * 1e6:.2f} us/{unit}" if x[0] / x[1] < 1e-3 else f"{x[0] * 1e3:.1f} ms/call"
    print(f"{name:<20} {pr:>12.1f} {mr:>13.1f} {mr / pr:>6.2f}x   {t(p):>12} {t(m):>15}  {p[2]}/{m[2]}")
print("ratio = MedVision throughput / Python throughput (>1: MedVision faster). Units: images/s, or ops/s for add_4x4.")
PY
