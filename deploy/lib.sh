#!/usr/bin/env bash
# Shared helpers for install.sh, update.sh and the backup scripts. Every path is a variable so the
# scripts can run in a throwaway prefix (tests) as well as on a real server.
# shellcheck disable=SC2034  # variables are used by the scripts that source this file

PREFIX=${PREFIX:-}
APP_DIR=${APP_DIR:-$PREFIX/opt/email-engine}
CODE_DIR=${CODE_DIR:-$APP_DIR/app}
VENV_DIR=${VENV_DIR:-$APP_DIR/.venv}
ENV_FILE=${ENV_FILE:-$APP_DIR/.env}
DATA_DIR=${DATA_DIR:-$PREFIX/var/lib/email-engine}
LOG_DIR=${LOG_DIR:-$PREFIX/var/log/email-engine}
BACKUP_ROOT=${BACKUP_ROOT:-$PREFIX/backups}
SYSTEMD_DIR=${SYSTEMD_DIR:-$PREFIX/etc/systemd/system}
LOGROTATE_DIR=${LOGROTATE_DIR:-$PREFIX/etc/logrotate.d}
SERVICE_NAME=${SERVICE_NAME:-email-engine}
SERVICE_USER=${SERVICE_USER:-email-engine}
SERVICE_CTL=${SERVICE_CTL:-systemctl}
BIND=${BIND:-127.0.0.1:8000}
WORKERS=${WORKERS:-4}
HEALTH_URL=${HEALTH_URL:-http://$BIND/health}
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-60}
PYTHON=${PYTHON:-python3}
PIP_INSTALL_ARGS=${PIP_INSTALL_ARGS:-}
SKIP_USER=${SKIP_USER:-0}
SERVER_NAME=${SERVER_NAME:-engine.example.com}
MONITORING_NETWORK=${MONITORING_NETWORK:-127.0.0.1/32}
TLS_CERT=${TLS_CERT:-/etc/letsencrypt/live/$SERVER_NAME/fullchain.pem}
TLS_KEY=${TLS_KEY:-/etc/letsencrypt/live/$SERVER_NAME/privkey.pem}

DEPLOY_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '%s %s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# render TEMPLATE DEST: replace @NAME@ tokens with the variables above.
render() {
  sed -e "s|@APP_DIR@|$APP_DIR|g" -e "s|@CODE_DIR@|$CODE_DIR|g" -e "s|@VENV_DIR@|$VENV_DIR|g" \
      -e "s|@ENV_FILE@|$ENV_FILE|g" -e "s|@DATA_DIR@|$DATA_DIR|g" -e "s|@LOG_DIR@|$LOG_DIR|g" \
      -e "s|@BACKUP_ROOT@|$BACKUP_ROOT|g" -e "s|@SERVICE_USER@|${SERVICE_USER:-root}|g" \
      -e "s|@BIND@|$BIND|g" -e "s|@WORKERS@|$WORKERS|g" -e "s|@SERVER_NAME@|$SERVER_NAME|g" \
      -e "s|@MONITORING_NETWORK@|$MONITORING_NETWORK|g" -e "s|@TLS_CERT@|$TLS_CERT|g" \
      -e "s|@TLS_KEY@|$TLS_KEY|g" "$1" > "$2"
}

# Run the installed CLI with the installed settings (the CLI reads .env from its working directory).
engine() { (cd "$APP_DIR" && "$VENV_DIR/bin/email-engine" "$@"); }

env_value() {  # env_value NAME: a value from the env file, without sourcing it
  sed -n "s/^$1=//p" "$ENV_FILE" | tail -n 1
}

wait_healthy() {
  local deadline=$((SECONDS + HEALTH_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "$VENV_DIR/bin/python" - "$HEALTH_URL" <<'PY' 2>/dev/null
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=3) as response:
    sys.exit(0 if json.load(response).get("status") in ("healthy", "degraded") else 1)
PY
    then
      return 0
    fi
    sleep 1
  done
  return 1
}

install_code() {  # install_code SOURCE: copy the project (no VCS, venv or local data) and pip install it
  local source=$1
  [ -f "$source/pyproject.toml" ] || die "$source does not look like an Email Engine checkout (no pyproject.toml)"
  rm -rf "$CODE_DIR.new"
  mkdir -p "$CODE_DIR.new"
  tar -C "$source" --exclude=.git --exclude=.venv --exclude=var --exclude=.env --exclude='*.db' \
      --exclude=__pycache__ -cf - . | tar -C "$CODE_DIR.new" -xf -
  rm -rf "$CODE_DIR"
  mv "$CODE_DIR.new" "$CODE_DIR"
  pip_install
}

pip_install() {
  [ -x "$VENV_DIR/bin/python" ] || "$PYTHON" -m venv "$VENV_DIR"
  # shellcheck disable=SC2086  # PIP_INSTALL_ARGS is a list of options on purpose
  "$VENV_DIR/bin/python" -m pip install --quiet $PIP_INSTALL_ARGS "$CODE_DIR" \
    || die "pip install failed"
}
