"""/metrics exposes database state (traffic rates, listings, outbox, health) for the alert rules."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.feedback.settings import FeedbackSettings
from email_engine.outbox.service import enqueue_event
from email_engine.platform.models import JobRun
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.service import record_dnsbl_results

HEADER = "type,timeLogged,orig,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\n"


def _samples(text: str, name: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith(name + "{"):
            labels, value = line.rsplit(" ", 1)
            found[labels[len(name) :]] = float(value)
    return found


def test_state_gauges(client: TestClient, ctx: AppContext, make_key: Any) -> None:
    now = utcnow()
    stamp = (now - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S+0000")
    lines = [
        f"d,{stamp},news@example.com,user{i}@gmail.com,2.0.0 (success),smtp;250 ok,,192.0.2.10,vmta-a"
        for i in range(8)
    ]
    lines += [
        f'b,{stamp},news@example.com,gone{i}@gmail.com,5.1.1,"smtp;550 5.1.1 The email account that you '
        f'tried to reach does not exist.",bad-mailbox,192.0.2.10,vmta-a'
        for i in range(2)
    ]
    posted = client.post(
        "/api/v1/webhooks/pmta-batch",
        content=HEADER + "\n".join(lines) + "\n",
        headers={**make_key(Role.INGEST), "Content-Type": "text/csv"},
    )
    assert posted.status_code == 200, posted.text
    with ctx.session_factory() as session:
        record_dnsbl_results(
            session,
            target="192.0.2.10",
            now=now,
            results=[
                ZoneResult("zen.spamhaus.org", "listed", ("127.0.0.2",), "SBL"),
            ],
        )
        enqueue_event(session, kind="alert", payload={"text": "x"}, idempotency_key="gauge-test", now=now)
        session.add(
            JobRun(
                job="health",
                trigger="manual",
                status="ok",
                started_at=now,
                finished_at=now,
                duration_seconds=0.1,
                result={"checks": {"database": "ok", "powermta": "fail"}},
                worker="test",
            )
        )
        session.commit()

    text = client.get("/metrics").text
    messages = _samples(text, "email_engine_messages")
    assert messages['{dimension="ip",key="192.0.2.10",outcome="sent",window="24h"}'] == 10
    assert messages['{dimension="ip",key="192.0.2.10",outcome="hard",window="24h"}'] == 2
    assert messages['{dimension="provider",key="gmail",outcome="delivered",window="1h"}'] == 8
    bounce = _samples(text, "email_engine_bounce_rate")
    assert bounce['{dimension="ip",key="192.0.2.10",window="24h"}'] == 0.2
    assert _samples(text, "email_engine_ip_listed") == {
        '{ip="192.0.2.10",major="true",zone="zen.spamhaus.org"}': 1
    }
    outbox = _samples(text, "email_engine_outbox_queue")
    assert outbox.get('{kind="alert",status="pending"}', 0) >= 1
    assert _samples(text, "email_engine_health_check_ok") == {
        '{check="database"}': 1,
        '{check="powermta"}': 0,
    }
    disk = _samples(text, "email_engine_disk_free_ratio")
    assert disk and all(0 < value <= 1 for value in disk.values())


def test_pipe_spool_backlog_gauges(client: TestClient, ctx: AppContext, tmp_path: Path) -> None:
    """A spool holding segments shows how many wait, how long the oldest has waited, and what was rejected."""
    spool = tmp_path / "spool"
    ctx.settings.install(FeedbackSettings(PIPE_SPOOL_DIR=spool))
    assert _samples(client.get("/metrics").text, "email_engine_pipe_spool_segments") == {
        '{state="waiting"}': 0,
        '{state="rejected"}': 0,
    }  # no pipe has run yet: nothing waits
    (spool / "rejected").mkdir(parents=True)
    ten_minutes_ago = time.time_ns() - 600 * 10**9
    (spool / f"{ten_minutes_ago:020d}-1-aaaaaaaa.batch").write_text("{}\n")
    (spool / f"{time.time_ns():020d}-1-bbbbbbbb.raw").write_bytes(b"{}\n")
    (spool / "rejected" / f"{ten_minutes_ago:020d}-1-cccccccc.batch").write_text("{}\n")
    (spool / "rejected" / f"{ten_minutes_ago:020d}-1-cccccccc.reason").write_text("refused\n")
    (spool / ".lock").write_bytes(b"")
    text = client.get("/metrics").text
    assert _samples(text, "email_engine_pipe_spool_segments") == {
        '{state="waiting"}': 2,
        '{state="rejected"}': 1,
    }
    oldest = next(
        float(line.split()[1])
        for line in text.splitlines()
        if line.startswith("email_engine_pipe_spool_oldest_seconds ")
    )
    assert 600 <= oldest < 3600
