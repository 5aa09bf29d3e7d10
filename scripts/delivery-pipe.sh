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
cd "$home"
PIPE_SOURCE=${PIPE_SOURCE:-pmta-delivery}
export PIPE_SOURCE
exec "$home/.venv/bin/email-engine" pipe "$@"
