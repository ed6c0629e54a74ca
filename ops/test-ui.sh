#!/usr/bin/env bash
# The web UI's tests (called by ops/test.sh; runs alone too): npm ci, the production build, the Vitest
# component tests, then the end-to-end tests (frontend/e2e) in Debian's headless Chromium against the
# real server binary (CONFIG build, default Release) and a throwaway PostgreSQL. Screenshots go to
# artifacts/ui/. Writes "passed N" / "failed N" / "skipped N" to $1/ui-counts when given (ops/test.sh sums
# them) and exits non-zero when anything failed or did not run (skipped, todo, pending, cancelled),
# including the install or the build.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-}
passed=0 failed=0 skipped=0 rc=0
log() { echo "test-ui: $*" >&2; }

count() { # FILE KEY → the number after "# KEY " in a TAP summary
    sed -n "s/^# $2 \([0-9]*\)$/\1/p" "$1" 2>/dev/null | tail -n1
}

finish() {
    [[ $skipped -eq 0 ]] || rc=1
    if [[ -n "$out" ]]; then printf 'passed %d\nfailed %d\nskipped %d\n' "$passed" "$failed" "$skipped" > "$out/ui-counts"; fi
    log "UI tests: $passed passed, $failed failed, $skipped skipped/todo/cancelled"
    exit "$rc"
}

if ! command -v npm >/dev/null; then
    log "npm is not installed (Node.js 20.19+ is needed for the web UI)"; failed=1; rc=1; finish
fi
mkdir -p artifacts/ui
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd frontend && npm ci --no-audit --no-fund --loglevel=error) || { log "npm ci failed"; failed=$((failed + 1)); rc=1; finish; }
(cd frontend && npm run build) || { log "the frontend build failed"; failed=$((failed + 1)); rc=1; finish; }

# Vitest: component and unit tests (jsdom). The JSON report gives exact counts.
(cd frontend && npx vitest run --reporter=default --reporter=json --outputFile="$tmp/vitest.json") || rc=1
if [[ -f "$tmp/vitest.json" ]]; then
    read -r vp vf vs < <(node -e 'const r=require(process.argv[1]);console.log(r.numPassedTests, r.numFailedTests + (r.numRuntimeErrorTestSuites||0), (r.numPendingTests||0) + (r.numTodoTests||0))' "$tmp/vitest.json")
    passed=$((passed + vp)); failed=$((failed + vf)); skipped=$((skipped + vs))
    if [[ $vp -eq 0 && $vf -eq 0 ]]; then log "Vitest reported no test"; failed=$((failed + 1)); fi
else
    failed=$((failed + 1))
fi

# End to end: node's test runner, TAP to a file for the counts, spec to the console.
(cd frontend && CONFIG="${CONFIG:-Release}" node --test --test-concurrency=1 \
    --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tmp/e2e.tap" e2e/) || rc=1
ep=$(count "$tmp/e2e.tap" pass); ef=$(count "$tmp/e2e.tap" fail)
if [[ ${ep:-0} -eq 0 && ${ef:-0} -eq 0 ]]; then log "the end-to-end runner reported no test"; failed=$((failed + 1)); rc=1; fi
passed=$((passed + ${ep:-0})); failed=$((failed + ${ef:-0}))
for key in skipped todo cancelled; do n=$(count "$tmp/e2e.tap" "$key"); skipped=$((skipped + ${n:-0})); done
[[ $failed -eq 0 ]] || rc=1
finish
