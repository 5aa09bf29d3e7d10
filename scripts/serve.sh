#!/usr/bin/env bash
# From a fresh clone: install into .venv, write .env with fresh secrets (first run), migrate the embedded
# SQLite database, create a first admin (printed once), and serve on 127.0.0.1:8000.
# Extra arguments go to `email-engine serve` (e.g. --port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/email-engine init
exec .venv/bin/email-engine serve "$@"
