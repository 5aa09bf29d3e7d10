#!/usr/bin/env bash
# render-nginx.sh DEST: write the nginx site for Email Engine with this machine's names and paths.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "$0")/lib.sh"
render "$DEPLOY_DIR/nginx/email-engine.conf.in" "${1:?usage: render-nginx.sh DEST}"
