"""``email-engine blacklists check|zones|events`` against rbldnsd."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from email_engine.config import get_settings
from email_engine.reputation import service
from email_engine.reputation.cli import register
from tests.integration.reputation.conftest import NOW
from tests.support.factories import make_ip
from tests.support.rbldnsd import Rbldnsd


@pytest.fixture
def cli(rbl: Rbldnsd, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "DNS_NAMESERVERS": rbl.nameserver,
        "DATABASE_URL": database_url,
        "DNSBL_TIMEOUT": "0.5",
        "DNSBL_ZONES": "zen.spamhaus.org,bl.spamcop.net,dbl.spamhaus.org",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    root = typer.Typer()
    register(root)
    yield lambda *args: CliRunner().invoke(root, list(args))
    get_settings.cache_clear()


def test_check_prints_results_and_exits_1_when_listed(cli: Any, ctx: Any, session: Session) -> None:
    make_ip(session, "192.0.2.66", vmta_name="vmta-listed", state="active", now=NOW)
    session.commit()

    listed = cli("blacklists", "check", "192.0.2.66", "192.0.2.10", "--json")
    assert listed.exit_code == 1, listed.output
    reports = {r["ip"]: r for r in json.loads(listed.output)}
    assert reports["192.0.2.66"]["listed"] and not reports["192.0.2.10"]["listed"]
    # Only the inventory IP went into the history.
    session.expire_all()
    assert list(service.listed_ips(session)) == ["192.0.2.66"]
    assert [r.target for r in service.last_checks(session)] == ["192.0.2.66"]

    clean = cli("blacklists", "check", "192.0.2.10")
    assert clean.exit_code == 0 and "clean" in clean.output

    everything = cli("blacklists", "check", "--json")
    assert everything.exit_code == 1 and [r["ip"] for r in json.loads(everything.output)] == ["192.0.2.66"]

    bad = cli("blacklists", "check", "not an ip")
    assert bad.exit_code != 0

    zones = json.loads(cli("blacklists", "zones", "--json").output)
    assert zones["source"] == "environment" and zones["zones"][0]["name"] == "zen.spamhaus.org"

    events = json.loads(cli("blacklists", "events", "--open", "--json").output)
    assert {(e["target"], e["zone"]) for e in events} == {
        ("192.0.2.66", "zen.spamhaus.org"),
        ("192.0.2.66", "bl.spamcop.net"),
    }
