import pytest

from email_engine.errors import InvalidInput
from email_engine.reputation.dnsbl import (
    DnsAnswer,
    Zone,
    ZoneHealth,
    ZoneResult,
    catalogue,
    custom_zone,
    default_zone_names,
    query_name,
    read_dnsbl_answer,
    read_zone_health,
    resolve_zone_names,
    reverse_ip,
    target_kind,
    trust_answer,
    zone_test_points,
)

ZEN = catalogue()["zen.spamhaus.org"]
DBL = catalogue()["dbl.spamhaus.org"]
SURBL = catalogue()["multi.surbl.org"]
SPAMCOP = catalogue()["bl.spamcop.net"]
MAILSPIKE = catalogue()["bl.mailspike.net"]


def test_default_catalogue_has_the_required_lists_and_no_sorbs() -> None:
    names = default_zone_names()
    assert names == [
        "zen.spamhaus.org",
        "dbl.spamhaus.org",
        "bl.spamcop.net",
        "b.barracudacentral.org",
        "dnsbl-1.uceprotect.net",
        "psbl.surriel.com",
        "bl.mailspike.net",
        "all.s5h.net",
        "multi.surbl.org",
    ]
    assert not any("sorbs" in name for name in names)
    assert {z.name for z in catalogue().values() if z.kind == "domain"} == {
        "dbl.spamhaus.org",
        "multi.surbl.org",
    }


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("192.0.2.1", "1.2.0.192"),
        ("203.0.113.79", "79.113.0.203"),
        (
            "2001:db8:7ca6:22::45",
            "5.4.0.0.0.0.0.0.0.0.0.0.0.0.0.0.2.2.0.0.6.a.c.7.8.b.d.0.1.0.0.2",
        ),
    ],
)
def test_reverse_ip(address: str, expected: str) -> None:
    assert reverse_ip(address) == expected
    if ":" in address:
        assert len(expected.split(".")) == 32


@pytest.mark.parametrize(
    ("zone", "target", "dqs", "expected"),
    [
        (ZEN, "192.0.2.1", None, "1.2.0.192.zen.spamhaus.org"),
        (ZEN, "192.0.2.1", "abc123", "1.2.0.192.abc123.zen.dq.spamhaus.net"),
        (DBL, "Example.COM.", "abc123", "example.com.abc123.dbl.dq.spamhaus.net"),
        (DBL, "example.com", None, "example.com.dbl.spamhaus.org"),
        (SURBL, "example.com", "abc123", "example.com.multi.surbl.org"),  # key only for Spamhaus
        (DBL, "192.0.2.1", None, None),  # IPs never go to a domain list
        (SPAMCOP, "example.com", None, None),
        (SPAMCOP, "2001:db8::1", None, None),  # SpamCop lists no IPv6
        (
            ZEN,
            "2001:db8::1",
            None,
            "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.zen.spamhaus.org",
        ),
    ],
)
def test_query_name(zone, target, dqs, expected) -> None:  # type: ignore[no-untyped-def]
    assert query_name(zone, target, dqs_key=dqs) == expected


@pytest.mark.parametrize("target", ["", "not a target", "-bad-.example", "a" * 64 + ".example", "1.2.3.4.5"])
def test_target_kind_refuses_garbage(target: str) -> None:
    with pytest.raises(InvalidInput):
        target_kind(target)


