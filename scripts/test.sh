#!/usr/bin/env bash
# Runs the whole test suite on a fresh machine: set-up, native + managed build, tests, and a summary line.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh || exit 1
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build MedVision.Nets.sln -c Release -nologo -v q || exit 1
log=$(mktemp)
dotnet test MedVision.Nets.sln -c Release --no-build -nologo 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
passed=$(grep -Eo 'Passed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
failed=$(grep -Eo 'Failed: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
skipped=$(grep -Eo 'Skipped: +[0-9]+' "$log" | awk '{s+=$2} END {print s+0}')
# A test host that crashes ends its assembly's run early: the tests it had not run are neither passed nor failed, so
# the counts above alone would hide it. Name it in the summary (dotnet test has already made the status non-zero).
aborted=$(grep -c 'Test Run Aborted' "$log")
crashes=$(grep -Eo 'Test host process crashed.*' "$log" | sort -u)
rm -f "$log"
# The NuGet packages, consumed from a local feed by an app outside the solution (counted as one more test).
echo "== package consumer (tests/PackageConsumer) =="
if bash scripts/package-test.sh; then passed=$((passed + 1)); else failed=$((failed + 1)); status=1; fi
if [ "$aborted" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped; $aborted test run(s) aborted before all their tests ran:"
  echo "$crashes"
  status=1
else
  echo "$passed passed, $failed failed, $skipped skipped"
fi
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then echo "no test ran" >&2; exit 1; fi
exit "$status"
