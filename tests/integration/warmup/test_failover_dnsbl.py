"""End to end: a real DNSBL lookup (rbldnsd on loopback) finds the active IP listed, and the failover
job quarantines it and brings the warm standby in, in the engine's database and in MailWizz."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.reputation.service import check_all
from email_engine.reputation.settings import ReputationSettings
from email_engine.reputation_signals.settings import SignalSettings
from email_engine.warmup import failover_service
from email_engine.warmup.settings import WarmupSettings
from tests.integration.warmup.helpers import feed_day
from tests.support.factories import make_ip
from tests.support.mailwizz_db import MailwizzTestDb
from tests.support.rbldnsd import Rbldnsd

NOW = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
# The zone lists its RFC 5782 test point (127.0.0.2), as real lists do: every check run asks for it.
ZEN = """
:127.0.0.2:Listed on SBL
127.0.0.2 :127.0.0.2:
192.0.2.66 :127.0.0.2:
"""

SIGNALS = SignalSettings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def rbl(tmp_path: Path) -> Iterator[Rbldnsd]:
    with Rbldnsd(tmp_path, {"zen.spamhaus.org": ("ip4set", ZEN)}) as server:
        yield server


def test_real_listing_triggers_failover_to_the_warm_standby(
    session: Session, mw: MailwizzTestDb, rbl: Rbldnsd
) -> None:
    active_server = mw.add_server(status="active", hourly=400, daily=5000)
    standby_server = mw.add_server(status="inactive", hourly=400, daily=5000)
    listed = make_ip(
        session,
        "192.0.2.66",
        server_id=active_server,
        now=NOW - timedelta(days=60),
        state="active",
        pool="p1",
    )
    clean = make_ip(
        session,
        "192.0.2.67",
        server_id=standby_server,
        now=NOW - timedelta(days=5),
        state="warm-standby",
        pool="p1",
    )
    feed_day(session, listed.address, (NOW - timedelta(days=1)).date(), sent=4000, delivered=3990, hard=10)
    feed_day(session, clean.address, (NOW - timedelta(days=6)).date(), sent=5000, delivered=5000)
    session.commit()

    settings = Settings(_env_file=None, DNS_NAMESERVERS=rbl.nameserver)  # type: ignore[call-arg]
    rep = ReputationSettings(
        _env_file=None,
        DNSBL_ZONES="zen.spamhaus.org",
        DNSBL_TIMEOUT=0.5,  # type: ignore[call-arg]
        DNSBL_DEADLINE=5,
    )
    report = check_all(session, settings, rep, now=NOW)
    assert report["listed"] == ["192.0.2.66"]
    session.commit()

    summary = failover_service.run_failover(
        session,
        now=NOW + timedelta(minutes=1),
        mailwizz=mw.adapter(),
        settings=WarmupSettings(),
        signals=SIGNALS,
    )
    session.commit()
    assert [(a["action"], a["standby"]) for a in summary["actions"]] == [("fail_over", "192.0.2.67")]
    session.refresh(listed)
    session.refresh(clean)
    assert (listed.state, clean.state) == ("quarantined", "warming")
    assert mw.row(active_server)["status"] == "inactive"
    row = mw.row(standby_server)  # min(proven 5,000, the listed IP's recent 4,000)
    assert (row["status"], row["daily_quota"]) == ("active", 4000)
