#!/usr/bin/env bash
# Install Email Engine: system user, code in $CODE_DIR ($APP_DIR/app), virtualenv, .env with fresh secrets
# (0600), migrations, log directory, logrotate, systemd unit, start and health check. Safe to run again.
#
# Usage, the deployment guide's way (the clone may be the install directory itself):
#   git clone REPO /opt/email-engine && cd /opt/email-engine && sudo bash deploy/install.sh
# or from any checkout: sudo deploy/install.sh. Optional: DATABASE_URL=postgresql://… REDIS_URL=redis://…
# (written into .env, one line per key). Every path is a variable, see deploy/lib.sh.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "$0")/lib.sh"
usage_if_help "$@"
SOURCE_DIR=${SOURCE_DIR:-$(cd "$DEPLOY_DIR/.." && pwd)}

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || die "Python 3.11 or newer is needed"

if [ "$SKIP_USER" != 1 ] && ! id "$SERVICE_USER" >/dev/null 2>&1; then
  log "creating system user $SERVICE_USER"
  useradd --system --home-dir "$APP_DIR" --shell /usr/sbin/nologin "$SERVICE_USER"
fi

mkdir -p "$APP_DIR" "$DATA_DIR/spool" "$DATA_DIR/dkim" "$LOG_DIR" "$BACKUP_ROOT" "$SYSTEMD_DIR" "$LOGROTATE_DIR"
log "installing code from $SOURCE_DIR into $CODE_DIR"
install_code "$SOURCE_DIR"
# PowerMTA's accounting pipes call $APP_DIR/scripts/*-pipe.sh (the rendered config's default paths); the guide
# runs $APP_DIR/deploy/update.sh and venv/bin/alembic from $APP_DIR.
expose_code

if [ ! -f "$ENV_FILE" ]; then
  log "writing $ENV_FILE with fresh secrets"
  (
    umask 077
    {
      sed -e "s|@DATA_DIR@|$DATA_DIR|g" "$DEPLOY_DIR/env.template"
      "$VENV_DIR/bin/email-engine" secrets rotate
    } > "$ENV_FILE"
  )
  chmod 600 "$ENV_FILE"
fi
for name in DATABASE_URL REDIS_URL; do
  if [ -n "${!name:-}" ] && [ "$(env_value "$name")" != "${!name}" ]; then
    log "setting $name in $ENV_FILE"
    set_env_value "$name" "${!name}"
  fi
done
if [ "$(env_value ENVIRONMENT)" = production ]; then
  case "$(database_url)" in
    sqlite*) log "warning: ENVIRONMENT=production on SQLite ($(database_url)): fine for a trial, but the guide's" \
               "production runs PostgreSQL; set DATABASE_URL=postgresql://… (run install again with it)." \
               "email-engine preflight says NO-GO until then." ;;
  esac
fi

log "applying database migrations"
engine db upgrade

render "$DEPLOY_DIR/email-engine.service.in" "$SYSTEMD_DIR/$SERVICE_NAME.service"
render "$DEPLOY_DIR/logrotate.in" "$LOGROTATE_DIR/$SERVICE_NAME"
if [ "$SKIP_USER" != 1 ]; then
  chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR" "$LOG_DIR"
  chown "$SERVICE_USER:$SERVICE_USER" "$ENV_FILE"
fi

log "starting $SERVICE_NAME"
$SERVICE_CTL daemon-reload
$SERVICE_CTL enable "$SERVICE_NAME"
$SERVICE_CTL restart "$SERVICE_NAME"
wait_healthy || die "$SERVICE_NAME did not report healthy at $HEALTH_URL within ${HEALTH_TIMEOUT}s (see journalctl -u $SERVICE_NAME)"
log "installed and healthy: $HEALTH_URL"
