#!/usr/bin/env bash
# db-dump.sh DATABASE_URL FILE: a consistent backup of the engine's database.
# PostgreSQL: pg_dump custom format. SQLite: the online backup API (safe while the service runs, WAL included).
set -euo pipefail
url=${1:?usage: db-dump.sh DATABASE_URL FILE}
out=${2:?usage: db-dump.sh DATABASE_URL FILE}
case "$url" in
  postgresql*|postgres*)
    libpq_url="postgresql://${url#*://}"
    pg_dump --format=custom --no-owner --file="$out" "$libpq_url"
    ;;
  sqlite:///*)
    python3 - "${url#sqlite:///}" "$out" <<'PY'
import sqlite3, sys
source = sqlite3.connect(sys.argv[1])
target = sqlite3.connect(sys.argv[2])
with target:
    source.backup(target)
target.close()
source.close()
PY
    ;;
  *) echo "db-dump.sh: unsupported DATABASE_URL scheme: ${url%%:*}" >&2; exit 2 ;;
esac
