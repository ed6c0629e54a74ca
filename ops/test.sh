#!/usr/bin/env bash
# Runs every test project in Wirety.sln, then the web UI tests (ops/test-ui.sh), and ends with one plain summary line,
# "N passed, N failed", summed over the projects' TRX result files (the console
# output above it keeps the per-project "Passed!/Failed! - Failed: .., Passed: .." lines).
# Exit status is dotnet test's: a build error or a crashed test host fails the run even
# when no test reported a failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONFIG=${CONFIG:-Release}
results="TestResults/run-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$results"

rc=0
dotnet test Wirety.sln -c "$CONFIG" --nologo \
    --logger "console;verbosity=minimal" \
    --logger trx \
    --results-directory "$results" "$@" || rc=$?

# <Counters total=".." executed=".." passed=".." failed=".." error=".." timeout=".." ...>
attr() { sed -n "s/.*<Counters[^>]* $1=\"\([0-9]*\)\".*/\1/p" "$2" | head -n1; }
passed=0 failed=0 skipped=0 files=0
shopt -s nullglob globstar
for trx in "$results"/**/*.trx; do
    files=$((files + 1))
    p=$(attr passed "$trx"); f=$(attr failed "$trx"); e=$(attr error "$trx"); t=$(attr timeout "$trx")
    total=$(attr total "$trx"); x=$(attr executed "$trx")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0}))
    skipped=$((skipped + ${total:-0} - ${x:-0}))
done

# The web UI (Vitest + browser end-to-end tests); its counts join the total and a failure fails the run.
ui_rc=0
ops/test-ui.sh "$results" || ui_rc=$?
if [[ -f "$results/ui-counts" ]]; then
    passed=$((passed + $(sed -n 's/^passed //p' "$results/ui-counts")))
    failed=$((failed + $(sed -n 's/^failed //p' "$results/ui-counts")))
fi
[[ $ui_rc -eq 0 ]] || rc=$ui_rc

echo
echo "test projects with results: $files; skipped: $skipped; dotnet test exit status: $rc (web UI: $ui_rc)"
echo "$passed passed, $failed failed"
exit "$rc"
