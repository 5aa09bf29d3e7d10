#!/usr/bin/env bash
# The whole test suite: lint, types, then pytest on PostgreSQL + Redis and again on embedded SQLite.
# Usage: scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
scripts/services.sh

echo "== ruff" && .venv/bin/ruff check src tests bench
echo "== mypy (strict, src/)" && .venv/bin/mypy
echo "== pytest: PostgreSQL + Redis (all tests)"
TEST_DATABASE=postgresql .venv/bin/pytest -p no:cacheprovider "$@" tests
echo "== pytest: embedded SQLite + in-process limits (integration tests)"
TEST_DATABASE=sqlite .venv/bin/pytest -p no:cacheprovider "$@" tests/integration
