"""DNS-authentication checks against a real DNS server on loopback (tests/support/dns_server.py)."""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import typer
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from email_engine.config import Settings, get_settings
from email_engine.context import AppContext
from email_engine.integrations.alerts.models import AlertState
from email_engine.reputation import auth_service
from email_engine.reputation.cli import register
from email_engine.reputation.compliance import SendingIpFacts
from email_engine.reputation.health import dns_auth_summary
from email_engine.reputation.jobs import run_dns_auth
from tests.integration.reputation.conftest import NOW, add_domain, rep_settings
from tests.support.dns_server import DnsServer
from tests.support.factories import make_ip

SOA = "{apex}. 300 IN SOA ns.{apex}. hostmaster.{apex}. 1 3600 600 86400 60"


def _rsa_key(bits: int) -> str:
    if bits >= 1024:
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits).public_key()
    else:  # cryptography will not generate weak keys; build the public key from its numbers
        key = rsa.RSAPublicNumbers(65537, (1 << (bits - 1)) | secrets.randbits(bits - 1) | 1).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def _txt(name: str, text: str) -> str:
    # TXT character-strings are at most 255 bytes: long DKIM keys are split as operators publish them.
    chunks = " ".join(f'"{text[i : i + 200]}"' for i in range(0, len(text), 200))
    return f"{name}. 300 IN TXT {chunks}"


def zone() -> str:
    lines = [
        SOA.format(apex="example.com"),
        SOA.format(apex="example.net"),
        SOA.format(apex="example.org"),
        SOA.format(apex="2.0.192.in-addr.arpa"),
    ]
    # example.com: good, SPF through two nested includes on the bounce domain.
    lines += [
        _txt("bounce.example.com", "v=spf1 include:_spf1.example.com -all"),
        _txt("_spf1.example.com", "v=spf1 include:_spf2.example.com ~all"),
        _txt("_spf2.example.com", "v=spf1 ip4:198.51.100.0/24 ip4:192.0.2.10 -all"),
        "bounce.example.com. 300 IN MX 10 mx.example.com.",
        "mx.example.com. 300 IN A 192.0.2.53",
        _txt("s1._domainkey.example.com", f"v=DKIM1; k=rsa; p={_rsa_key(2048)}"),
        _txt("_dmarc.example.com", "v=DMARC1; p=none; rua=mailto:dmarc@example.com"),
        _txt("_mta-sts.example.com", "v=STSv1; id=20261124"),
        "10.2.0.192.in-addr.arpa. 300 IN PTR mta1.example.com.",
        "mta1.example.com. 300 IN A 192.0.2.10",
        # 192.0.2.11: PTR points at a name that does not resolve back.
        "11.2.0.192.in-addr.arpa. 300 IN PTR mta2.example.com.",
        "mta2.example.com. 300 IN A 192.0.2.99",
    ]
    # example.net: SPF with 11 includes (lookup limit), a 512-bit DKIM key, no DMARC.
    lines.append(
        _txt("example.net", "v=spf1 " + " ".join(f"include:s{n}.example.net" for n in range(11)) + " -all")
    )
    lines += [_txt(f"s{n}.example.net", f"v=spf1 ip4:198.51.100.{n} -all") for n in range(11)]
    lines += [
        _txt("weak._domainkey.example.net", f"v=DKIM1; k=rsa; p={_rsa_key(512)}"),
        "example.net. 300 IN MX 10 mx.example.com.",
    ]
    # example.org: everything fine except the DMARC server never answers.
    lines += [
        _txt("example.org", "v=spf1 ip4:192.0.2.10 -all"),
        "example.org. 300 IN MX 10 mx.example.com.",
        _txt("s1._domainkey.example.org", f"v=DKIM1; k=rsa; p={_rsa_key(1024)}"),
    ]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def zone_text() -> str:
    return zone()


@pytest.fixture
def dns(zone_text: str) -> Iterator[DnsServer]:
    server = DnsServer(zone_text)
    server.silent("_dmarc.example.org")
    with server:
        yield server


def _settings(server: DnsServer) -> Settings:
    return Settings(_env_file=None, DNS_NAMESERVERS=server.nameserver)  # type: ignore[call-arg]


def _checks(report: Any) -> dict[str, Any]:
    return {check.name: check for check in report.checks}


