#!/bin/sh
# Render alertmanager.yml with the Telegram bot token read from the Docker secret file (never from the
# environment or the compose file), then run Alertmanager bound to localhost.
set -eu
token_file=/run/secrets/telegram_bot_token
[ -s "$token_file" ] || { echo "missing Telegram bot token in $token_file" >&2; exit 1; }
token=$(tr -d '\n' < "$token_file")
umask 077
sed -e "s|@TELEGRAM_BOT_TOKEN@|$token|" -e "s|@TELEGRAM_CHAT_ID@|$TELEGRAM_CHAT_ID|" \
  /etc/alertmanager/alertmanager.yml.in > /tmp/alertmanager.yml
exec /bin/alertmanager --config.file=/tmp/alertmanager.yml --storage.path=/alertmanager \
  --web.listen-address=127.0.0.1:9093 --cluster.listen-address=
