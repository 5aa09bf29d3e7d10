"""Properties of the DNSBL reader over generated input."""

from __future__ import annotations

import ipaddress

from hypothesis import given
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


@given(st.sampled_from(ZONES), st.lists(st.ip_addresses(v=4).map(str), min_size=1, max_size=4))
def test_never_listed_when_any_answer_is_outside_loopback_or_an_error_code(zone, codes) -> None:  # type: ignore[no-untyped-def]
    result = read_dnsbl_answer(zone, DnsAnswer.listed(*codes))
    outside = any(ipaddress.IPv4Address(c) not in ipaddress.IPv4Network("127.0.0.0/8") for c in codes)
    refused = any(c.startswith("127.255.255.") and zone.error_range for c in codes) or any(
        c in zone.errors or c == "127.0.0.1" for c in codes
    )
    if outside or refused:
        assert result.status == "error"
    else:
        assert result.status in ("listed", "clean")
    assert result.status != "unknown"
