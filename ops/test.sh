#!/usr/bin/env bash
# Runs every test project in Wirety.sln, then the web UI tests (ops/test-ui.sh), and ends with one plain summary line,
# "N passed, N failed", summed over the projects' TRX result files (the console
# output above it keeps the per-project "Passed!/Failed! - Failed: .., Passed: .." lines).
#
# The run counts honestly: it fails when dotnet test fails (a build error, a crashed test host), when
# a test project in the solution left no results or ran no test, when any test was skipped or not
# executed, and when the UI runners report a failure, a skip, a todo or a cancellation. With CI=true,
# snapshot tests run in strict mode: a missing snapshot fails instead of being written.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

CONFIG=${CONFIG:-Release}
results="TestResults/run-$(date +%Y%m%d-%H%M%S)-$$"
mkdir -p "$results"
if [[ "${CI:-}" == true ]]; then export SNAPSHOOTER_STRICT_MODE=true; fi

# The test projects the solution must report on: every tests/* project marked IsTestProject.
mapfile -t expected < <(grep -l '<IsTestProject>true</IsTestProject>' tests/*/*.csproj | xargs -n1 basename | sed 's/\.csproj$//' | sort)

# The fault tests (Category=Faults: kill -9 of an instance, PostgreSQL stopped under load) take minutes on their own
# server processes and database: `make faults` runs them. A --filter given by the caller replaces this one.
filter=(--filter "Category!=Faults")
for arg in "$@"; do [[ "$arg" == --filter ]] && filter=(); done

rc=0
dotnet test Wirety.sln -c "$CONFIG" --nologo \
    --logger "console;verbosity=minimal" \
    --logger trx \
    --results-directory "$results" "${filter[@]}" "$@" || rc=$?

# <Counters total=".." executed=".." passed=".." failed=".." error=".." timeout=".." ...>
attr() { sed -n "s/.*<Counters[^>]* $1=\"\([0-9]*\)\".*/\1/p" "$2" | head -n1; }
# The test assembly a TRX file reports on, from its first test's storage path (which the TRX logger lower-cases).
project_of() { grep -o -m1 'storage="[^"]*\.dll"' "$1" | sed 's/.*\/\([^/]*\)\.dll"$/\1/' | tr '[:upper:]' '[:lower:]'; }

passed=0 failed=0 skipped=0 files=0 problems=()
declare -A ran=()
shopt -s nullglob globstar
for trx in "$results"/**/*.trx; do
    files=$((files + 1))
    p=$(attr passed "$trx"); f=$(attr failed "$trx"); e=$(attr error "$trx"); t=$(attr timeout "$trx")
    total=$(attr total "$trx"); x=$(attr executed "$trx")
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0}))
    skipped=$((skipped + ${total:-0} - ${x:-0}))
    project=$(project_of "$trx")
    if [[ -n "$project" ]]; then ran[$project]=$(( ${ran[$project]:-0} + ${x:-0} )); fi
done
for project in "${expected[@]}"; do
    key=$(tr '[:upper:]' '[:lower:]' <<< "$project")
    if [[ -z "${ran[$key]:-}" ]]; then problems+=("$project left no test results (0 tests discovered, or its test host crashed)")
    elif [[ "${ran[$key]}" -eq 0 ]]; then problems+=("$project executed 0 tests"); fi
done
[[ $skipped -eq 0 ]] || problems+=("$skipped test(s) were skipped or not executed")

# The web UI (Vitest + browser end-to-end tests); its counts join the total and a failure fails the run.
ui_rc=0
ops/test-ui.sh "$results" || ui_rc=$?
if [[ -f "$results/ui-counts" ]]; then
    passed=$((passed + $(sed -n 's/^passed //p' "$results/ui-counts")))
    failed=$((failed + $(sed -n 's/^failed //p' "$results/ui-counts")))
    ui_skipped=$(sed -n 's/^skipped //p' "$results/ui-counts")
    [[ ${ui_skipped:-0} -eq 0 ]] || problems+=("$ui_skipped web UI test(s) were skipped, pending, todo or cancelled")
else
    problems+=("the web UI tests left no counts")
fi
[[ $ui_rc -eq 0 ]] || rc=$ui_rc

echo
echo "test projects with results: ${#ran[@]} of ${#expected[@]}; skipped: $skipped; dotnet test exit status: $rc (web UI: $ui_rc)"
for problem in "${problems[@]}"; do echo "test.sh: FAIL: $problem" >&2; done
if [[ ${#problems[@]} -gt 0 && $rc -eq 0 ]]; then rc=1; fi
echo "$passed passed, $failed failed"
exit "$rc"
