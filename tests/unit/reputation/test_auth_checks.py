"""Table tests of the pure DNS-authentication checks on hand-made DNS snapshots."""

from __future__ import annotations

import base64
import json
import secrets

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from email_engine.reputation.auth_facts import CheckStatus, DnsFacts, Fact, MissingFact, NeedFacts
from email_engine.reputation.compliance import (
    ComplianceStatus,
    RequirementStatus,
    SendingIpFacts,
    validate_domain,
)
from email_engine.reputation.dmarc import check_dmarc, organisational_domain
from email_engine.reputation.records import (
    check_bounce_mx,
    check_dkim,
    check_mta_sts,
    check_ptr,
    parse_tags,
)
from email_engine.reputation.spf import SpfEvaluation, check_spf, evaluate_spf

IP = "192.0.2.10"


def snapshot(entries: dict[tuple[str, str], list[str] | Fact]) -> DnsFacts:
    result = DnsFacts()
    for (name, rdtype), value in entries.items():
        result.put(name, rdtype, value if isinstance(value, Fact) else Fact("records", tuple(value)))
    return result


NX = Fact("nxdomain")


def spf_for(records: DnsFacts) -> SpfEvaluation:
    """check_host() for IP sending as postmaster@example.com."""
    return evaluate_spf(IP, records, sender="postmaster@example.com", helo="mta1.example.com")


def weak_or_real_rsa_key(key_size: int) -> rsa.RSAPublicKey:
    """cryptography refuses to generate keys under 1024 bits; a weak public key is built from its numbers."""
    if key_size >= 1024:
        return rsa.generate_private_key(public_exponent=65537, key_size=key_size).public_key()
    modulus = (1 << (key_size - 1)) | secrets.randbits(key_size - 1) | 1
    return rsa.RSAPublicNumbers(65537, modulus).public_key()


TIMEOUT = Fact("timeout", detail="no answer in 1 s")


