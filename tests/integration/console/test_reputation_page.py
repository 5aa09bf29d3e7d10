"""Reputation page: the stored DNSBL results as a target × zone matrix with each code's meaning and the
zone's delist link; sending domains without a stored report say how to get one."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.ips import service as ip_service
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.service import record_dnsbl_results


def test_matrix_meanings_and_delist_links(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    now = utcnow()
    with ctx.session_factory() as session:
        record_dnsbl_results(
            session,
            target="192.0.2.30",
            results=[
                ZoneResult(
                    zone="zen.spamhaus.org",
                    status="listed",
                    codes=("127.0.0.4",),
                    meaning="XBL: exploited host (botnet, infected or open proxy)",
                ),
                ZoneResult(zone="bl.spamcop.net", status="clean"),
                ZoneResult(zone="b.barracudacentral.org", status="unknown", meaning="timeout"),
            ],
            now=now,
        )
        ip_service.create_domain(session, name="news.example.com", now=now)
        session.commit()
    page = login(Role.VIEWER).get("/ui/reputation").text
    assert "192.0.2.30" in page
    assert "listed 127.0.0.4" in page and "XBL: exploited host" in page
    assert 'href="https://check.spamhaus.org/"' in page
    assert '<td class="st-ok">clean</td>' in page and ">unknown</td>" in page
    assert "news.example.com" in page and "Never validated" in page
    assert "No domains checked yet" in page
