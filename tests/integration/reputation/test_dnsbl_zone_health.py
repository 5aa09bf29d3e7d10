"""DNSBL answers that cannot lie: RFC 5782 test points checked every run, 127.255.255.0/24 an error everywhere.

A resolver that answers NXDOMAIN for everything (a DnsServer with no records) must not make any IP clean;
preflight then says NO-GO for blacklists with the fix, and GET /health warns naming it.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.platform.preflight import PreflightSettings
from email_engine.preflight.report import verdict
from email_engine.reputation import preflight
from email_engine.reputation.dnsbl import catalogue, resolve_zone_names
from email_engine.reputation.health import blacklist_summary
from email_engine.reputation.service import run_dnsbl_lookups
from tests.integration.reputation.conftest import NOW, rep_settings
from tests.support.dns_server import DnsServer
from tests.support.factories import make_ip
from tests.support.rbldnsd import DnsRouter, Rbldnsd


def _settings(nameserver: str) -> Settings:
    return Settings(_env_file=None, DNS_NAMESERVERS=nameserver)  # type: ignore[call-arg]


def test_nxdomain_everywhere_gives_no_clean_zone_and_preflight_says_no_go(
    client: TestClient, ctx: AppContext, session: Session, operator_headers: dict[str, str]
) -> None:
    with DnsServer() as nxdomain:  # no records: every name is NXDOMAIN, even 2.0.0.127.zen.spamhaus.org
        ctx.settings.dns_nameservers = [nxdomain.nameserver]
        ctx.settings.install(rep_settings())
        ip = make_ip(session, "192.0.2.10", state="active", now=NOW)
        session.commit()
        response = client.post(f"/api/v1/blacklists/check/{ip.id}", headers=operator_headers)
        assert nxdomain.query_count("2.0.0.127.zen.spamhaus.org", "A") == 1  # the test point was asked
    assert response.status_code == 200, response.text
    body = response.json()
    statuses = {result["zone"]: result["status"] for result in body["results"]}
    assert set(statuses) >= {"zen.spamhaus.org", "bl.spamcop.net"}
    assert "clean" not in statuses.values() and set(statuses.values()) == {"unknown"}
    zen = next(result for result in body["results"] if result["zone"] == "zen.spamhaus.org")
    assert zen["zone_usable"] is False
    assert "127.0.0.2, which it must always list, was not listed" in zen["meaning"]
    assert "local recursive resolver such as unbound" in zen["meaning"]

    pf = PreflightSettings(_env_file=None)  # type: ignore[call-arg]
    items = list(preflight.check_blacklists(ctx, pf, NOW + timedelta(minutes=1)))
    assert [item.name for item in items] == ["blacklists"]
    [item] = items
    assert item.status == "fail" and not verdict(items)  # NO-GO
    assert "no DNSBL zone gave a usable answer for 192.0.2.10" in item.detail
    assert "zen.spamhaus.org" in item.detail and "unbound" in item.fix

    health = blacklist_summary(ctx, NOW + timedelta(minutes=1))
    assert health.status == "warn"
    assert "failed their RFC 5782 test points" in health.detail and "unbound" in health.detail
    assert "zen.spamhaus.org" in health.data["unusable_zones"]


@pytest.mark.slow
def test_a_resolver_rewriting_everything_to_listed_is_not_a_listing(tmp_path: Path) -> None:
    # rbldnsd's default answer lists every address, so 127.0.0.1 is "listed" too: the zone cannot be read.
    zones = resolve_zone_names(["rbl.example.test"])
    with Rbldnsd(tmp_path, {"rbl.example.test": ("ip4set", ":127.0.0.2:\n0.0.0.0/1\n128.0.0.0/1\n")}) as rbl:
        results = run_dnsbl_lookups(_settings(rbl.nameserver), rep_settings(), zones, ["192.0.2.10"])
    [result] = results["192.0.2.10"]
    assert result.status == "unknown" and not result.zone_usable
    assert "127.0.0.1, which it must never list" in result.meaning


@pytest.mark.slow
def test_a_custom_zone_answering_127_255_255_254_is_an_error(tmp_path: Path) -> None:
    """A mirror or DQS name configured as a custom zone answers Spamhaus's error codes too."""
    zones = resolve_zone_names(["mirror.example.test", "refusing.example.test"])
    data = {
        # Healthy (lists its test point), but refuses this query as coming through a public resolver.
        "mirror.example.test": ("ip4set", "127.0.0.2 :127.0.0.2:\n192.0.2.80 :127.255.255.254:\n"),
        # Refuses everything, its test point included.
        "refusing.example.test": ("ip4set", ":127.255.255.254:\n0.0.0.0/1\n128.0.0.0/1\n"),
    }
    with Rbldnsd(tmp_path, data) as rbl:
        results = run_dnsbl_lookups(_settings(rbl.nameserver), rep_settings(), zones, ["192.0.2.80"])
    by_zone = {result.zone: result for result in results["192.0.2.80"]}
    mirror = by_zone["mirror.example.test"]
    assert mirror.status == "error" and mirror.zone_usable
    assert "public or unattributable resolver" in mirror.meaning
    refusing = by_zone["refusing.example.test"]
    assert refusing.status == "error" and not refusing.zone_usable
    assert "gave an error" in refusing.meaning


def test_zone_health_is_judged_once_per_run_and_a_healthy_zone_still_answers(rbl: Rbldnsd) -> None:
    zen, spamcop = catalogue()["zen.spamhaus.org"], catalogue()["bl.spamcop.net"]
    # SpamCop's answers are rewritten to NXDOMAIN by this "resolver"; Spamhaus is reached normally.
    with (
        DnsServer() as nxdomain,
        DnsRouter(
            {"bl.spamcop.net": ("127.0.0.1", nxdomain.port)}, default=("127.0.0.1", rbl.port)
        ) as router,
    ):
        results = run_dnsbl_lookups(
            _settings(router.nameserver), rep_settings(), [zen, spamcop], ["192.0.2.66", "192.0.2.10"]
        )
        assert nxdomain.query_count("2.0.0.127.bl.spamcop.net", "A") == 1  # once for the two targets
    listed = {result.zone: result for result in results["192.0.2.66"]}
    assert listed["zen.spamhaus.org"].status == "listed"
    assert listed["bl.spamcop.net"].status == "unknown"  # NXDOMAIN from a blind zone is not clean
    clean = {result.zone: result for result in results["192.0.2.10"]}
    assert clean["zen.spamhaus.org"].status == "clean" and clean["zen.spamhaus.org"].zone_usable
    assert clean["bl.spamcop.net"].status == "unknown"