def test_good_domain_with_nested_spf_includes(dns: DnsServer) -> None:
    report = auth_service.check_domain(
        _settings(dns),
        rep_settings(),
        domain="example.com",
        dkim_selector="s1",
        bounce_domain="bounce.example.com",
        ips=[SendingIpFacts("192.0.2.10", "mta1.example.com")],
    )
    checks = _checks(report)
    assert checks["spf:192.0.2.10"].status == "pass", checks["spf:192.0.2.10"].sentence
    assert checks["spf:192.0.2.10"].data["lookups"] == 2
    assert checks["spf:192.0.2.10"].data["mechanism"] == "include:_spf1.example.com"
    assert checks["dkim"].status == "pass" and checks["dkim"].data["bits"] == 2048
    assert (
        checks["dmarc"].status == "pass"
        and "p=none (monitoring) is the right start" in checks["dmarc"].sentence
    )
    assert checks["ptr:192.0.2.10"].status == "pass"
    assert checks["bounce_mx"].status == "pass"
    assert checks["mta_sts"].status == "info" and "is published" in checks["mta_sts"].sentence
    assert "not published" in checks["tls_rpt"].sentence
    assert report.status == "pass"
    assert report.compliance["status"] == "dns_compliant"


def test_lookup_limit_weak_dkim_and_missing_dmarc(dns: DnsServer) -> None:
    report = auth_service.check_domain(
        _settings(dns),
        rep_settings(),
        domain="example.net",
        dkim_selector="weak",
        bounce_domain=None,
        ips=[SendingIpFacts("192.0.2.10", "mta1.example.com")],
    )
    checks = _checks(report)
    spf = checks["spf:192.0.2.10"]
    assert spf.status == "fail" and spf.data["result"] == "permerror"
    assert "more than 10 DNS lookups" in spf.sentence and spf.data["explanation"].endswith(
        "Too many DNS lookups"
    )
    assert checks["dkim"].status == "fail" and "only 512 bits" in checks["dkim"].sentence
    assert checks["dmarc"].status == "fail" and "no DMARC record" in checks["dmarc"].sentence
    assert report.compliance["status"] == "non_compliant"


def test_ptr_without_forward_confirmation(dns: DnsServer) -> None:
    report = auth_service.check_domain(
        _settings(dns),
        rep_settings(),
        domain="example.com",
        dkim_selector="s1",
        bounce_domain="bounce.example.com",
        ips=[
            SendingIpFacts("192.0.2.11", "mta2.example.com"),
            SendingIpFacts("192.0.2.12", "mta3.example.com"),
        ],
    )
    checks = _checks(report)
    assert checks["ptr:192.0.2.11"].status == "fail"
    assert "does not resolve back to 192.0.2.11" in checks["ptr:192.0.2.11"].sentence
    assert checks["ptr:192.0.2.12"].status == "fail" and "no PTR record" in checks["ptr:192.0.2.12"].sentence
    assert checks["spf:192.0.2.11"].status == "fail"  # not in the SPF record either
    assert {r["name"]: r["status"] for r in report.compliance["requirements"]}["ptr"] == "not_met"


def test_unanswered_dmarc_is_unknown_not_missing(dns: DnsServer) -> None:
    report = auth_service.check_domain(
        _settings(dns),
        rep_settings(DNSBL_TIMEOUT=0.3),
        domain="example.org",
        dkim_selector="s1",
        bounce_domain=None,
        ips=[SendingIpFacts("192.0.2.10", "mta1.example.com")],
    )
    checks = _checks(report)
    assert checks["dmarc"].status == "unknown" and "could not be read" in checks["dmarc"].sentence
    assert checks["dkim"].status == "warn" and checks["dkim"].data["bits"] == 1024
    assert {r["name"]: r["status"] for r in report.compliance["requirements"]}["dmarc"] == "unknown"
    assert report.compliance["status"] == "unknown"


