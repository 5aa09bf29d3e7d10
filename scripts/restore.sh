#!/usr/bin/env bash
# restore.sh BACKUP_DIR: restore the database, .env and DKIM keys (and PowerMTA files with RESTORE_PMTA=1)
# from a folder written by backup-all.sh. Stops the service first and starts it again afterwards.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib.sh
. "$here/../deploy/lib.sh"
usage_if_help "$@"
backup=${1:?usage: restore.sh BACKUP_DIR}
PMTA_DIR=${PMTA_DIR:-$PREFIX/etc/pmta}
DKIM_DIR=${DKIM_DIR:-$DATA_DIR/dkim}
[ -f "$backup/database.dump" ] || die "$backup has no database.dump"
(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || die "checksums in $backup do not match; refusing to restore"

$SERVICE_CTL stop "$SERVICE_NAME" || true
cp -p "$backup/env" "$ENV_FILE"
"$here/db-restore.sh" "$(database_url)" "$backup/database.dump"
if [ -f "$backup/dkim.tar.gz" ]; then
  rm -rf "$DKIM_DIR"
  mkdir -p "$(dirname "$DKIM_DIR")"
  tar -C "$(dirname "$DKIM_DIR")" -xzf "$backup/dkim.tar.gz"
fi
if [ "${RESTORE_PMTA:-0}" = 1 ] && [ -f "$backup/pmta.tar.gz" ]; then
  tar -C "$(dirname "$PMTA_DIR")" -xzf "$backup/pmta.tar.gz"
fi
$SERVICE_CTL start "$SERVICE_NAME"
wait_healthy || die "restored, but $SERVICE_NAME is not healthy at $HEALTH_URL"
log "restored from $backup"