@pytest.mark.parametrize(
    ("records", "result", "matched"),
    [
        ({("example.com", "TXT"): ["v=spf1 ip4:192.0.2.0/24 -all"]}, "pass", "ip4:192.0.2.0/24"),
        ({("example.com", "TXT"): ["v=spf1 ip4:198.51.100.1 -all"]}, "fail", "-all"),
        ({("example.com", "TXT"): ["v=spf1 ip4:198.51.100.1 ~all"]}, "softfail", "~all"),
        ({("example.com", "TXT"): ["v=spf1 ip4:198.51.100.1"]}, "neutral", None),
        ({("example.com", "TXT"): ["v=spf1 +all"]}, "pass", "+all"),
        ({("example.com", "TXT"): ["v=spf1 ?all"]}, "neutral", "?all"),
        ({("example.com", "TXT"): ["some other text"]}, "none", None),
        ({("example.com", "TXT"): NX}, "none", None),
        ({("example.com", "TXT"): ["v=spf1 -all", "v=spf1 +all"]}, "permerror", None),
        ({("example.com", "TXT"): ["v=spf1 ip4:192.0.2.300 -all"]}, "permerror", None),
        ({("example.com", "TXT"): ["v=spf1 bogus:thing -all"]}, "permerror", None),
        ({("example.com", "TXT"): ["v=spf1 ip6:2001:db8::/32 -all"]}, "fail", "-all"),
        ({("example.com", "TXT"): TIMEOUT}, "temperror", None),
        (
            {
                ("example.com", "TXT"): ["v=spf1 include:_spf.example.net -all"],
                ("_spf.example.net", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
            },
            "pass",
            "include:_spf.example.net",
        ),
        (
            {
                ("example.com", "TXT"): ["v=spf1 include:missing.example.net -all"],
                ("missing.example.net", "TXT"): NX,
            },
            "permerror",
            None,
        ),
        (
            {
                ("example.com", "TXT"): ["v=spf1 a mx -all"],
                ("example.com", "A"): ["198.51.100.9"],
                ("example.com", "MX"): ["10 mx.example.com"],
                ("mx.example.com", "A"): ["192.0.2.10"],
            },
            "pass",
            "mx",
        ),
        (
            {
                ("example.com", "TXT"): ["v=spf1 a:net.example.com/24 -all"],
                ("net.example.com", "A"): ["192.0.2.200"],
            },
            "pass",
            "a:net.example.com/24",
        ),
        (
            {
                ("example.com", "TXT"): ["v=spf1 redirect=_spf.example.org"],
                ("_spf.example.org", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
            },
            "pass",
            "ip4:192.0.2.10",
        ),
        (
            {
                ("example.com", "TXT"): ["v=spf1 exists:%{i}._spf.example.com -all"],
                ("192.0.2.10._spf.example.com", "A"): ["127.0.0.2"],
            },
            "pass",
            "exists:%{i}._spf.example.com",
        ),
        (
            {
                ("example.com", "TXT"): ["v=spf1 a:v1.example.com a:v2.example.com a:v3.example.com -all"],
                ("v1.example.com", "A"): NX,
                ("v2.example.com", "A"): NX,
                ("v3.example.com", "A"): NX,
            },
            "permerror",  # a third void lookup
            None,
        ),
    ],
)
def test_evaluate_spf(records, result, matched) -> None:  # type: ignore[no-untyped-def]
    evaluation = spf_for(snapshot(records))
    assert evaluation.result == result, evaluation.explanation
    assert evaluation.mechanism == matched


def test_spf_lookup_limit_is_permerror() -> None:
    records: dict[tuple[str, str], list[str] | Fact] = {
        ("example.com", "TXT"): [
            "v=spf1 " + " ".join(f"include:i{n}.example.net" for n in range(11)) + " ip4:192.0.2.10 -all"
        ]
    }
    for n in range(11):
        records[(f"i{n}.example.net", "TXT")] = [f"v=spf1 ip4:198.51.100.{n} -all"]
    evaluation = spf_for(snapshot(records))
    assert evaluation.result == "permerror"
    assert "Too many DNS lookups" in evaluation.explanation
    assert evaluation.lookups == 11
    check = check_spf("example.com", IP, snapshot(records))
    assert check.status == "fail" and "more than 10 DNS lookups; flatten includes" in check.sentence


def test_spf_asks_for_what_it_lacks() -> None:
    with pytest.raises(MissingFact) as caught:
        spf_for(snapshot({("example.com", "TXT"): ["v=spf1 include:_spf.example.net -all"]}))
    assert (caught.value.name, caught.value.rdtype) == ("_spf.example.net", "TXT")


@pytest.mark.parametrize(
    ("record", "status", "phrase"),
    [
        ("v=spf1 ip4:192.0.2.10 -all", "pass", "authorises 192.0.2.10"),
        ("v=spf1 +all", "fail", "authorises every host"),
        ("v=spf1 ?all", "fail", "not a pass"),
        ("v=spf1 ip4:192.0.2.10 ?all", "warn", "?all"),
        ("v=spf1 ip4:192.0.2.10 +all", "fail", "+all"),
        ("v=spf1 -all", "fail", "add ip4:192.0.2.10"),
        ("v=spf1 ip4:192.0.2.10 ptr -all", "warn", "ptr mechanism is deprecated"),
    ],
)
def test_check_spf_sentences(record: str, status: str, phrase: str) -> None:
    check = check_spf("example.com", IP, snapshot({("example.com", "TXT"): [record]}))
    assert check.status == status
    assert phrase in check.sentence


def test_check_spf_missing_record_says_what_to_publish() -> None:
    check = check_spf("example.com", IP, snapshot({("example.com", "TXT"): NX}))
    assert check.status == "fail" and "v=spf1 ip4:192.0.2.10 ~all" in check.sentence


def _dkim_record(key_size: int | None = None, *, ed: bool = False, extra: str = "") -> str:
    if ed:
        # A fixed key: the record is part of the test's id, which every xdist worker must compute alike.
        raw = (
            ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
            .public_key()
            .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        )
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}{extra}"
    assert key_size is not None
    der = weak_or_real_rsa_key(key_size).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}{extra}"


@pytest.mark.parametrize(
    ("record", "status", "phrase"),
    [
        (_dkim_record(2048), "pass", "2048-bit"),
        (_dkim_record(1024), "warn", "2048 bits is recommended"),
        (_dkim_record(512), "fail", "only 512 bits"),
        (_dkim_record(2048, extra="; t=y"), "warn", "testing"),
        (_dkim_record(ed=True), "pass", "ed25519"),
        ("v=DKIM1; k=rsa; p=", "fail", "revoked"),
        ("v=DKIM1; k=rsa; p=!!!notbase64", "fail", "not valid base64"),
        ("v=DKIM1; k=rsa; p=" + base64.b64encode(b"garbage-bytes").decode(), "fail", "not an RSA public key"),
        ("v=DKIM2; p=abc", "fail", "v=DKIM1"),
        ("v=DKIM1; k=dsa; p=" + base64.b64encode(b"x").decode(), "fail", "k=dsa"),
    ],
)
def test_check_dkim(record: str, status: str, phrase: str) -> None:
    check = check_dkim("example.com", "s1", snapshot({("s1._domainkey.example.com", "TXT"): [record]}))
    assert check.status == status, check.sentence
    assert phrase in check.sentence


