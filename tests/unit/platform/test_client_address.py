import ipaddress

import pytest

from email_engine.platform.client_address import client_address
from email_engine.platform.request_guard import budget_for

TRUSTED = [ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")]


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("203.0.113.5", None, "203.0.113.5"),
        ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # untrusted peer: header ignored
        ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.1", "10.9.9.9, 198.51.100.1", "198.51.100.1"),  # rightmost untrusted hop wins
        ("127.0.0.1", "198.51.100.1, 127.0.0.1", "198.51.100.1"),
        ("127.0.0.1", "garbage", "127.0.0.1"),
        ("::1", "2001:db8::1", "2001:db8::1"),
        (None, "198.51.100.1", "unknown"),
    ],
)
def test_forwarded_for_is_trusted_only_from_proxies(
    peer: str | None, header: str | None, expected: str
) -> None:
    assert client_address(peer, header, TRUSTED) == expected


@pytest.mark.parametrize(
    ("method", "path", "budget"),
    [
        ("GET", "/health", "default"),
        ("GET", "/metrics", None),
        ("POST", "/api/v1/webhooks/pmta-bounce", "webhook"),
        ("POST", "/api/v1/validation/emails", "validation"),
        ("GET", "/api/v1/validation/jobs/1", "default"),
        ("GET", "/api/v1/ips", "default"),
    ],
)
def test_budget_for(method: str, path: str, budget: str | None) -> None:
    assert budget_for(method, path) == budget