@pytest.mark.parametrize(
    ("zone", "answer", "status", "codes", "meaning_part"),
    [
        (ZEN, DnsAnswer.nxdomain(), "clean", (), ""),
        (ZEN, DnsAnswer.listed("127.0.0.2"), "listed", ("127.0.0.2",), "SBL"),
        (ZEN, DnsAnswer.listed("127.0.0.4", "127.0.0.10"), "listed", ("127.0.0.4", "127.0.0.10"), "XBL"),
        (ZEN, DnsAnswer.listed("127.0.0.99"), "listed", ("127.0.0.99",), "code 127.0.0.99"),
        (
            ZEN,
            DnsAnswer.listed("127.255.255.254"),
            "error",
            ("127.255.255.254",),
            "query refused: public resolver",
        ),
        (ZEN, DnsAnswer.listed("127.255.255.252"), "error", ("127.255.255.252",), "typing error"),
        (ZEN, DnsAnswer.listed("127.255.255.255"), "error", ("127.255.255.255",), "excessive"),
        (
            ZEN,
            DnsAnswer.listed("127.255.255.240"),
            "error",
            ("127.255.255.240",),
            "error code 127.255.255.240",
        ),
        # an error code next to a listing code still makes the whole answer an error, never a listing
        (
            ZEN,
            DnsAnswer.listed("127.0.0.2", "127.255.255.254"),
            "error",
            ("127.0.0.2", "127.255.255.254"),
            "public",
        ),
        (ZEN, DnsAnswer.listed("10.0.0.1"), "error", ("10.0.0.1",), "rewrites NXDOMAIN"),
        (ZEN, DnsAnswer.listed("198.51.100.7"), "error", ("198.51.100.7",), "outside 127.0.0.0/8"),
        (ZEN, DnsAnswer.listed("127.0.0.1"), "error", ("127.0.0.1",), "RFC 5782"),
        (ZEN, DnsAnswer.timeout(), "unknown", (), "not clean"),
        (ZEN, DnsAnswer.error("SERVFAIL"), "error", (), "SERVFAIL"),
        (DBL, DnsAnswer.listed("127.0.1.2"), "listed", ("127.0.1.2",), "low-reputation domain"),
        (DBL, DnsAnswer.listed("127.0.1.255"), "error", ("127.0.1.255",), "IP addresses may not be queried"),
        (SURBL, DnsAnswer.listed("127.0.0.80"), "listed", ("127.0.0.80",), "MW: malware sites; ABUSE"),
        (SURBL, DnsAnswer.listed("127.0.0.8"), "listed", ("127.0.0.8",), "PH: phishing"),
        (SURBL, DnsAnswer.listed("127.0.0.1"), "error", ("127.0.0.1",), "SURBL blocks"),
        (SPAMCOP, DnsAnswer.listed("127.0.0.2"), "listed", ("127.0.0.2",), "SpamCop"),
        (MAILSPIKE, DnsAnswer.listed("127.0.0.10"), "listed", ("127.0.0.10",), "worst"),
        (MAILSPIKE, DnsAnswer.listed("127.0.0.18"), "clean", ("127.0.0.18",), "good reputation"),
        (SPAMCOP, DnsAnswer.listed("not-an-ip"), "error", ("not-an-ip",), "not an IPv4 address"),
        (SPAMCOP, DnsAnswer.listed("::1"), "error", ("::1",), "outside 127.0.0.0/8"),
    ],
)
def test_read_dnsbl_answer(zone, answer, status, codes, meaning_part) -> None:  # type: ignore[no-untyped-def]
    result = read_dnsbl_answer(zone, answer)
    assert result.zone == zone.name
    assert result.status == status
    assert result.codes == codes
    assert meaning_part in result.meaning


def test_timeout_is_never_clean() -> None:
    for zone in catalogue().values():
        assert read_dnsbl_answer(zone, DnsAnswer.timeout("1.0 s")).status == "unknown"


def test_custom_zones_and_selection() -> None:
    zones = resolve_zone_names(
        ["zen.spamhaus.org", "ZEN.spamhaus.org.", "rbl.example.org", "domain:uri.example.org"]
    )
    assert [z.name for z in zones] == ["zen.spamhaus.org", "rbl.example.org", "uri.example.org"]
    assert zones[1].kind == "ip" and zones[1].custom and not zones[1].major
    assert zones[2].kind == "domain"
    assert read_dnsbl_answer(zones[1], DnsAnswer.listed("127.0.0.2")).status == "listed"
    assert custom_zone("ip:rbl.example.net").kind == "ip"


@pytest.mark.parametrize(
    "entries",
    [
        [],
        [" "],
        ["no_dots"],
        ["bad zone.example"],
        ["x" * 300 + ".example"],
        ["zone$.example"],
        [f"z{i}.example.org" for i in range(65)],
    ],
)
def test_selection_refuses_bad_input(entries: list[str]) -> None:
    with pytest.raises(InvalidInput):
        resolve_zone_names(entries)


