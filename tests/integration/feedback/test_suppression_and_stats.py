"""Suppression list API and interface, per-IP day results, domain auto-suppression job."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch
from email_engine.feedback.jobs import JOBS
from email_engine.feedback.models import Suppression
from email_engine.feedback.records import IngestRecord
from email_engine.feedback.settings import FeedbackSettings
from email_engine.feedback.stats import IpDayResult, daily_ip_results
from email_engine.feedback.suppression import suppressed_addresses
from email_engine.integrations.alerts.models import AlertState

DAY = date(2026, 11, 23)
T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _rec(
    index: int,
    kind: str,
    *,
    ip: str = "192.0.2.10",
    status: str = "",
    diag: str = "",
    domain: str = "example.com",
    at: datetime = T0,
) -> IngestRecord:
    return IngestRecord(
        key=f"k{kind}{index}-{ip}-{domain}-{at:%j}",
        type=kind,
        time_logged=at + timedelta(seconds=index),
        rcpt=f"User.{index}@{domain}",
        source_ip=ip,
        dsn_status=status or None,
        dsn_diag=diag or None,
    )


HARD = ("5.1.1", "550 5.1.1 Recipient address rejected: User unknown")
BLOCK = ("5.7.1", "550 5.7.1 Client host [192.0.2.10] blocked using zen.spamhaus.org")
SOFT = ("4.2.2", "452 4.2.2 Mailbox full")


def test_daily_ip_results_counts_each_outcome_for_that_ip_and_day(session: Session) -> None:
    records = [_rec(i, "d") for i in range(50)]
    records += [_rec(100 + i, "b", status=HARD[0], diag=HARD[1]) for i in range(4)]
    records += [_rec(200 + i, "b", status=BLOCK[0], diag=BLOCK[1]) for i in range(3)]
    records += [_rec(300 + i, "b", status=SOFT[0], diag=SOFT[1]) for i in range(2)]
    records += [_rec(400 + i, "t", status=SOFT[0], diag=SOFT[1]) for i in range(5)]
    records += [_rec(500, "f")]
    records += [_rec(i, "d", ip="192.0.2.99") for i in range(7)]  # another IP
    records += [_rec(i, "d", at=T0 + timedelta(days=1)) for i in range(9)]  # the next day
    ingest_batch(session, records, source="test", now=T0, forward=ForwardPolicy())
    session.commit()
    assert daily_ip_results(session, ip_address="192.0.2.10", day=DAY) == IpDayResult(
        sent=59, delivered=50, hard_bounces=4, soft_bounces=2, blocks=3, complaints=1, deferred=5
    )
    assert daily_ip_results(session, ip_address="192.0.2.99", day=DAY).delivered == 7
    assert daily_ip_results(session, ip_address="192.0.2.10", day=DAY + timedelta(days=1)).sent == 9
    assert daily_ip_results(session, ip_address="198.51.100.1", day=DAY) == IpDayResult(0, 0, 0, 0, 0, 0, 0)


def test_hard_bounces_and_complaints_are_suppressed_by_address_and_domain(session: Session) -> None:
    records = [
        _rec(1, "b", status=HARD[0], diag=HARD[1]),
        _rec(2, "b", status=BLOCK[0], diag=BLOCK[1]),
        _rec(3, "f", domain="example.org"),
        _rec(4, "d"),
    ]
    result = ingest_batch(session, records, source="test", now=T0, forward=ForwardPolicy())
    session.commit()
    assert result.suppressed == 2
    assert set(session.scalars(select(Suppression.value))) == {"user.1@example.com", "user.3@example.org"}
    asked = ["USER.1@example.com", "user.2@example.com", "user.3@EXAMPLE.org", "not-an-address", ""]
    assert suppressed_addresses(session, asked, key=None) == {"USER.1@example.com", "user.3@EXAMPLE.org"}


def test_suppression_api_add_list_delete_export(
    client: TestClient, operator_headers: dict[str, str], viewer_headers: dict[str, str], session: Session
) -> None:
    url = "/api/v1/suppressions"
    assert client.post(url, json={"value": "x@example.com"}, headers=viewer_headers).status_code == 403
    created = client.post(
        url, json={"value": " Person@Example.COM ", "reason": "unsubscribe"}, headers=operator_headers
    )
    assert created.status_code == 201, created.text
    assert created.json()["value"] == "person@example.com" and created.json()["kind"] == "address"
    domain = client.post(
        url, json={"value": "dead-domain.test", "note": '=HYPERLINK("x")'}, headers=operator_headers
    )
    assert domain.json()["kind"] == "domain"
    for bad in ("no spaces@example.com", "nodot", "@example.com"):
        response = client.post(url, json={"value": bad}, headers=operator_headers)
        assert response.status_code == 422, bad
    assert suppressed_addresses(session, ["anyone@dead-domain.test", "person@example.com"], key=None) == {
        "anyone@dead-domain.test",
        "person@example.com",
    }

    page = client.get(url, params={"q": "example"}, headers=viewer_headers).json()
    assert page["total"] == 1 and page["items"][0]["reason"] == "unsubscribe"

    exported = client.get("/api/v1/suppressions.csv", headers=viewer_headers)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert {row["value"] for row in rows} == {"person@example.com", "dead-domain.test"}
    assert next(row for row in rows if row["kind"] == "domain")["note"].startswith(
        "'="
    )  # no formula injection

    assert client.delete(f"{url}/person@example.com", headers=operator_headers).status_code == 200
    assert client.delete(f"{url}/person@example.com", headers=operator_headers).status_code == 404
    assert client.get(url, headers=viewer_headers).json()["total"] == 1


def test_domain_job_suppresses_dead_domains_and_only_flags_big_providers(
    ctx: AppContext, session: Session
) -> None:
    now = datetime.now(UTC)
    at = now - timedelta(hours=5)
    records: list[IngestRecord] = []
    for index in range(60):  # 30 % hard bounces on a small domain
        kind, code = ("b", HARD) if index % 10 < 3 else ("d", ("", ""))
        records.append(_rec(index, kind, status=code[0], diag=code[1], domain="dying-company.test", at=at))
    for index in range(60):  # same rate on a big provider
        kind, code = ("b", HARD) if index % 10 < 3 else ("d", ("", ""))
        records.append(_rec(index, kind, status=code[0], diag=code[1], domain="gmail.com", at=at))
    for index in range(20):  # high rate but below the minimum volume
        records.append(_rec(index, "b", status=HARD[0], diag=HARD[1], domain="tiny.test", at=at))
    for index in range(100):  # healthy
        records.append(_rec(index, "d", domain="healthy.test", at=at))
    ingest_batch(session, records, source="test", now=now, forward=ForwardPolicy())
    session.commit()
    ctx.settings.install(FeedbackSettings(_env_file=None, DOMAIN_SUPPRESS_MIN_VOLUME=50))  # type: ignore[call-arg]
    job = next(job for job in JOBS if job.name == "feedback.domain_suppression")
    summary = job.run(ctx, now)
    assert [item["domain"] for item in summary["suppressed"]] == ["dying-company.test"]
    assert [item["domain"] for item in summary["flagged"]] == ["gmail.com"]
    assert summary["suppressed"][0]["rate"] == 0.3
    session.expire_all()
    domains = {
        row.value: row.reason
        for row in session.scalars(select(Suppression).where(Suppression.kind == "domain"))
    }
    assert domains == {"dying-company.test": "domain_hard_bounce_rate"}
    assert job.run(ctx, now)["suppressed"] == []  # idempotent: already suppressed
    alerts = {row.key for row in session.scalars(select(AlertState))}
    assert alerts == {
        "feedback.domain_suppressed:dying-company.test",
        "feedback.provider_hard_bounces:gmail.com",
    }
