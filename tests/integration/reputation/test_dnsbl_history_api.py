"""Listing history, alerts, zone selection and the blacklist API, with rbldnsd answering."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.integrations.alerts.models import AlertState
from email_engine.reputation import service
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.health import blacklist_summary
from email_engine.reputation.jobs import run_blacklists
from email_engine.reputation.models import DnsblCheck, DnsblListing
from tests.integration.reputation.conftest import NOW, add_domain, rep_settings
from tests.support.factories import make_ip
from tests.support.rbldnsd import Rbldnsd

LISTED = ZoneResult("zen.spamhaus.org", "listed", ("127.0.0.2",), "SBL")
CLEAN = ZoneResult("zen.spamhaus.org", "clean")
UNKNOWN = ZoneResult("zen.spamhaus.org", "unknown", (), "no answer in time")
MINOR = ZoneResult("psbl.surriel.com", "listed", ("127.0.0.2",), "PSBL")


def _alert(session: Session, key: str) -> AlertState | None:
    return session.scalar(select(AlertState).where(AlertState.key == key))


def test_history_opens_extends_and_closes_listings_and_alerts(session: Session) -> None:
    first = service.record_dnsbl_results(session, target="192.0.2.66", results=[LISTED, MINOR], now=NOW)
    assert first.new_listings == ["zen.spamhaus.org", "psbl.surriel.com"]
    alert = _alert(session, "dnsbl:192.0.2.66:zen.spamhaus.org")
    assert alert is not None and alert.status == "firing" and alert.severity == "critical"
    assert _alert(session, "dnsbl:192.0.2.66:psbl.surriel.com").severity == "warning"  # type: ignore[union-attr]

    # A timeout proves nothing: the listing stays open and unchanged.
    later = NOW + timedelta(hours=4)
    service.record_dnsbl_results(session, target="192.0.2.66", results=[UNKNOWN], now=later)
    row = session.scalar(select(DnsblListing).where(DnsblListing.zone == "zen.spamhaus.org"))
    assert row is not None and row.delisted_at is None and row.last_seen_at == NOW

    again = service.record_dnsbl_results(session, target="192.0.2.66", results=[LISTED], now=later)
    assert again.new_listings == []
    assert row.last_seen_at == later

    listed = service.listed_ips(session)
    assert [(s.zone, s.major, s.first_seen_at) for s in listed["192.0.2.66"]] == [
        ("zen.spamhaus.org", True, NOW),
        ("psbl.surriel.com", False, NOW),
    ]

    gone = service.record_dnsbl_results(
        session, target="192.0.2.66", results=[CLEAN], now=later + timedelta(hours=4)
    )
    assert gone.delisted == ["zen.spamhaus.org"]
    assert row.delisted_at == later + timedelta(hours=4)
    assert _alert(session, "dnsbl:192.0.2.66:zen.spamhaus.org").status == "resolved"  # type: ignore[union-attr]
    assert [s.zone for s in service.listed_ips(session)["192.0.2.66"]] == ["psbl.surriel.com"]

    # Listed again after a delisting: a new episode, the old one kept.
    service.record_dnsbl_results(
        session, target="192.0.2.66", results=[LISTED], now=later + timedelta(hours=8)
    )
    total, rows = service.list_events(session, target="192.0.2.66")
    assert total == 3
    assert [r.delisted_at is None for r in rows if r.zone == "zen.spamhaus.org"] == [True, False]
    check = session.scalar(select(DnsblCheck).where(DnsblCheck.target == "192.0.2.66"))
    assert check is not None and check.listed and check.results[0]["status"] == "listed"


def test_domains_are_not_in_listed_ips(session: Session) -> None:
    dbl = ZoneResult("dbl.spamhaus.org", "listed", ("127.0.1.2",), "spam domain")
    service.record_dnsbl_results(session, target="bad.example.org", results=[dbl], now=NOW)
    assert service.listed_ips(session) == {}


def test_api_check_ip_check_all_events_and_health(
    client: TestClient,
    ctx: AppContext,
    session: Session,
    rbl: Rbldnsd,
    operator_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    ctx.settings.dns_nameservers = [rbl.nameserver]
    ctx.settings.install(rep_settings(DNSBL_ZONES="zen.spamhaus.org,bl.spamcop.net,dbl.spamhaus.org"))
    listed_ip = make_ip(session, "192.0.2.66", vmta_name="vmta-a", state="active", now=NOW)
    make_ip(session, "192.0.2.10", vmta_name="vmta-b", state="active", now=NOW)
    add_domain(session, "bad.example.org", bounce_domain="bounce.example.com")
    session.commit()

    response = client.post(f"/api/v1/blacklists/check/{listed_ip.id}", headers=operator_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ip"] == "192.0.2.66" and body["listed"] is True
    assert {r["zone"]: r["status"] for r in body["results"]} == {
        "zen.spamhaus.org": "listed",
        "bl.spamcop.net": "listed",
    }
    assert set(body["results"][0]) == {"zone", "status", "codes", "meaning", "zone_usable"}

    assert client.post("/api/v1/blacklists/check/999999", headers=operator_headers).status_code == 404
    assert client.post(f"/api/v1/blacklists/check/{listed_ip.id}", headers=viewer_headers).status_code == 403
    assert client.post(f"/api/v1/blacklists/check/{listed_ip.id}").status_code == 401
    for bad_id in ("not-a-number", "0", "-1", str(2**64), "1.5"):
        assert client.post(f"/api/v1/blacklists/check/{bad_id}", headers=operator_headers).status_code == 422

    everything = client.post("/api/v1/blacklists/check-all", headers=operator_headers).json()
    assert everything["checked"] == 4  # two IPs, the domain and its bounce domain
    assert everything["listed"] == ["192.0.2.66", "bad.example.org"]
    assert everything["new_listings"] == [
        "bad.example.org on dbl.spamhaus.org"
    ]  # the IP's were opened before
    assert everything["delisted"] == []

    last = client.get("/api/v1/blacklists/checks", headers=viewer_headers).json()
    assert {c["target"]: c["listed"] for c in last} == {
        "192.0.2.66": True,
        "192.0.2.10": False,
        "bad.example.org": True,
        "bounce.example.com": False,
    }
    events = client.get("/api/v1/blacklists/events", headers=viewer_headers).json()
    assert events["total"] == 3
    assert {(e["target"], e["zone"]) for e in events["items"]} == {
        ("192.0.2.66", "zen.spamhaus.org"),
        ("192.0.2.66", "bl.spamcop.net"),
        ("bad.example.org", "dbl.spamhaus.org"),
    }
    only = client.get(
        "/api/v1/blacklists/events?target=bad.example.org&open=true", headers=viewer_headers
    ).json()
    assert only["total"] == 1
    assert (
        client.get("/api/v1/blacklists/events?target=not%20valid", headers=viewer_headers).status_code == 422
    )
    assert client.get("/api/v1/blacklists/events?limit=100000", headers=viewer_headers).status_code == 422

    health = blacklist_summary(ctx, NOW)
    assert health.status == "fail" and "192.0.2.66 on zen.spamhaus.org" in health.detail
    assert "last_check_at" in health.data

    public = client.get("/health").json()
    assert public["checks"]["blacklists"]["status"] == "fail"
    assert any(issue.startswith("blacklists: Listed on a major blocklist") for issue in public["issues"])
    assert "dns_auth" in public["checks"]


def test_zone_selection_api_validates_and_persists(
    client: TestClient, ctx: AppContext, operator_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    ctx.settings.install(rep_settings(DNSBL_ZONES="bl.spamcop.net"))
    before = client.get("/api/v1/blacklists/zones", headers=viewer_headers).json()
    assert before["source"] == "environment" and [z["name"] for z in before["zones"]] == ["bl.spamcop.net"]
    assert "zen.spamhaus.org" in before["catalogue"] and not any("sorbs" in z for z in before["catalogue"])

    put = client.put(
        "/api/v1/blacklists/zones",
        json={"zones": ["zen.spamhaus.org", "domain:uri.example.org", "zen.spamhaus.org"]},
        headers=operator_headers,
    )
    assert put.status_code == 200, put.text
    assert put.json()["source"] == "database"
    assert [(z["name"], z["kind"], z["custom"]) for z in put.json()["zones"]] == [
        ("zen.spamhaus.org", "ip", False),
        ("uri.example.org", "domain", True),
    ]
    assert client.get("/api/v1/blacklists/zones", headers=viewer_headers).json()["source"] == "database"

    bad_bodies: list[Any] = [
        {"zones": []},
        {"zones": ["not a zone"]},
        {"zones": ["x" * 300]},
        {"zones": [f"z{i}.example.org" for i in range(65)]},
        {"zones": "zen.spamhaus.org"},
        {"zones": ["zen.spamhaus.org"], "extra": 1},
        [],
    ]
    for body in bad_bodies:
        response = client.put("/api/v1/blacklists/zones", json=body, headers=operator_headers)
        assert response.status_code == 422, (body, response.text)
    malformed = client.put(
        "/api/v1/blacklists/zones",
        content=b"{not json",
        headers={**operator_headers, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert (
        client.put(
            "/api/v1/blacklists/zones", json={"zones": ["bl.spamcop.net"]}, headers=viewer_headers
        ).status_code
        == 403
    )
    # The stored selection survived the refused writes.
    assert [
        z["name"] for z in client.get("/api/v1/blacklists/zones", headers=viewer_headers).json()["zones"]
    ] == [
        "zen.spamhaus.org",
        "uri.example.org",
    ]
    reset = client.delete("/api/v1/blacklists/zones", headers=operator_headers).json()
    assert reset["source"] == "environment"


def test_blacklists_job_records_and_summarises(ctx: AppContext, session: Session, rbl: Rbldnsd) -> None:
    ctx.settings.dns_nameservers = [rbl.nameserver]
    ctx.settings.install(rep_settings(DNSBL_ZONES="zen.spamhaus.org"))
    make_ip(
        session, "192.0.2.80", vmta_name="vmta-refused", state="active", now=NOW
    )  # Spamhaus refuses: error, never a listing
    make_ip(session, "192.0.2.10", vmta_name="vmta-clean", state="active", now=NOW)
    session.commit()
    summary = run_blacklists(ctx, NOW)
    assert summary == {
        "checked": 2,
        "unusable_zones": {},
        "listed": [],
        "queries": 2,
        "errors": 1,
        "unknown": 0,
        "new_listings": [],
        "delisted": [],
    }
    assert service.listed_ips(session) == {}
    health = blacklist_summary(ctx, NOW)
    assert health.status == "warn" and "zen.spamhaus.org" in health.detail


def test_duplicate_zones_in_one_call_collapse_and_never_drop_a_listing(session: Session) -> None:
    outcome = service.record_dnsbl_results(
        session, target="2001:DB8:0::66", results=[CLEAN, LISTED, UNKNOWN, LISTED], now=NOW
    )
    assert outcome.new_listings == ["zen.spamhaus.org"]
    total, rows = service.list_events(session, target="2001:db8::66")
    assert total == 1 and rows[0].target == "2001:db8::66"  # stored in one canonical spelling
    check = session.scalar(select(DnsblCheck).where(DnsblCheck.target == "2001:db8::66"))
    assert check is not None and [r["status"] for r in check.results] == ["listed"]


def test_only_one_open_listing_per_target_and_zone(ctx: AppContext, session: Session) -> None:
    service.record_dnsbl_results(session, target="192.0.2.66", results=[LISTED], now=NOW)
    session.commit()
    with ctx.session_factory() as other:
        duplicate = DnsblListing(
            target="192.0.2.66",
            zone="zen.spamhaus.org",
            major=True,
            codes=["127.0.0.2"],
            meaning="SBL",
            first_seen_at=NOW,
            last_seen_at=NOW,
        )
        assert service._insert_listing(other, duplicate) is False  # the open-listing index refuses it
        # The session stays usable and the writer extends the existing listing instead.
        outcome = service.record_dnsbl_results(
            other, target="192.0.2.66", results=[LISTED], now=NOW + timedelta(1)
        )
        other.commit()
    assert outcome.new_listings == []
    session.expire_all()
    assert service.list_events(session, target="192.0.2.66")[0] == 1
