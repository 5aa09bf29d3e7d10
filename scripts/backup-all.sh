#!/usr/bin/env bash
# Nightly backup: database (pg_dump custom format or SQLite backup), .env, DKIM keys and PowerMTA files into
# $BACKUP_ROOT/YYYYMMDD-HHMMSS/, then delete backups older than $RETENTION_DAYS days.
# Cron (as root): 30 2 * * * /opt/email-engine/scripts/backup-all.sh >> /var/log/email-engine/backup.log 2>&1
# Restore: scripts/restore.sh $BACKUP_ROOT/YYYYMMDD-HHMMSS (see docs/runbook.md).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib.sh
. "$here/../deploy/lib.sh"
usage_if_help "$@"
RETENTION_DAYS=${RETENTION_DAYS:-14}
PMTA_DIR=${PMTA_DIR:-$PREFIX/etc/pmta}
DKIM_DIR=${DKIM_DIR:-$DATA_DIR/dkim}

target="$BACKUP_ROOT/$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$target"
chmod 700 "$target"
log "backup to $target"
"$here/db-dump.sh" "$(database_url)" "$target/database.dump"
cp -p "$ENV_FILE" "$target/env"
[ -d "$DKIM_DIR" ] && tar -C "$(dirname "$DKIM_DIR")" -czf "$target/dkim.tar.gz" "$(basename "$DKIM_DIR")"
[ -d "$PMTA_DIR" ] && tar -C "$(dirname "$PMTA_DIR")" -czf "$target/pmta.tar.gz" "$(basename "$PMTA_DIR")"
(cd "$target" && sha256sum -- * > SHA256SUMS)

# Retention: only our own dated folders (pre-update-* backups are kept by update.sh's own policy).
find "$BACKUP_ROOT" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
  -regex '.*/[0-9]{8}-[0-9]{6}' -mtime +"$RETENTION_DAYS" -print -exec rm -rf {} + | while read -r old; do
  log "removed old backup $old"
done
log "backup complete: $target"
