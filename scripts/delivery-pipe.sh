#!/bin/sh
# PowerMTA accounting pipe for delivery records. In /etc/pmta/config:
#
#   <acct-file |/opt/email-engine/scripts/delivery-pipe.sh>
#       records d, t
#       record-fields d *
#   </acct-file>
#
# Settings (DATABASE_URL, PIPE_SPOOL_DIR…) come from the environment or from .env in the
# installation directory, exactly as for the service. EMAIL_ENGINE_HOME overrides that directory.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
home=${EMAIL_ENGINE_HOME:-$here}
# The installed copy of the code ($APP_DIR/app, deploy/install.sh) runs with $APP_DIR's venv and .env.
[ -x "$home/.venv/bin/email-engine" ] || [ ! -x "$home/../.venv/bin/email-engine" ] || home=$(cd -- "$home/.." && pwd)
cd "$home"
PIPE_SOURCE=${PIPE_SOURCE:-pmta-delivery}
export PIPE_SOURCE
exec "$home/.venv/bin/email-engine" pipe "$@"
