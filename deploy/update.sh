#!/usr/bin/env bash
# Update Email Engine with automatic rollback:
#   1. back up code, .env and database to $BACKUP_ROOT/pre-update-YYYYMMDD-HHMMSS/
#   2. install the new code and dependencies, apply migrations, restart, wait for /health
#   3. if anything fails, restore the code and the database from that backup and restart.
# Usage: cd /opt/email-engine && git pull && sudo bash deploy/update.sh    (the guide's clone)
#    or: sudo SOURCE_DIR=/path/to/new/checkout /opt/email-engine/deploy/update.sh
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "$0")/lib.sh"
usage_if_help "$@"
SOURCE_DIR=${SOURCE_DIR:-$(cd "$DEPLOY_DIR/.." && pwd)}
[ -d "$CODE_DIR" ] || die "$CODE_DIR does not exist; run deploy/install.sh first"
[ -f "$SOURCE_DIR/pyproject.toml" ] || die "no checkout of the new version at $SOURCE_DIR: run" \
  "SOURCE_DIR=/path/to/new/checkout $0, or from the guide's clone: git pull && sudo bash deploy/update.sh"

BACKUP_DIR="$BACKUP_ROOT/pre-update-$(date -u +%Y%m%d-%H%M%S)"
mkdir -p "$BACKUP_DIR"
log "backing up to $BACKUP_DIR"
tar -C "$APP_DIR" -czf "$BACKUP_DIR/code.tar.gz" "$(basename "$CODE_DIR")"
cp -p "$ENV_FILE" "$BACKUP_DIR/env"
"$DEPLOY_DIR/../scripts/db-dump.sh" "$(database_url)" "$BACKUP_DIR/database.dump" \
  || die "database backup failed; nothing was changed"

rollback() {
  log "update failed: rolling back code and database from $BACKUP_DIR"
  $SERVICE_CTL stop "$SERVICE_NAME" || true
  rm -rf "$CODE_DIR"
  tar -C "$APP_DIR" -xzf "$BACKUP_DIR/code.tar.gz"
  cp -p "$BACKUP_DIR/env" "$ENV_FILE"
  pip_install
  expose_code
  "$DEPLOY_DIR/../scripts/db-restore.sh" "$(database_url)" "$BACKUP_DIR/database.dump"
  $SERVICE_CTL start "$SERVICE_NAME"
  if wait_healthy; then
    die "update failed and was rolled back; the previous version is running again (backup: $BACKUP_DIR)"
  fi
  die "update failed and the rollback did not come back healthy either; restore by hand from $BACKUP_DIR"
}

(
  set -e
  log "installing code from $SOURCE_DIR"
  install_code "$SOURCE_DIR"
  expose_code
  log "applying database migrations"
  engine db upgrade
  log "restarting $SERVICE_NAME"
  $SERVICE_CTL restart "$SERVICE_NAME"
  wait_healthy
) || rollback
log "updated and healthy: $HEALTH_URL (backup kept in $BACKUP_DIR)"
