#!/bin/sh
# PowerMTA accounting pipe for bounce records. In /etc/pmta/config:
#
#   <acct-file |/opt/email-engine/scripts/bounce-pipe.sh>
#       records b
#       record-fields b *, header_Subject
#   </acct-file>
#
# (Add rb and f only with a <bounce-processor> / <feedback-loop-processor>, User's Guide 12.6-12.7;
# `email-engine pmta render` does this when PMTA_INBOUND_LISTENER is set.)
#
# Settings (DATABASE_URL, PIPE_SPOOL_DIR…) come from the environment or from .env in the
# installation directory, exactly as for the service. EMAIL_ENGINE_HOME overrides that directory.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
home=${EMAIL_ENGINE_HOME:-$here}
# The installed copy of the code ($APP_DIR/app, deploy/install.sh) runs with $APP_DIR's venv and .env.
[ -x "$home/.venv/bin/email-engine" ] || [ ! -x "$home/../.venv/bin/email-engine" ] || home=$(cd -- "$home/.." && pwd)
cd "$home"
PIPE_SOURCE=${PIPE_SOURCE:-pmta-bounce}
export PIPE_SOURCE
exec "$home/.venv/bin/email-engine" pipe "$@"
