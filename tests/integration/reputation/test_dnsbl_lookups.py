"""DNSBL lookups against rbldnsd on loopback: listed, clean, refused, rewritten, timeout, IPv6, DQS."""

from __future__ import annotations

from typing import Any

from email_engine.config import Settings
from email_engine.reputation.dnsbl import catalogue, resolve_zone_names
from email_engine.reputation.service import run_dnsbl_lookups
from tests.integration.reputation.conftest import rep_settings
from tests.support.rbldnsd import DnsRouter, Rbldnsd


def _settings(nameserver: str) -> Settings:
    return Settings(_env_file=None, DNS_NAMESERVERS=nameserver)  # type: ignore[call-arg]


def _by_zone(results: list[Any]) -> dict[str, Any]:
    return {result.zone: result for result in results}


ZONES = [
    catalogue()[name]
    for name in ("zen.spamhaus.org", "bl.spamcop.net", "dbl.spamhaus.org", "multi.surbl.org")
]


def test_listed_clean_refused_and_rewritten_answers(rbl: Rbldnsd) -> None:
    targets = ["192.0.2.66", "192.0.2.67", "192.0.2.10", "192.0.2.80", "192.0.2.81"]
    results = run_dnsbl_lookups(_settings(rbl.nameserver), rep_settings(), ZONES, targets)

    listed = _by_zone(results["192.0.2.66"])
    assert set(listed) == {"zen.spamhaus.org", "bl.spamcop.net"}  # IPs never go to domain lists
    assert listed["zen.spamhaus.org"].status == "listed"
    assert listed["zen.spamhaus.org"].codes == ("127.0.0.2",)
    assert "SBL" in listed["zen.spamhaus.org"].meaning
    assert listed["bl.spamcop.net"].status == "listed"

    xbl = _by_zone(results["192.0.2.67"])
    assert xbl["zen.spamhaus.org"].status == "listed" and "XBL" in xbl["zen.spamhaus.org"].meaning
    assert xbl["bl.spamcop.net"].status == "clean"

    assert {r.status for r in results["192.0.2.10"]} == {"clean"}

    refused = _by_zone(results["192.0.2.80"])["zen.spamhaus.org"]
    assert refused.status == "error"
    assert "query refused: public resolver" in refused.meaning

    rewritten = _by_zone(results["192.0.2.81"])["zen.spamhaus.org"]
    assert rewritten.status == "error"
    assert "outside 127.0.0.0/8" in rewritten.meaning


def test_domains_and_ipv6(rbl: Rbldnsd) -> None:
    targets = ["bad.example.org", "links.example.net", "good.example.com", "2001:db8::66", "2001:db8::77"]
    results = run_dnsbl_lookups(_settings(rbl.nameserver), rep_settings(), ZONES, targets)

    assert _by_zone(results["bad.example.org"])["dbl.spamhaus.org"].status == "listed"
    surbl = _by_zone(results["links.example.net"])["multi.surbl.org"]
    assert surbl.status == "listed" and "MW" in surbl.meaning and "ABUSE" in surbl.meaning
    assert {r.status for r in results["good.example.com"]} == {"clean"}
    assert {r.zone for r in results["good.example.com"]} == {"dbl.spamhaus.org", "multi.surbl.org"}

    v6 = _by_zone(results["2001:db8::66"])
    assert set(v6) == {"zen.spamhaus.org"}  # SpamCop has no IPv6 zone
    assert v6["zen.spamhaus.org"].status == "listed" and v6["zen.spamhaus.org"].codes == ("127.0.0.3",)
    assert _by_zone(results["2001:db8::77"])["zen.spamhaus.org"].status == "clean"


def test_dqs_key_queries_the_dqs_zone_and_never_stores_the_key(rbl: Rbldnsd) -> None:
    results = run_dnsbl_lookups(
        _settings(rbl.nameserver),
        rep_settings(SPAMHAUS_DQS_KEY="testkey1"),
        ZONES[:1],
        ["192.0.2.68", "192.0.2.66"],
    )
    assert results["192.0.2.68"][0].status == "listed"  # only listed in the DQS zone
    assert results["192.0.2.66"][0].status == "clean"  # the public zone was not asked
    assert all("testkey1" not in str(r.as_dict()) for rs in results.values() for r in rs)


def test_a_silent_zone_is_unknown_and_does_not_hold_up_the_others(rbl: Rbldnsd) -> None:
    upstream = ("127.0.0.1", rbl.port)
    with DnsRouter({"bl.spamcop.net": None}, default=upstream) as router:
        results = run_dnsbl_lookups(
            _settings(router.nameserver), rep_settings(DNSBL_TIMEOUT=0.4), ZONES, ["192.0.2.66"]
        )
    by_zone = _by_zone(results["192.0.2.66"])
    assert by_zone["zen.spamhaus.org"].status == "listed"
    assert by_zone["bl.spamcop.net"].status == "unknown"  # never "clean"
    assert "not clean" in by_zone["bl.spamcop.net"].meaning


def test_total_deadline_marks_open_queries_unknown(rbl: Rbldnsd) -> None:
    with DnsRouter({"bl.spamcop.net": None}, default=("127.0.0.1", rbl.port)) as router:
        results = run_dnsbl_lookups(
            _settings(router.nameserver),
            rep_settings(DNSBL_TIMEOUT=5, DNSBL_DEADLINE=0.3),
            ZONES,
            ["192.0.2.66"],
        )
    spamcop = _by_zone(results["192.0.2.66"])["bl.spamcop.net"]
    assert spamcop.status == "unknown" and "deadline" in spamcop.meaning


def test_unknown_zone_name_is_refused_by_the_server_and_reported_as_error(rbl: Rbldnsd) -> None:
    zones = resolve_zone_names(["rbl.example.org"])  # rbldnsd does not serve it: REFUSED
    results = run_dnsbl_lookups(_settings(rbl.nameserver), rep_settings(), zones, ["192.0.2.66"])
    assert results["192.0.2.66"][0].status == "error"
    assert "REFUSED" in results["192.0.2.66"][0].meaning


def test_unanswering_nameserver_gives_unknown_for_every_zone() -> None:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:  # bound, never read: no answers
        sink.bind(("127.0.0.1", 0))
        port = sink.getsockname()[1]
        results = run_dnsbl_lookups(
            _settings(f"127.0.0.1:{port}"),
            rep_settings(DNSBL_TIMEOUT=0.3),
            ZONES,
            ["192.0.2.66", "bad.example.org"],
        )
    assert {r.status for rs in results.values() for r in rs} == {"unknown"}
