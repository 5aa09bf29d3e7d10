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

# usage_if_help "$@": -h/--help prints the calling script's header comment (its usage) and exits, before it
# changes anything.
usage_if_help() {
  case "${1:-}" in
    -h|--help) sed -n '2,/^[^#]/{/^#/s/^# \{0,1\}//p}' "$0"; exit 0 ;;
  esac
}

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

set_env_value() {  # set_env_value NAME VALUE: one line per key in the env file (replaces NAME= or "# NAME=")
  local name=$1 value=$2 tmp
  tmp=$(mktemp "$ENV_FILE.XXXXXX")
  NAME=$name VALUE=$value awk '
    BEGIN { name = ENVIRON["NAME"]; line = name "=" ENVIRON["VALUE"] }
    $0 ~ "^(# ?)?" name "=" { if (!done) print line; done = 1; next }
    { print }
    END { if (!done) print line }
  ' "$ENV_FILE" > "$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$ENV_FILE"
}

database_url() {  # the DATABASE_URL the service uses, a relative SQLite path made absolute
  # The service and the CLI run in the env file's directory (WorkingDirectory=$APP_DIR; the CLI reads ./.env),
  # so a relative SQLite path is relative to it, wherever this script is run from. Absent: the engine's default.
  local url
  url=$(env_value DATABASE_URL)
  url=${url:-sqlite:///./email-engine.db}
  case "$url" in
    sqlite:////*) ;;
    sqlite:///*) url="sqlite:///$(cd "$(dirname "$ENV_FILE")" && pwd)/${url#sqlite:///}" ;;
  esac
  printf '%s\n' "$url"
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
  local source=$1 inside=() path
  [ -f "$source/pyproject.toml" ] || die "$source does not look like an Email Engine checkout (no pyproject.toml)"
  source=$(cd "$source" && pwd)
  # The guide clones into the install directory itself: leave out what install writes there (the code copy,
  # its staging folder, the venv, backups), so tar never reads the folder it is writing into.
  for path in "$CODE_DIR" "$CODE_DIR.new" "$VENV_DIR" "$APP_DIR/venv" "$BACKUP_ROOT" "$DATA_DIR" "$LOG_DIR"; do
    case "$path" in "$source"/*) inside+=("--exclude=./${path#"$source"/}") ;; esac
  done
  rm -rf "$CODE_DIR.new"
  mkdir -p "$CODE_DIR.new"
  tar -C "$source" --anchored "${inside[@]}" --no-anchored --exclude=.git --exclude=.venv --exclude=var \
      --exclude=.env --exclude='*.db' --exclude=__pycache__ --exclude='*.before-install' -cf - . \
    | tar -C "$CODE_DIR.new" -xf -
  rm -rf "$CODE_DIR"
  mv "$CODE_DIR.new" "$CODE_DIR"
  pip_install
}

# expose_code: the files the guide, the runbook and the rendered PowerMTA config expect under $APP_DIR
# ($APP_DIR/scripts/bounce-pipe.sh, $APP_DIR/deploy/update.sh, $APP_DIR/alembic.ini …) as links into $CODE_DIR.
# An existing scripts/ folder is merged: other files stay; a different file of the same name is kept as
# NAME.before-install. A regular file equal to ours stays as it is (the guide's clone in $APP_DIR).
expose_code() {
  local dir file target
  for dir in scripts deploy deploy/nginx; do
    [ -L "$APP_DIR/$dir" ] && rm -f "$APP_DIR/$dir"  # the earlier layout linked the whole folder
    mkdir -p "$APP_DIR/$dir"
    for file in "$CODE_DIR/$dir"/*; do
      [ -f "$file" ] || continue
      expose_file "$file" "$APP_DIR/$dir/$(basename "$file")"
    done
  done
  expose_file "$CODE_DIR/alembic.ini" "$APP_DIR/alembic.ini"
  # The guide calls the virtualenv venv/ (venv/bin/alembic upgrade head).
  if [ "$VENV_DIR" = "$APP_DIR/.venv" ] && [ ! -e "$APP_DIR/venv" ] && [ ! -L "$APP_DIR/venv" ]; then
    ln -s .venv "$APP_DIR/venv"
  fi
}

expose_file() {  # expose_file SOURCE TARGET
  local source=$1 target=$2
  [ -f "$source" ] || return 0
  if [ -f "$target" ] && [ ! -L "$target" ]; then
    cmp -s "$source" "$target" && return 0
    log "keeping your $target as $target.before-install (replaced by the installed one)"
    mv -f "$target" "$target.before-install"
  fi
  ln -sfn "$source" "$target"
}

pip_install() {
  [ -x "$VENV_DIR/bin/python" ] || "$PYTHON" -m venv "$VENV_DIR"
  # shellcheck disable=SC2086  # PIP_INSTALL_ARGS is a list of options on purpose
  "$VENV_DIR/bin/python" -m pip install --quiet $PIP_INSTALL_ARGS "$CODE_DIR" \
    || die "pip install failed"
}
