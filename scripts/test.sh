#!/usr/bin/env bash
# The whole test suite as three jobs at once: ruff + mypy; pytest on PostgreSQL + Redis (all tests); pytest on
# embedded SQLite (integration tests). Each pytest pass spreads its tests over worker processes (pytest-xdist;
# every worker has its own throwaway database and Redis key prefix). A job's output is printed when it ends;
# the script fails when any job fails.
# Usage: scripts/test.sh [extra pytest args, given to both passes]
#   quick loop, no test that starts a process: scripts/test.sh -m "not slow"
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/services.sh

workers=${TEST_WORKERS:-2}  # per pytest pass; see DEVELOPING.md "Test run" for the measurements
work=$(mktemp -d)
declare -A jobs=() titles=()  # pid -> job name; job name -> what it runs
stop() {
  for pid in "${!jobs[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait
  rm -rf "$work"
}
trap stop EXIT

start() {  # name, title, command…
  local name=$1
  titles[$name]=$2
  shift 2
  "$@" >"$work/$name.log" 2>&1 &
  jobs[$!]=$name
}

lint() {
  .venv/bin/ruff check src tests bench && .venv/bin/mypy
}

pytest_pass() {  # backend, pytest args…
  local backend=$1
  shift
  TEST_DATABASE=$backend .venv/bin/pytest -p no:cacheprovider -n "$workers" --dist loadscope "$@"
}

start lint "ruff + mypy (strict, src/)" lint
start postgresql "pytest: PostgreSQL + Redis (all tests)" pytest_pass postgresql "$@" tests
start sqlite "pytest: embedded SQLite + in-process limits (integration tests)" \
  pytest_pass sqlite "$@" tests/integration

failed=()
while [ ${#jobs[@]} -gt 0 ]; do
  status=0
  wait -n -p pid "${!jobs[@]}" || status=$?
  name=${jobs[$pid]}
  unset "jobs[$pid]"
  echo "== ${titles[$name]}"
  cat "$work/$name.log"
  if [ "$status" = 0 ]; then
    echo "== ${titles[$name]}: passed"
  else
    echo "== ${titles[$name]}: FAILED (exit $status)"
    failed+=("$name")
  fi
done
[ ${#failed[@]} = 0 ] || { echo "failed: ${failed[*]}" >&2; exit 1; }
