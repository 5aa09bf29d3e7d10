"""Fixtures for the reputation tests: rbldnsd serving real-looking DNSBL zones, sending domains."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from email_engine.ips.models import SendingDomain
from email_engine.reputation.settings import ReputationSettings
from tests.support.rbldnsd import Rbldnsd

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)

# The zones are served under their real names: the engine's resolver is pointed at rbldnsd, so
# 1.2.0.192.zen.spamhaus.org never leaves the machine. TEST-NET addresses only.
# Every zone lists its RFC 5782 test point, as real lists do (127.0.0.2; dbltest.com; test.surbl.org).
ZEN = """
:127.0.0.2:Listed on SBL, see https://check.spamhaus.org/
127.0.0.2 :127.0.0.2:
192.0.2.66 :127.0.0.2:
192.0.2.67 :127.0.0.4:
192.0.2.80 :127.255.255.254:public resolver
192.0.2.81 :198.51.100.1:
"""
ZEN6 = """
2001:db8::66 :127.0.0.3:CSS
"""
DBL = """
bad.example.org :127.0.1.2:spam domain
dbltest.com :127.0.1.2:test point
"""
SPAMCOP = """
127.0.0.2 :127.0.0.2:
192.0.2.66 :127.0.0.2:
"""
DQS = """
127.0.0.2 :127.0.0.2:
192.0.2.68 :127.0.0.2:
"""
SURBL = """
links.example.net :127.0.0.80:
test.surbl.org :127.0.0.254:
"""


@pytest.fixture
def rbl(tmp_path: Path) -> Iterator[Rbldnsd]:
    zones: dict[str, Any] = {
        "zen.spamhaus.org": [("ip4set", ZEN), ("ip6trie", ZEN6)],
        "dbl.spamhaus.org": ("dnset", DBL),
        "bl.spamcop.net": ("ip4set", SPAMCOP),
        "testkey1.zen.dq.spamhaus.net": ("ip4set", DQS),
        "multi.surbl.org": ("dnset", SURBL),
    }
    with Rbldnsd(tmp_path, zones) as server:
        yield server


def rep_settings(**values: Any) -> ReputationSettings:
    base: dict[str, Any] = {"DNSBL_TIMEOUT": 0.5, "DNSBL_DEADLINE": 5}
    base.update(values)
    return ReputationSettings(_env_file=None, **base)  # type: ignore[call-arg]


def add_domain(session: Session, name: str, **values: Any) -> SendingDomain:
    domain = SendingDomain(name=name, created_at=NOW, updated_at=NOW, **values)
    session.add(domain)
    session.flush()
    return domain