def test_settings_refuse_a_bad_zone_list() -> None:
    from pydantic import ValidationError

    from email_engine.reputation.settings import ReputationSettings

    with pytest.raises(ValidationError, match="DNSBL_ZONES"):
        ReputationSettings(_env_file=None, DNSBL_ZONES="zen.spamhaus.org,not a zone")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="SPAMHAUS_DQS_KEY") as caught:
        ReputationSettings(_env_file=None, SPAMHAUS_DQS_KEY="abc.secret")  # type: ignore[call-arg]
    assert "abc.secret" not in str(caught.value)
    ok = ReputationSettings(_env_file=None, DNSBL_ZONES=" zen.spamhaus.org , domain:uri.example.org ")  # type: ignore[call-arg]
    assert ok.dnsbl_zones == ["zen.spamhaus.org", "domain:uri.example.org"]
    assert ReputationSettings(_env_file=None, SPAMHAUS_DQS_KEY="  ").dqs_key is None  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("code", "meaning_part"),
    [
        ("127.255.255.254", "public or unattributable resolver"),
        ("127.255.255.252", "typing error"),
        ("127.255.255.255", "excessive number of queries"),
        ("127.255.255.1", "error code 127.255.255.1"),
    ],
)
def test_127_255_255_x_is_an_error_for_every_zone(code: str, meaning_part: str) -> None:
    for zone in (
        custom_zone("rbl.example.test"),
        catalogue()["bl.spamcop.net"],
        catalogue()["zen.spamhaus.org"],
    ):
        result = read_dnsbl_answer(zone, DnsAnswer.listed(code))
        assert result.status == "error", (zone.name, result)
        assert meaning_part in result.meaning or "query refused" in result.meaning


def test_a_zone_table_may_give_127_255_255_x_a_meaning() -> None:
    own = Zone("odd.example.test", "ip", False, codes={"127.255.255.1": "listed by odd rules"})
    assert read_dnsbl_answer(own, DnsAnswer.listed("127.255.255.1")).status == "listed"


IP_ZONE = custom_zone("rbl.example.test")
LISTED = DnsAnswer.listed("127.0.0.2")
NXDOMAIN = DnsAnswer.nxdomain()


@pytest.mark.parametrize(
    ("listed", "unlisted", "usable", "reason_part"),
    [
        (LISTED, NXDOMAIN, True, ""),
        (NXDOMAIN, NXDOMAIN, False, "127.0.0.2, which it must always list, was not listed (NXDOMAIN)"),
        (DnsAnswer.listed("127.255.255.254"), NXDOMAIN, False, "gave an error (query refused: public"),
        (DnsAnswer.timeout("1 s"), NXDOMAIN, False, "got no answer in time"),
        (LISTED, DnsAnswer.listed("127.0.0.2"), False, "127.0.0.1, which it must never list, was answered"),
        (LISTED, DnsAnswer.listed("198.51.100.1"), False, "outside 127.0.0.0/8"),
        (LISTED, DnsAnswer.timeout(), False, "127.0.0.1, which it must never list, got no answer"),
    ],
)
def test_zone_health_from_the_rfc_5782_test_points(
    listed: DnsAnswer, unlisted: DnsAnswer, usable: bool, reason_part: str
) -> None:
    health = read_zone_health(IP_ZONE, listed, unlisted)
    assert health.usable is usable
    assert reason_part in health.reason
    if not usable:
        assert "local recursive resolver such as unbound" in health.reason


def test_test_point_names() -> None:
    assert zone_test_points(IP_ZONE) == ("2.0.0.127", "1.0.0.127")
    assert zone_test_points(custom_zone("domain:uri.example.test")) == ("test", "invalid")
    assert zone_test_points(catalogue()["dbl.spamhaus.org"]) == ("dbltest.com", "invalid")


def test_an_unusable_zone_cannot_say_clean_or_listed() -> None:
    blind = ZoneHealth("rbl.example.test", False, "failed its test point")
    for result in (
        ZoneResult("rbl.example.test", "clean"),
        ZoneResult("rbl.example.test", "listed", ("127.0.0.2",)),
    ):
        trusted = trust_answer(result, blind)
        assert (
            trusted.status == "unknown"
            and not trusted.zone_usable
            and trusted.meaning == "failed its test point"
        )
    error = trust_answer(ZoneResult("rbl.example.test", "error", (), "query refused"), blind)
    assert error.status == "error" and error.meaning.startswith("query refused; failed")
    healthy = ZoneHealth("rbl.example.test", True)
    clean = ZoneResult("rbl.example.test", "clean")
    assert trust_answer(clean, healthy) is clean
