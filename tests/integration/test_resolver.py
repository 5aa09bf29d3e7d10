import asyncio

import dns.exception
import dns.resolver
import pytest

from email_engine.config import Settings
from email_engine.resolver import make_async_resolver, make_resolver
from tests.support.dns_server import DnsServer

ZONE = """
example.test. 300 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
example.test. 300 IN MX 10 mx.example.test.
mx.example.test. 300 IN A 192.0.2.10
"""


def test_resolver_uses_configured_nameserver_and_port() -> None:
    with DnsServer(ZONE) as server:
        settings = Settings(_env_file=None, DNS_NAMESERVERS=server.nameserver)  # type: ignore[call-arg]
        answer = make_resolver(settings).resolve("example.test", "MX")
        assert [str(r.exchange) for r in answer] == ["mx.example.test."]
        assert server.query_count("example.test", "MX") == 1


def test_async_resolver_times_out_on_silent_server() -> None:
    with DnsServer(ZONE) as server:
        server.silent("example.test")
        settings = Settings(_env_file=None, DNS_NAMESERVERS=server.nameserver)  # type: ignore[call-arg]
        resolver = make_async_resolver(settings, timeout=0.3)
        with pytest.raises(dns.exception.Timeout):
            asyncio.run(resolver.resolve("example.test", "MX"))


def test_nxdomain_is_reported() -> None:
    with DnsServer(ZONE) as server:
        settings = Settings(_env_file=None, DNS_NAMESERVERS=server.nameserver)  # type: ignore[call-arg]
        with pytest.raises(dns.resolver.NXDOMAIN):
            make_resolver(settings).resolve("missing.example.test", "A")
