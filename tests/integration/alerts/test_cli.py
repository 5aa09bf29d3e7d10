"""`email-engine alerts test` and `email-engine outbox …` as real subprocesses."""

from __future__ import annotations

import json

import pytest

from email_engine.context import AppContext
from tests.integration.alerts.conftest import BOT_TOKEN, CHAT_ID, messages
from tests.support.cli_runner import run_cli
from tests.support.http_peers import HttpPeer

pytestmark = pytest.mark.slow  # starts the CLI as a subprocess


def test_alerts_test_reports_delivery_and_failure(ctx: AppContext, telegram: HttpPeer) -> None:
    url = ctx.settings.database_url
    env = {"TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_CHAT_ID": CHAT_ID, "TELEGRAM_API_URL": telegram.url}
    sent = run_cli("alerts", "test", "--message", "hello <world> & co", "--json", database_url=url, env=env)
    assert sent.returncode == 0, sent.stderr
    assert json.loads(sent.stdout)["ok"] is True
    assert messages(telegram) and "hello &lt;world&gt; &amp; co" in messages(telegram)[0]

    telegram.down()
    # A tiny backoff: the failed event is due again at once, yet this drain tries it only once.
    down = run_cli("alerts", "test", database_url=url, env={**env, "OUTBOX_BACKOFF_BASE_SECONDS": "0.001"})
    assert down.returncode == 1 and "Telegram unreachable" in down.stderr
    assert BOT_TOKEN not in down.stderr + down.stdout

    status = run_cli("outbox", "status", "--json", database_url=url)
    assert json.loads(status.stdout)["counts"]["alert"] == {"pending": 1, "sending": 0, "sent": 1, "dead": 0}

    telegram.up()
    drained = run_cli("outbox", "drain", "--json", database_url=url, env=env)
    assert drained.returncode == 0, drained.stderr
    report = json.loads(drained.stdout)
    assert (report["sent"], report["backlog"]) == (1, {})
    assert len(messages(telegram)) == 2
