#!/bin/sh
# Generate a DKIM key for a sending domain (the deployment guide's workflow).
#
#   scripts/generate-dkim.sh example.com s2026                 # RSA 2048
#   scripts/generate-dkim.sh example.com ed2026 --algorithm ed25519
#
# A thin wrapper around `email-engine dkim generate`: the private key is written with mode 0600 to
# DKIM_KEY_DIR/<domain>.<selector>.pem (the path the rendered PowerMTA config signs with) and the
# TXT record to publish is printed, split into strings of at most 255 bytes. Any further options
# (--force, --bits, --key-dir, --json) are passed through. EMAIL_ENGINE_HOME overrides the
# installation directory, whose .env supplies DKIM_KEY_DIR.
set -eu
if [ "$#" -lt 2 ]; then
    echo "usage: $0 DOMAIN SELECTOR [--algorithm rsa|ed25519] [--force] [--json]" >&2
    exit 64
fi
domain=$1
selector=$2
shift 2
here=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)
home=${EMAIL_ENGINE_HOME:-$here}
cd "$home"
exec "$home/.venv/bin/email-engine" dkim generate --domain "$domain" --selector "$selector" "$@"
