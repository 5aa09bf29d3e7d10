#!/bin/sh
# DNSBL check of every sending IP and domain (the guide's check-blacklists.sh).
# A thin wrapper kept for the guide's cron lines: the work is `email-engine jobs run blacklists`, recorded like a
# scheduled run (GET /api/v1/jobs). Extra arguments go to the command (e.g. --json). Settings come from .env in
# the installation directory (EMAIL_ENGINE_HOME overrides it), as for the service.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
home=${EMAIL_ENGINE_HOME:-$here}
# The installed copy of the code ($APP_DIR/app, deploy/install.sh) runs with $APP_DIR's venv and .env.
[ -x "$home/.venv/bin/email-engine" ] || [ ! -x "$home/../.venv/bin/email-engine" ] || home=$(cd -- "$home/.." && pwd)
cd "$home"
exec "$home/.venv/bin/email-engine" jobs run blacklists "$@"
