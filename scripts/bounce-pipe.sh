#!/bin/sh
# PowerMTA accounting pipe for bounce records. In /etc/pmta/config:
#
#   <acct-file |/opt/email-engine/scripts/bounce-pipe.sh>
#       records b, rb, f
#       record-fields b *, header_Subject
#   </acct-file>
#
# Settings (DATABASE_URL, PIPE_SPOOL_DIR…) come from the environment or from .env in the
# installation directory, exactly as for the service. EMAIL_ENGINE_HOME overrides that directory.
set -eu
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
home=${EMAIL_ENGINE_HOME:-$here}
cd "$home"
PIPE_SOURCE=${PIPE_SOURCE:-pmta-bounce}
export PIPE_SOURCE
exec "$home/.venv/bin/email-engine" pipe "$@"
