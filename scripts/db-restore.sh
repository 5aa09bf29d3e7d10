#!/usr/bin/env bash
# db-restore.sh DATABASE_URL FILE: put the database back exactly as db-dump.sh saved it.
# Stop the service first. PostgreSQL: the public schema is dropped and recreated, so tables added since the
# dump disappear too; SQLite: the file is replaced.
set -euo pipefail
url=${1:?usage: db-restore.sh DATABASE_URL FILE}
dump=${2:?usage: db-restore.sh DATABASE_URL FILE}
[ -s "$dump" ] || { echo "db-restore.sh: $dump is missing or empty" >&2; exit 2; }
case "$url" in
  postgresql*|postgres*)
    libpq_url="postgresql://${url#*://}"
    psql --quiet --no-psqlrc -v ON_ERROR_STOP=1 "$libpq_url" \
      -c 'DROP SCHEMA public CASCADE' -c 'CREATE SCHEMA public' >/dev/null
    pg_restore --no-owner --exit-on-error --dbname="$libpq_url" "$dump"
    ;;
  sqlite:///*)
    path=${url#sqlite:///}
    rm -f "$path-wal" "$path-shm"
    cp "$dump" "$path.restoring"
    mv "$path.restoring" "$path"
    ;;
  *) echo "db-restore.sh: unsupported DATABASE_URL scheme: ${url%%:*}" >&2; exit 2 ;;
esac