def test_api_validate_one_and_all_store_reports_and_health(
    client: TestClient, ctx: AppContext, session: Session, dns: DnsServer, operator_headers: dict[str, str]
) -> None:
    ctx.settings.dns_nameservers = [dns.nameserver]
    ctx.settings.install(rep_settings())
    make_ip(session, "192.0.2.10", hostname="mta1.example.com", vmta_name="vmta-1", state="active", now=NOW)
    make_ip(
        session, "192.0.2.99", hostname="mta9.example.com", vmta_name="vmta-9", state="retired", now=NOW
    )  # not checked
    good = add_domain(session, "example.com", dkim_selector="s1", bounce_domain="bounce.example.com")
    add_domain(session, "example.net", dkim_selector="weak")
    session.commit()

    response = client.post(f"/api/v1/domains/{good.id}/validate", headers=operator_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["domain"] == "example.com" and body["status"] == "pass"
    assert body["compliance"]["status"] == "dns_compliant"
    assert {c["name"] for c in body["checks"]} >= {
        "spf:192.0.2.10",
        "dkim",
        "dmarc",
        "ptr:192.0.2.10",
        "bounce_mx",
    }
    assert all(set(c) == {"name", "status", "sentence", "data"} for c in body["checks"])
    assert client.post("/api/v1/domains/424242/validate", headers=operator_headers).status_code == 404
    stored_good = client.get(f"/api/v1/domains/{good.id}/validation", headers=operator_headers)
    assert stored_good.status_code == 200 and stored_good.json()["checks"] == body["checks"]
    assert client.get("/api/v1/domains/424242/validation", headers=operator_headers).status_code == 404

    summary = client.post("/api/v1/domains/validate-all", headers=operator_headers).json()
    assert summary["checked"] == 2
    assert summary["failing"] == ["example.net"] and summary["non_compliant"] == ["example.net"]

    stored = auth_service.latest_domain_report(session, "example.net")
    assert stored is not None and stored.status == "fail"
    assert any(check.status == "fail" and "512 bits" in check.message for check in stored.checks)

    alert = session.scalar(select(AlertState).where(AlertState.key == "dns-auth:example.net"))
    assert alert is not None and alert.status == "firing" and "512 bits" in alert.text
    assert session.scalar(select(AlertState).where(AlertState.key == "dns-auth:example.com")) is None

    health = dns_auth_summary(ctx, NOW)
    assert health.status == "fail" and "example.net" in health.detail

    job = run_dns_auth(ctx, NOW)
    assert job["checked"] == 2 and job["failing"] == ["example.net"] and "results" not in job


@pytest.fixture
def cli(dns: DnsServer, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "DNS_NAMESERVERS": dns.nameserver,
        "DATABASE_URL": database_url,
        "DNSBL_TIMEOUT": "0.5",
        "LOG_LEVEL": "WARNING",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    root = typer.Typer()
    register(root)
    yield lambda *args: CliRunner().invoke(root, list(args))
    get_settings.cache_clear()


def test_cli_auth_check(cli: Any) -> None:
    good = cli(
        "auth-check",
        "example.com",
        "--ip",
        "192.0.2.10",
        "--selector",
        "s1",
        "--bounce-domain",
        "bounce.example.com",
        "--json",
    )
    assert good.exit_code == 0, good.output
    report = json.loads(good.output)
    assert report["status"] == "pass" and report["compliance"]["status"] == "dns_compliant"

    bad = cli("auth-check", "example.net", "--ip", "192.0.2.10", "--selector", "weak")
    assert bad.exit_code == 1
    assert "512 bits" in bad.output and "non_compliant" in bad.output

    wrong = cli("auth-check", "192.0.2.10")
    assert wrong.exit_code != 0 and "IP address" in wrong.output
    assert cli("auth-check", "example.com", "--ip", "not-an-ip").exit_code != 0
    helped = cli("auth-check", "--help")
    assert helped.exit_code == 0 and "DKIM" in helped.output


def test_total_deadline_gives_a_clear_error(dns: DnsServer) -> None:
    from email_engine.errors import DependencyUnavailable

    dns.silent("example.com")
    with pytest.raises(DependencyUnavailable, match=r"did not finish within 0\.3 s"):
        auth_service.check_domain(
            _settings(dns),
            rep_settings(DNSBL_TIMEOUT=2, DNSBL_DEADLINE=0.3),
            domain="example.com",
            dkim_selector="s1",
            bounce_domain=None,
            ips=[],
        )


def test_cli_spf_check_contract(cli: Any, dns: DnsServer) -> None:
    def spf(*args: str) -> tuple[int, Any]:
        result = cli("spf", "check", *args, "--json")
        return result.exit_code, json.loads(result.output) if result.exit_code == 0 else result.output

    code, passed = spf(
        "--ip", "192.0.2.10", "--sender", "someone@bounce.example.com", "--helo", "mta1.example.com"
    )
    assert code == 0
    assert passed == {
        "result": "pass",
        "mechanism": "include:_spf1.example.com",
        "explanation": "sender SPF authorized",
    }
    code, failed = spf("--ip", "203.0.113.5", "--sender", "someone@bounce.example.com")
    assert (code, failed["result"], failed["mechanism"]) == (0, "fail", "-all")
    # No sender: the HELO name's policy is checked (RFC 7208 2.3); a bare domain is postmaster@domain.
    assert spf("--ip", "192.0.2.10", "--helo", "bounce.example.com")[1]["result"] == "pass"
    assert spf("--ip", "192.0.2.10", "--sender", "example.org")[1]["result"] == "pass"
    assert spf("--ip", "192.0.2.10", "--sender", "x@no-spf.example.com")[1] == {
        "result": "none",
        "mechanism": None,
        "explanation": "no-spf.example.com publishes no SPF record",
    }
    # 11 includes: permerror with pyspf's explanation.
    assert spf("--ip", "192.0.2.10", "--sender", "x@example.net")[1]["result"] == "permerror"
    dns.silent("slow.example.com")
    code, unknown = spf("--ip", "192.0.2.10", "--sender", "x@slow.example.com")
    assert code == 0 and unknown["result"] == "temperror" and "no answer" in unknown["explanation"]

    assert cli("spf", "check", "--ip", "not-an-ip", "--sender", "a@example.com").exit_code == 2
    assert cli("spf", "check", "--ip", "192.0.2.10").exit_code == 2  # neither sender nor HELO
    human = cli("spf", "check", "--ip", "192.0.2.10", "--sender", "a@bounce.example.com")
    assert human.exit_code == 0 and "pass" in human.output and "include:_spf1.example.com" in human.output


def test_cli_dmarc_check_record_contract(cli: Any) -> None:
    good = cli("dmarc", "check-record", "v=DMARC1; p=reject; rua=mailto:d@example.com", "--json")
    assert good.exit_code == 0
    body = json.loads(good.output)
    assert set(body) == {"status", "policy", "tags", "problems"}
    assert (body["status"], body["policy"], body["tags"]["np"], body["problems"]) == (
        "pass",
        "reject",
        "reject",
        [],
    )
    no_policy = json.loads(
        cli("dmarc", "check-record", "v=DMARC1; rua=mailto:d@example.com", "--json").output
    )
    assert no_policy["status"] == "warn" and no_policy["policy"] == "none"
    bad = cli("dmarc", "check-record", "v=DMARC1; p=none; rua=d@example.com", "--json")
    assert bad.exit_code == 1 and json.loads(bad.output)["status"] == "fail"
    assert cli("dmarc", "check-record", "v=DMARC1; p=none; " + "x" * 5000).exit_code == 2
    human = cli("dmarc", "check-record", "v=DMARC1; p=none; pct=10; rua=mailto:d@example.com")
    assert human.exit_code == 0 and "warning: pct=10" in human.output


def test_cli_auth_check_adds_the_spf_and_dmarc_contracts(cli: Any) -> None:
    args = ("--ip", "192.0.2.10", "--bounce-domain", "bounce.example.com", "--json")
    report = json.loads(cli("auth-check", "example.com", *args).output)
    assert {"domain", "status", "checks", "compliance"} <= set(report)  # the stored report's shape, kept
    assert report["spf"] == [
        {
            "ip": "192.0.2.10",
            "result": "pass",
            "mechanism": "include:_spf1.example.com",
            "explanation": "sender SPF authorized",
        }
    ]
    assert report["dmarc"]["status"] == "pass" and report["dmarc"]["policy"] == "none"
    assert report["dmarc"]["tags"]["rua"] == ["mailto:dmarc@example.com"]
    missing = json.loads(cli("auth-check", "example.net", "--ip", "192.0.2.10", "--json").output)
    assert missing["dmarc"]["status"] == "fail" and missing["dmarc"]["policy"] is None
    silent = json.loads(cli("auth-check", "example.org", "--ip", "192.0.2.10", "--json").output)
    assert silent["dmarc"]["status"] == "unknown"