def test_dkim_missing_and_unset_selector() -> None:
    assert (
        check_dkim("example.com", "s1", snapshot({("s1._domainkey.example.com", "TXT"): NX})).status == "fail"
    )
    assert check_dkim("example.com", None, DnsFacts()).status == "warn"
    assert (
        check_dkim("example.com", "s1", snapshot({("s1._domainkey.example.com", "TXT"): TIMEOUT})).status
        == "unknown"
    )


@pytest.mark.parametrize(
    ("records", "status", "phrase"),
    [
        (["v=DMARC1; p=none; rua=mailto:d@example.com"], "pass", "p=none (monitoring) is the right start"),
        (["v=DMARC1; p=reject; rua=mailto:d@example.com; adkim=s"], "pass", "p=reject is enforced"),
        (["v=DMARC1; p=quarantine"], "warn", "no rua="),
        (["v=DMARC1; p=quarantine; pct=20; rua=mailto:d@example.com"], "warn", "pct=20"),
        (["v=DMARC1; p=bogus"], "fail", "p=bogus is not valid"),
        (["v=DMARC1; p=none; pct=500; rua=mailto:d@example.com"], "warn", "pct=500: sampling was removed"),
        (["V=DMARC1; P=Reject; rua=mailto:d@example.com"], "pass", "p=reject is enforced"),
        (["v=DMARC1; rua=mailto:d@example.com"], "warn", "no p= tag: read as p=none"),
        (["v=DMARC1; p=none; rua=d@example.com"], "fail", "not a mailto: URI"),
        (["v=DMARC1; p=none; p=reject"], "fail", "more than once"),
        (["v=DMARC1; p=none; adkim=x"], "fail", "adkim=x"),
        (["v=DMARC1; p=none", "v=DMARC1; p=reject"], "fail", "2 DMARC records"),
        (["v=DMARC1; p=none; garbage"], "fail", "not a tag=value pair"),
    ],
)
def test_check_dmarc(records: list[str], status: str, phrase: str) -> None:
    check = check_dmarc("example.com", snapshot({("_dmarc.example.com", "TXT"): records}))
    assert check.status == status, check.sentence
    assert phrase in check.sentence


def test_dmarc_missing_and_organisational_fallback() -> None:
    missing = check_dmarc("example.com", snapshot({("_dmarc.example.com", "TXT"): NX}))
    assert missing.status == "fail" and "p=none is the right start" in missing.sentence
    inherited = check_dmarc(
        "news.example.com",
        snapshot(
            {
                ("_dmarc.news.example.com", "TXT"): NX,
                ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=none; rua=mailto:d@example.com"],
            }
        ),
    )
    assert inherited.status == "pass" and inherited.data["name"] == "_dmarc.example.com"
    assert organisational_domain("a.b.example.co.uk") == "example.co.uk"


@pytest.mark.parametrize(
    ("entries", "hostname", "status", "phrase"),
    [
        (
            {("10.2.0.192.in-addr.arpa", "PTR"): ["mta1.example.com"], ("mta1.example.com", "A"): [IP]},
            "mta1.example.com",
            "pass",
            "resolves back",
        ),
        (
            {
                ("10.2.0.192.in-addr.arpa", "PTR"): ["mta1.example.com"],
                ("mta1.example.com", "A"): ["192.0.2.99"],
            },
            "mta1.example.com",
            "fail",
            "does not resolve back",
        ),
        (
            {("10.2.0.192.in-addr.arpa", "PTR"): ["mta1.example.com"], ("mta1.example.com", "A"): NX},
            "mta1.example.com",
            "fail",
            "does not resolve back",
        ),
        (
            {("10.2.0.192.in-addr.arpa", "PTR"): ["mta9.example.com"], ("mta9.example.com", "A"): [IP]},
            "mta1.example.com",
            "warn",
            "differs from the VMTA hostname",
        ),
        ({("10.2.0.192.in-addr.arpa", "PTR"): NX}, "mta1.example.com", "fail", "no PTR record"),
    ],
)
def test_check_ptr(entries, hostname, status, phrase) -> None:  # type: ignore[no-untyped-def]
    check = check_ptr(IP, hostname, snapshot(entries))
    assert check.status == status
    assert phrase in check.sentence


