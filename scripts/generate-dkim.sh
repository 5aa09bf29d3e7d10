#!/bin/sh
# Generate DKIM keys for sending domains (the deployment guide's workflow).
#
#   scripts/generate-dkim.sh                                   # every inventory domain without a key (the guide's call)
#   scripts/generate-dkim.sh example.com s2026                 # one domain, RSA 2048
#   scripts/generate-dkim.sh example.com ed2026 --algorithm ed25519
#
# A thin wrapper around `email-engine dkim generate-missing` (no arguments, or options only) and
# `email-engine dkim generate` (DOMAIN SELECTOR): private keys are written with mode 0600 to
# DKIM_KEY_DIR/<domain>.<selector>.pem (the path the rendered PowerMTA config signs with) and the TXT
# records to publish are printed, split into strings of at most 255 bytes. Existing keys are left alone
# unless --force is given for one domain. Further options (--bits, --key-dir, --json, and --selector for
# domains that have none) are passed through. EMAIL_ENGINE_HOME overrides the installation directory,
# whose .env supplies DKIM_KEY_DIR.
set -eu
usage="usage: $0 [DOMAIN SELECTOR] [--algorithm rsa|ed25519] [--force] [--json]"
case "${1:-}" in
    -h|--help) echo "$usage"; echo "Without DOMAIN SELECTOR: a key for every sending domain in the inventory that has none."; exit 0 ;;
esac
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
home=${EMAIL_ENGINE_HOME:-$here}
# The installed copy of the code ($APP_DIR/app, deploy/install.sh) runs with $APP_DIR's venv and .env.
[ -x "$home/.venv/bin/email-engine" ] || [ ! -x "$home/../.venv/bin/email-engine" ] || home=$(cd -- "$home/.." && pwd)
if [ "$#" -eq 0 ] || [ "${1#-}" != "$1" ]; then
    cd "$home"
    exec "$home/.venv/bin/email-engine" dkim generate-missing "$@"
fi
if [ "$#" -lt 2 ] || [ "${2#-}" != "$2" ]; then
    echo "$usage" >&2
    exit 64
fi
domain=$1
selector=$2
shift 2
cd "$home"
exec "$home/.venv/bin/email-engine" dkim generate --domain "$domain" --selector "$selector" "$@"
