"""Reputation page: the stored DNSBL results as a target × zone matrix with each code's meaning and the
zone's delist link; sending domains without a stored report say how to get one; "Validate now" per
domain and the stored report's bulk-sender requirements with what to fix."""

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


def test_check_now_never_shows_an_unusable_zone_as_clean(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    from tests.support.dns_server import DnsServer

    with ctx.session_factory() as session:
        ip_service.create_ip(
            session,
            address="192.0.2.40",
            hostname="mta.example.com",
            purpose="marketing",
            vmta_name="vmta-40",
            actor="test",
            now=utcnow(),
        )
        session.commit()
    client = login(Role.OPERATOR)
    with DnsServer() as nxdomain:  # every name NXDOMAIN, the zones' test points too
        ctx.settings.dns_nameservers = [nxdomain.nameserver]
        page = client.get("/ui/reputation").text
        from tests.integration.console.conftest import csrf_of

        answer = client.post("/ui/reputation/check", data={"csrf_token": csrf_of(page)})
        assert answer.status_code == 303
        assert nxdomain.query_count("2.0.0.127.zen.spamhaus.org", "A") >= 1
    page = client.get("/ui/reputation").text
    assert "Every IP and domain of the inventory was checked." in page
    assert "192.0.2.40" in page and ">unknown</td>" in page
    assert '<td class="st-ok">clean</td>' not in page
    viewer = login(Role.VIEWER)
    assert "Check every IP and domain now" not in viewer.get("/ui/reputation").text


def test_validate_now_runs_the_apis_domain_validation(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    """The per-domain button: the real checks against a real DNS server on loopback, the report stored
    and shown, the write audited; a viewer gets no button and the server refuses it."""
    from sqlalchemy import select

    from email_engine.auth.models import AuditEntry
    from tests.integration.console.conftest import csrf_of
    from tests.integration.reputation.conftest import NOW, add_domain, rep_settings
    from tests.integration.reputation.test_dns_auth_dns import zone
    from tests.support.dns_server import DnsServer
    from tests.support.factories import make_ip

    with ctx.session_factory() as session:
        make_ip(
            session, "192.0.2.10", hostname="mta1.example.com", vmta_name="vmta-1", state="active", now=NOW
        )
        domain = add_domain(session, "example.com", dkim_selector="s1", bounce_domain="bounce.example.com")
        domain_id = domain.id
        weak_id = add_domain(session, "example.net", dkim_selector="weak").id
        session.commit()
    ctx.settings.install(rep_settings())
    client = login(Role.OPERATOR)
    with DnsServer(zone()) as dns:
        ctx.settings.dns_nameservers = [dns.nameserver]
        page = client.get("/ui/reputation").text
        assert "Never validated" in page and 'aria-label="Validate example.com now"' in page
        answer = client.post(
            "/ui/reputation/validate", data={"csrf_token": csrf_of(page), "domain_id": str(domain_id)}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/ui/reputation#auth"
        assert dns.query_count("s1._domainkey.example.com", "TXT") >= 1
        assert dns.query_count("_dmarc.example.com", "TXT") >= 1
        page = client.get("/ui/reputation").text
        assert "example.com validated: pass, bulk-sender compliance: dns_compliant." in page
        missing = client.post(
            "/ui/reputation/validate", data={"csrf_token": csrf_of(page), "domain_id": "424242"}
        )
        assert missing.status_code == 404 and "No sending domain with id 424242" in missing.text
        weak = client.post(
            "/ui/reputation/validate", data={"csrf_token": csrf_of(page), "domain_id": str(weak_id)}
        )
        assert weak.status_code == 303
        assert "example.net validated: fail, bulk-sender compliance: non_compliant." in (
            client.get("/ui/reputation").text
        )
        empty = client.post("/ui/reputation/validate", data={"csrf_token": csrf_of(page)})
        assert empty.status_code == 422 and "Choose the sending domain to validate." in empty.text
    page = client.get("/ui/reputation").text
    assert "Never validated" not in page
    assert "dkim</th>" in page and "ptr:192.0.2.10</th>" in page
    # The bulk-sender requirements with what to do for each (the stored compliance report).
    good, weak_part = page.split("<h3>example.com", 1)[1].split("<h3>example.net", 1)
    assert good.startswith(' — <span class="st-ok">pass</span>, bulk-sender compliance: dns_compliant')
    assert weak_part.startswith(' — <span class="st-fail">fail</span>, bulk-sender compliance: non_compliant')
    assert '<th scope="row">alignment</th><td class="st-ok">met</td>' in good
    assert '<th scope="row">one_click_unsubscribe</th><td class="st-warn">unverified</td>' in good
    assert (
        '<th scope="row">dkim</th><td class="st-fail">not_met</td>'
        "<td>a DKIM key of at least 1024 bits must be published</td>"
    ) in weak_part
    with ctx.session_factory() as session:
        details = session.scalars(
            select(AuditEntry.details).where(AuditEntry.target == "/ui/reputation/validate")
        ).all()
    assert {"console": "domains.validate", "api": f"POST /api/v1/domains/{domain_id}/validate"} in details

    viewer = login(Role.VIEWER)
    page = viewer.get("/ui/reputation").text
    assert "Validate example.com now" not in page
    refused = viewer.post(
        "/ui/reputation/validate", data={"csrf_token": csrf_of(page), "domain_id": str(domain_id)}
    )
    assert refused.status_code == 403 and "needs operator" in refused.text
