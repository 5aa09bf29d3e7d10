#!/usr/bin/env bash
# render-nginx.sh DEST: write the nginx site for Email Engine with this machine's names and paths.
#   Before a certificate exists (TLS_CERT missing): the HTTP-only first stage (deploy/nginx.conf with SERVER_NAME,
#   BIND and MONITORING_NETWORK), so `nginx -t` passes and `certbot --nginx -d SERVER_NAME` can run; or run
#   `certbot certonly --webroot -w /var/www/certbot -d SERVER_NAME` and render again.
#   With the certificate: the full site (deploy/nginx/email-engine.conf.in: TLS, HSTS, redirect, webroot).
#   STAGE=http or STAGE=tls forces one of them.
set -euo pipefail
# shellcheck source=deploy/lib.sh
. "$(dirname "$0")/lib.sh"
usage_if_help "$@"
dest=${1:?usage: render-nginx.sh DEST}
stage=${STAGE:-}
if [ -z "$stage" ]; then
  if [ -r "$TLS_CERT" ] && [ -r "$TLS_KEY" ]; then stage=tls; else stage=http; fi
fi
case "$stage" in
  tls) render "$DEPLOY_DIR/nginx/email-engine.conf.in" "$dest" ;;
  http)
    sed -e "s|server_name engine.example.com;|server_name $SERVER_NAME;|" \
        -e "s|server 127.0.0.1:8000;|server $BIND;|" \
        -e "s|^\(        allow ::1;\)$|\1\n        allow $MONITORING_NETWORK;|" \
        "$DEPLOY_DIR/nginx.conf" > "$dest"
    log "no certificate at $TLS_CERT yet: wrote the HTTP-only site; next: nginx -t && systemctl reload nginx," \
        "then certbot --nginx -d $SERVER_NAME --redirect --hsts (or certbot certonly --webroot and render again)"
    ;;
  *) die "STAGE must be http or tls" ;;
esac
