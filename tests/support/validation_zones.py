"""DNS zones for the validation tests: one domain per DNS situation the validator must tell apart.

Routable mail hosts use public addresses that are never contacted (nothing connects to them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from email_engine.validation.settings import ValidationSettings
from tests.support.dns_server import DnsServer

__all__ = ["ROUTABLE_IP", "ZONE", "validation_dns_server", "zone_validation_settings"]

ROUTABLE_IP = "93.184.215.14"
SOA = "ns.mail.test. hostmaster.mail.test. 1 3600 600 86400 120"

ZONE = f"""
mail.test.                300 IN SOA {SOA}
good.mail.test.           300 IN MX 10 mx1.good.mail.test.
good.mail.test.           300 IN MX 20 mx2.good.mail.test.
mx1.good.mail.test.       300 IN A {ROUTABLE_IP}
mx2.good.mail.test.       300 IN A {ROUTABLE_IP}
v6.mail.test.             300 IN MX 10 mx.v6.mail.test.
mx.v6.mail.test.          300 IN AAAA 2606:2800:21f:cb07:6820:80da:af6b:8b2c
nullmx.mail.test.         300 IN MX 0 .
afallback.mail.test.      300 IN A {ROUTABLE_IP}
nomail.mail.test.         300 IN TXT "no mail here"
privmx.mail.test.         300 IN MX 10 mx.privmx.mail.test.
mx.privmx.mail.test.      300 IN A 10.1.2.3
loopmx.mail.test.         300 IN MX 10 mx.loopmx.mail.test.
mx.loopmx.mail.test.      300 IN A 127.0.0.1
localmx.mail.test.        300 IN MX 10 localhost.
privfallback.mail.test.   300 IN A 192.168.1.20
danglingmx.mail.test.     300 IN MX 10 gone.mail.test.
mixedmx.mail.test.        300 IN MX 10 mx.privmx.mail.test.
mixedmx.mail.test.        300 IN MX 20 mx1.good.mail.test.
slowmx.mail.test.         300 IN MX 10 mx.slowhost.test.
shortttl.mail.test.       1 IN MX 10 mx1.good.mail.test.
gmial.com.                300 IN MX 10 mx1.good.mail.test.
gmal.com.                 300 IN MX 10 mx1.good.mail.test.
"""


def validation_dns_server() -> DnsServer:
    """A server answering ZONE; ``slow.test`` never answers and ``broken.test`` answers SERVFAIL."""
    server = DnsServer(ZONE)
    server.silent("slow.test")
    server.silent("slowhost.test")
    server.servfail("broken.test")
    return server


def zone_validation_settings(jobs_dir: Path, **overrides: Any) -> ValidationSettings:
    """Validation settings for tests against these zones: test domains allowed, short DNS timeouts, jobs kept in
    ``jobs_dir`` and started by the test, 10-row chunks."""
    values: dict[str, Any] = {
        "VALIDATION_ALLOW_TEST_DOMAINS": True,
        "VALIDATION_DNS_TIMEOUT": 0.3,
        "VALIDATION_DNS_DEADLINE": 5,
        "VALIDATION_JOBS_DIR": jobs_dir,
        "VALIDATION_JOBS_AUTOSTART": False,
        "VALIDATION_JOB_CHUNK_ROWS": 10,
    }
    values.update(overrides)
    return ValidationSettings(_env_file=None, **values)  # type: ignore[call-arg]