def test_bounce_mx_and_optional_records() -> None:
    ok = check_bounce_mx(
        "example.com", "bounce.example.com", snapshot({("bounce.example.com", "MX"): ["10 mx.example.com"]})
    )
    assert ok.status == "pass"
    assert (
        check_bounce_mx(
            "example.com", "bounce.example.com", snapshot({("bounce.example.com", "MX"): NX})
        ).status
        == "fail"
    )
    assert (
        check_bounce_mx(
            "example.com", "bounce.example.com", snapshot({("bounce.example.com", "MX"): ["0 ."]})
        ).status
        == "fail"
    )
    sts = check_mta_sts("example.com", snapshot({("_mta-sts.example.com", "TXT"): ["v=STSv1; id=2026"]}))
    assert sts.status == "info" and "is published" in sts.sentence
    assert (
        "not published"
        in check_mta_sts("example.com", snapshot({("_mta-sts.example.com", "TXT"): NX})).sentence
    )


def test_parse_tags() -> None:
    assert parse_tags(" v=DKIM1 ; k=rsa;p=AB CD ;") == {"v": "DKIM1", "k": "rsa", "p": "AB CD"}
    with pytest.raises(ValueError, match="tag=value"):
        parse_tags("v=DKIM1; oops")


def _full_snapshot(**overrides: list[str] | Fact) -> DnsFacts:
    entries: dict[tuple[str, str], list[str] | Fact] = {
        ("bounce.example.com", "TXT"): ["v=spf1 ip4:192.0.2.10 -all"],
        ("bounce.example.com", "MX"): ["10 mx.example.com"],
        ("s1._domainkey.example.com", "TXT"): [_dkim_record(2048)],
        ("_dmarc.example.com", "TXT"): ["v=DMARC1; p=none; rua=mailto:d@example.com"],
        ("10.2.0.192.in-addr.arpa", "PTR"): ["mta1.example.com"],
        ("mta1.example.com", "A"): [IP],
        ("_mta-sts.example.com", "TXT"): NX,
        ("_smtp._tls.example.com", "TXT"): NX,
    }
    for key, value in overrides.items():
        name, rdtype = key.rsplit("__", 1)
        entries[(name, rdtype)] = value
    return snapshot(entries)


def test_validate_domain_compliance() -> None:
    ips = [SendingIpFacts(IP, "mta1.example.com")]
    report = validate_domain(
        "example.com", dkim_selector="s1", bounce_domain="bounce.example.com", ips=ips, facts=_full_snapshot()
    )
    assert report.status == "pass", [c.as_dict() for c in report.checks if c.status != "pass"]
    assert report.compliance["status"] == "dns_compliant"
    unsub = next(r for r in report.compliance["requirements"] if r["name"] == "one_click_unsubscribe")
    assert unsub["status"] == "unverified" and "MailWizz" in unsub["sentence"]

    broken = validate_domain(
        "example.com",
        dkim_selector="s1",
        bounce_domain="bounce.example.com",
        ips=ips,
        facts=_full_snapshot(**{"_dmarc.example.com__TXT": NX}),
    )
    assert broken.status == "fail"
    assert broken.compliance["status"] == "non_compliant"
    assert {r["name"]: r["status"] for r in broken.compliance["requirements"]}["dmarc"] == "not_met"


def test_validate_domain_lists_every_missing_fact_at_once() -> None:
    with pytest.raises(NeedFacts) as caught:
        validate_domain(
            "example.com", dkim_selector="s1", bounce_domain=None, ips=[SendingIpFacts(IP)], facts=DnsFacts()
        )
    assert ("example.com", "TXT") in caught.value.missing
    assert ("s1._domainkey.example.com", "TXT") in caught.value.missing
    assert ("10.2.0.192.in-addr.arpa", "PTR") in caught.value.missing


def test_spf_include_loop_stops_at_the_lookup_limit() -> None:
    evaluation = spf_for(snapshot({("example.com", "TXT"): ["v=spf1 include:example.com -all"]}))
    assert evaluation.result == "permerror" and "recursion" in evaluation.explanation


