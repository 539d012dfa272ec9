#!/usr/bin/env bash
# Line coverage of the library sources by the unit tests (coverlet), per source assembly and the least covered files:
#   bash scripts/coverage.sh [test-project-name...]   (default: the Torch, Nets, Onnx and Onnx.Runtime test projects)
# Builds first (scripts/setup.sh does the machine set-up), writes Cobertura XML under artifacts/coverage/ and prints a
# summary for the assemblies of those projects; a line counts as covered when any of the test projects ran it. Not part of the test suite (it reruns it).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
projects=("$@")
[ ${#projects[@]} -gt 0 ] || projects=(MedVision.Torch.Tests MedVision.Nets.Tests MedVision.Onnx.Tests MedVision.Onnx.Runtime.Tests)
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
out=artifacts/coverage
rm -rf "$out"
for p in "${projects[@]}"; do
  dotnet build "tests/$p" -c Release -nologo -v q
  dotnet test "tests/$p" -c Release --no-build -nologo --collect:"XPlat Code Coverage" --results-directory "$out/$p" >/dev/null || echo "($p: some tests failed; coverage still summarised)"
done
# Only the assemblies whose own test projects ran (MedVision.X.Tests → src/MedVision.X) are summarised.
python3 - "$out" "${projects[@]%.Tests}" <<'PY'
import collections, glob, os, sys
import xml.etree.ElementTree as ET
lines = collections.defaultdict(dict)
root = os.getcwd()
for report in glob.glob(f"{sys.argv[1]}/*/*/coverage.cobertura.xml"):
    tree = ET.parse(report).getroot()
    # File names are relative to the report's one source folder (src/ or the repository, depending on the project).
    sources = [s.text for s in tree.iter("source")]
    base = sources[0] if len(sources) == 1 else root
    for cls in tree.iter("class"):
        name = os.path.relpath(os.path.join(base, cls.get("filename")), root).replace(os.sep, "/")
        if not name.startswith("src/") or name.split("/")[1] not in sys.argv[2:] or "/obj/" in name:  # not generated code
            continue
        for line in cls.iter("line"):
            n = int(line.get("number"))
            lines[name][n] = max(lines[name].get(n, 0), int(line.get("hits")))
per_assembly = collections.defaultdict(lambda: [0, 0])
rows = []
for name, hits in lines.items():
    covered = sum(1 for h in hits.values() if h > 0)
    assembly = name.split("/")[1]
    per_assembly[assembly][0] += covered
    per_assembly[assembly][1] += len(hits)
    if len(hits) >= 10:
        rows.append((covered / len(hits), covered, len(hits), name))
for assembly, (covered, total) in sorted(per_assembly.items()):
    print(f"{assembly}: {covered}/{total} lines, {100 * covered / total:.1f}%")
print("least covered files (10 lines or more):")
for share, covered, total, name in sorted(rows)[:15]:
    print(f"  {100 * share:5.1f}%  {covered:5}/{total:<5} {name}")
PY
