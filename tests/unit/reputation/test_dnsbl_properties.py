"""Properties of the DNSBL reader over generated input."""

from __future__ import annotations

import ipaddress

from hypothesis import example, given
from hypothesis import strategies as st

from email_engine.reputation.dnsbl import DnsAnswer, catalogue, read_dnsbl_answer, reverse_ip

ZONES = list(catalogue().values())


@given(st.ip_addresses(v=6))
def test_ipv6_nibbles_round_trip(address: ipaddress.IPv6Address) -> None:
    nibbles = reverse_ip(str(address)).split(".")
    assert len(nibbles) == 32
    assert ipaddress.IPv6Address(int("".join(reversed(nibbles)), 16)) == address


@given(st.ip_addresses(v=4))
def test_ipv4_reversal_round_trip(address: ipaddress.IPv4Address) -> None:
    assert ".".join(reversed(reverse_ip(str(address)).split("."))) == str(address)


def _refused(zone, code: str) -> bool:  # type: ignore[no-untyped-def]
    """DESIGN.md: 127.255.255.0/24 is an error for every zone unless the zone's own table gives the code a
    meaning; a zone's own error codes and range, and RFC 5782's 127.0.0.1, are errors too."""
    address = ipaddress.IPv4Address(code)
    if code in zone.errors or code == "127.0.0.1":
        return True
    if zone.error_range and address in ipaddress.IPv4Network(zone.error_range):
        return True
    return (
        address in ipaddress.IPv4Network("127.255.255.0/24")
        and code not in zone.codes
        and (code not in zone.clean_codes)
    )


@given(st.sampled_from(ZONES), st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=4))
@example(catalogue()["bl.spamcop.net"], ["127.255.255.0"])  # a zone without its own error range
def test_never_listed_when_any_answer_is_outside_loopback_or_an_error_code(zone, codes) -> None:  # type: ignore[no-untyped-def]
    result = read_dnsbl_answer(zone, DnsAnswer.listed(*codes))
    outside = any(ipaddress.IPv4Address(c) not in ipaddress.IPv4Network("127.0.0.0/8") for c in codes)
    refused = any(_refused(zone, c) for c in codes)
    if outside or refused:
        assert result.status == "error"
    else:
        assert result.status in ("listed", "clean")
    assert result.status != "unknown"
