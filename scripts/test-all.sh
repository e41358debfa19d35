#!/usr/bin/env bash
# `npm test`: the whole suite from a fresh clone. Installs what the tests need (npm packages,
# Debian packages), builds, type-checks, lints, runs every test (unit and system), and ends
# with a plain "N passed, N failed" line.
set -euo pipefail
cd "$(dirname "$0")/.."

# npm packages: a clean install when node_modules is missing or older than the lockfile.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi
bash scripts/ensure-test-deps.sh

npm run build
npm run typecheck
npm run lint

report=$(mktemp -t cistern-vitest-XXXXXX.json)
trap 'rm -f "$report"' EXIT
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" || status=$?
node -e '
  const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ""}`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
