"""IPs and Warmup pages: each form is the API's service call; roles are enforced by the server; errors
are the service's sentence; writes are audited like the API's."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.auth.models import AuditEntry
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.feedback.models import StatBucket
from email_engine.ips import service as ip_service
from email_engine.ips.models import SendingIp
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.service import record_dnsbl_results
from email_engine.warmup.models import WarmupPlan
from tests.integration.console.conftest import csrf_of

_POST_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]+)"')


def _add_ip(client: TestClient, address: str = "192.0.2.10") -> TestClient:
    token = csrf_of(client.get("/ui/ips").text)
    return client.post(
        "/ui/ips",
        data={
            "csrf_token": token,
            "address": address,
            "hostname": "mta1.example.com",
            "vmta_name": "vmta-mta1",
            "purpose": "marketing",
        },
    )


def test_viewer_sees_no_write_control_and_the_server_refuses_its_posts(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    with ctx.session_factory() as session:
        ip = ip_service.create_ip(
            session,
            address="192.0.2.20",
            hostname="a.example.com",
            purpose="marketing",
            vmta_name="vmta-a",
            actor="test",
            now=utcnow(),
        )
        session.commit()
        ip_id = ip.id
    client = login(Role.VIEWER)
    for path in ("/ui/", "/ui/ips", f"/ui/ips/{ip_id}", "/ui/warmup"):
        page = client.get(path)
        assert page.status_code == 200, path
        assert _POST_FORM.findall(page.text) == ["/ui/logout"], path
    token = csrf_of(client.get("/ui/ips").text)
    refused = client.post(
        "/ui/ips",
        data={
            "csrf_token": token,
            "address": "192.0.2.11",
            "hostname": "b.example.com",
            "vmta_name": "vmta-b",
            "purpose": "marketing",
        },
    )
    assert refused.status_code == 403
    assert "The viewer role may only read; this needs operator." in refused.text
    refused = client.post(
        f"/ui/ips/{ip_id}/transition", data={"csrf_token": token, "state": "retired", "reason": "x"}
    )
    assert refused.status_code == 403
    with ctx.session_factory() as session:
        assert session.scalars(select(SendingIp.address)).all() == ["192.0.2.20"]
        assert session.get(SendingIp, ip_id).state == "standby"  # type: ignore[union-attr]


def test_empty_inventory_says_what_to_do(login: Callable[[Role], TestClient]) -> None:
    page = login(Role.OPERATOR).get("/ui/ips")
    assert "No IPs yet — add one below." in page.text
    assert '<label for="address">Address</label>' in page.text


def test_operator_adds_an_ip_and_a_bad_one_gets_the_services_sentence(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    client = login(Role.OPERATOR)
    answer = _add_ip(client)
    assert answer.status_code == 303
    page = client.get(answer.headers["location"])
    assert "IP 192.0.2.10 added in standby (cold)." in page.text
    assert "Move to warming" in page.text and "Move to quarantined" in page.text
    assert "added to the inventory" in page.text  # the history

    duplicate = _add_ip(client)
    assert duplicate.status_code == 409
    assert "192.0.2.10" in duplicate.text and 'class="error"' in duplicate.text
    bad = _add_ip(client, address="not an address")
    assert bad.status_code == 422
    assert 'value="not an address"' in bad.text  # the form keeps what was typed
    with ctx.session_factory() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.target == "/ui/ips").order_by(AuditEntry.id)
        ).all()
    assert [(e.actor, e.status_code) for e in entries] == [
        ("operator", 303),
        ("operator", 409),
        ("operator", 422),
    ]
    assert entries[0].details == {"console": "ips.create", "api": "POST /api/v1/ips"}


def test_transitions_follow_the_lifecycle_table(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    client = login(Role.OPERATOR)
    ip_page = _add_ip(client).headers["location"]
    ip_id = int(ip_page.rsplit("/", 1)[1])
    token = csrf_of(client.get(ip_page).text)
    no_reason = client.post(f"/ui/ips/{ip_id}/transition", data={"csrf_token": token, "state": "resting"})
    assert no_reason.status_code == 422 and "Fill in reason." in no_reason.text
    forced = client.post(
        f"/ui/ips/{ip_id}/transition",
        data={"csrf_token": token, "state": "active", "reason": "r", "force": "yes"},
    )
    assert forced.status_code == 403 and "Forcing a transition needs the admin role." in forced.text
    # standby -> active is refused for a cold IP: the lifecycle table's own sentence.
    cold = client.post(
        f"/ui/ips/{ip_id}/transition", data={"csrf_token": token, "state": "active", "reason": "try"}
    )
    assert cold.status_code == 409 and "warm" in cold.text
    moved = client.post(
        f"/ui/ips/{ip_id}/transition", data={"csrf_token": token, "state": "quarantined", "reason": "listed"}
    )
    assert moved.status_code == 303
    page = client.get(ip_page)
    assert "Moved to quarantined." in page.text
    assert "Move to resting" in page.text and "Move to standby" not in page.text


def test_warmup_from_the_ip_page_pause_resume_abort(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    client = login(Role.OPERATOR)
    ip_page = _add_ip(client).headers["location"]
    ip_id = int(ip_page.rsplit("/", 1)[1])
    token = csrf_of(client.get(ip_page).text)
    created = client.post(
        "/ui/warmup",
        data={"csrf_token": token, "ip_id": str(ip_id), "preset": "cold", "start": "yes", "back": "ip"},
    )
    assert created.status_code == 303 and created.headers["location"] == ip_page
    page = client.get(ip_page).text
    assert "created and started." in page
    assert '<svg class="chart"' in page and 'class="line-planned"' in page and 'class="line-limit"' in page
    with ctx.session_factory() as session:
        plan = session.scalars(select(WarmupPlan)).one()
        assert session.get(SendingIp, ip_id).state == "warming"  # type: ignore[union-attr]
    again = client.post(
        "/ui/warmup", data={"csrf_token": token, "ip_id": str(ip_id), "preset": "cold", "back": "ip"}
    )
    assert again.status_code == 409 and f"already has warmup plan {plan.id}" in again.text

    plan_page = f"/ui/warmup/{plan.id}"
    assert (
        client.post(f"{plan_page}/pause", data={"csrf_token": token, "reason": "checking"}).status_code == 303
    )
    page = client.get(plan_page).text
    assert "paused by user:operator: checking" in page and "Resume" in page
    assert client.post(f"{plan_page}/resume", data={"csrf_token": token}).status_code == 303
    assert client.post(f"{plan_page}/resume", data={"csrf_token": token}).status_code == 409
    assert client.post(f"{plan_page}/abort", data={"csrf_token": token}).status_code == 303
    with ctx.session_factory() as session:
        assert session.get(WarmupPlan, plan.id).status == "aborted"  # type: ignore[union-attr]
        assert session.get(SendingIp, ip_id).state == "standby"  # type: ignore[union-attr]
        actions = session.scalars(
            select(AuditEntry.details)
            .where(AuditEntry.target.like(f"/ui/warmup/{plan.id}/%"))
            .order_by(AuditEntry.id)
        ).all()
    assert [a["console"] for a in actions] == [
        "warmup.pause",
        "warmup.resume",
        "warmup.resume",
        "warmup.abort",
    ]
    warmup = client.get("/ui/warmup").text
    assert "aborted by user:operator" in warmup


def test_inventory_shows_todays_volume_against_the_cap_and_listings(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    client = login(Role.OPERATOR)
    ip_page = _add_ip(client).headers["location"]
    ip_id = int(ip_page.rsplit("/", 1)[1])
    token = csrf_of(client.get(ip_page).text)
    client.post(
        "/ui/warmup", data={"csrf_token": token, "ip_id": str(ip_id), "preset": "cold", "start": "yes"}
    )
    now = utcnow()
    hour = datetime(now.year, now.month, now.day, now.hour, tzinfo=UTC)
    with ctx.session_factory() as session:
        session.add(
            StatBucket(
                hour=hour,
                dimension="ip",
                key="192.0.2.10",
                sent=17,
                delivered=16,
                bounced=1,
                hard=1,
                soft=0,
                block=0,
                complaints=0,
                deferred=0,
            )
        )
        record_dnsbl_results(
            session,
            target="192.0.2.10",
            results=[ZoneResult(zone="zen.spamhaus.org", status="listed", codes=("127.0.0.2",))],
            now=now,
        )
        session.commit()
    page = client.get("/ui/ips").text
    assert "17 / 20" in page  # the cold preset's first day allows 20
    assert "zen.spamhaus.org" in page
    assert ">1 / 49<" in page  # warmup day 1 of 49
    ip_html = client.get(ip_page).text
    assert "zen.spamhaus.org" in ip_html
    # The listings timeline: one row for the zone, an open episode drawn up to now.
    timeline = ip_html.split('aria-label="Listings of 192.0.2.10 over time', 1)[1].split("</svg>", 1)[0]
    assert ">zen.spamhaus.org</text>" in timeline and "still listed" in timeline