@pytest.mark.parametrize(
    ("term", "name"),
    [
        ("exists:%{ir}.%{v}._spf.%{d}", "10.2.0.192.in-addr._spf.example.com"),
        ("exists:%{d2}.x.example.net", "example.com.x.example.net"),
        ("exists:%{l}.%{o}.example.net", "postmaster.example.com.example.net"),
    ],
)
def test_spf_macros(term: str, name: str) -> None:
    records: dict[tuple[str, str], list[str] | Fact] = {
        ("example.com", "TXT"): [f"v=spf1 {term} -all"],
        (name, "A"): ["127.0.0.2"],
    }
    evaluation = spf_for(snapshot(records))
    assert evaluation.result == "pass", evaluation.explanation


def test_spf_unsupported_macro_and_malformed_terms_are_permerror() -> None:
    for record in (
        "v=spf1 exists:%{z}.example.com -all",
        "v=spf1 a/99 -all",
        "v=spf1 redirect=a.example.com redirect=b.example.com",
        "v=spf1 ip4: -all",
    ):
        assert spf_for(snapshot({("example.com", "TXT"): [record]})).result == "permerror", record


def test_ipv6_sender_spf_and_ptr() -> None:
    ip6 = "2001:db8::10"
    reverse = "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa"
    entries: dict[tuple[str, str], list[str] | Fact] = {
        ("example.com", "TXT"): ["v=spf1 ip6:2001:db8::/64 -all"],
        (reverse, "PTR"): ["mta6.example.com"],
        ("mta6.example.com", "AAAA"): ["2001:db8:0:0::10"],
    }
    assert check_spf("example.com", ip6, snapshot(entries)).status == "pass"
    assert check_ptr(ip6, "mta6.example.com", snapshot(entries)).status == "pass"


def test_plus_all_inside_an_include_is_not_a_pass() -> None:
    records: dict[tuple[str, str], list[str] | Fact] = {
        ("example.com", "TXT"): ["v=spf1 include:_spf.example.net -all"],
        ("_spf.example.net", "TXT"): ["v=spf1 +all"],
    }
    check = check_spf("example.com", IP, snapshot(records))
    assert check.status == "fail"
    assert "include:_spf.example.net, which ends in +all" in check.sentence


def test_unknown_is_a_status_not_a_wording() -> None:
    """A record DNS did not answer for is "unknown": the report and the Gmail/Yahoo summary say so."""
    ips = [SendingIpFacts(IP, "mta1.example.com")]
    report = validate_domain(
        "example.com",
        dkim_selector="s1",
        bounce_domain="bounce.example.com",
        ips=ips,
        facts=_full_snapshot(
            **{"s1._domainkey.example.com__TXT": TIMEOUT, "bounce.example.com__TXT": TIMEOUT}
        ),
    )
    checks = {check.name: check for check in report.checks}
    assert checks["dkim"].status == "unknown" and checks[f"spf:{IP}"].status == "unknown"
    assert checks[f"spf:{IP}"].data["result"] == "temperror"
    assert report.status == "unknown"
    requirements = {r["name"]: r["status"] for r in report.compliance["requirements"]}
    assert requirements["dkim"] == "unknown" and requirements["spf"] == "unknown"
    assert report.compliance["status"] == "unknown"
    # A failure outranks what could not be read.
    failing = validate_domain(
        "example.com",
        dkim_selector="s1",
        bounce_domain="bounce.example.com",
        ips=ips,
        facts=_full_snapshot(**{"s1._domainkey.example.com__TXT": TIMEOUT, "_dmarc.example.com__TXT": NX}),
    )
    assert failing.status == "fail" and failing.compliance["status"] == "non_compliant"


def test_statuses_keep_the_strings_stored_reports_hold() -> None:
    """``dns_auth_check`` rows and the API's JSON hold these values: renaming one needs a migration."""
    assert [s.value for s in CheckStatus] == ["pass", "fail", "warn", "info", "unknown"]
    assert [s.value for s in RequirementStatus] == ["met", "not_met", "unknown", "unverified"]
    assert [s.value for s in ComplianceStatus] == ["dns_compliant", "non_compliant", "unknown"]
    report = validate_domain(
        "example.com",
        dkim_selector="s1",
        bounce_domain="bounce.example.com",
        ips=[SendingIpFacts(IP, "mta1.example.com")],
        facts=_full_snapshot(**{"s1._domainkey.example.com__TXT": TIMEOUT}),
    )
    stored = json.loads(json.dumps(report.as_dict()))
    assert stored["status"] == "unknown" and stored["compliance"]["status"] == "unknown"
    assert {c["name"]: c["status"] for c in stored["checks"]}["dkim"] == "unknown"
