"""The RFC 7208 SPF test suite (tests/data/spf/rfc7208-tests.yml) served from a real DNS server on loopback.

    for scenario in load_scenarios():
        with SuiteDnsServer(scenario.zonedata) as server:
            ... resolve through server.nameserver, compare with each test's expected result

The zone data is read as the suite's own driver reads it (pyspf test/testspf.py, ``getrdata``): a name with
SPF-type records and no TXT record also gets them as TXT (RFC 7208 dropped the SPF type; the suite writes
most policies as SPF and leaves the copy to drivers), ``TXT: NONE`` stops that copy, and a ``TIMEOUT`` entry
makes every query of a type not listed before it go unanswered (the resolver times out).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from dnslib import AAAA, CNAME, MX, PTR, QTYPE, RR, TXT, A, DNSLabel, DNSRecord

from tests.support.dns_server import DnsServer

__all__ = ["SUITE", "SuiteDnsServer", "SuiteScenario", "SuiteTest", "load_scenarios"]

SUITE = Path(__file__).resolve().parents[1] / "data" / "spf" / "rfc7208-tests.yml"
SPF_TYPE = 99


@dataclass(frozen=True, slots=True)
class SuiteTest:
    name: str
    scenario: str
    spec: str
    host: str
    mailfrom: str
    helo: str
    results: tuple[str, ...]
    explanation: str | None
    receiver: str | None


@dataclass(slots=True)
class SuiteScenario:
    description: str
    zonedata: dict[str, list[Any]]
    tests: list[SuiteTest] = field(default_factory=list)


def load_scenarios(path: Path = SUITE) -> list[SuiteScenario]:
    scenarios = []
    with path.open("rb") as handle:
        for document in yaml.safe_load_all(handle):
            scenario = SuiteScenario(document["description"], document.get("zonedata") or {})
            for name, spec in document["tests"].items():
                result = spec["result"]
                scenario.tests.append(
                    SuiteTest(
                        name=name,
                        scenario=scenario.description,
                        spec=str(spec.get("spec", "")),
                        host=str(spec["host"]),
                        mailfrom=str(spec.get("mailfrom", "")),
                        helo=str(spec.get("helo", "")),
                        results=tuple(result) if isinstance(result, list) else (result,),
                        explanation=spec.get("explanation"),
                        receiver=spec.get("receiver"),
                    )
                )
            scenarios.append(scenario)
    return scenarios


def _strings(value: Any) -> list[bytes]:
    parts = value if isinstance(value, list) else [value]
    return [str(part).encode("utf-8") for part in parts]


def _records(name: str, entries: list[Any]) -> tuple[list[RR], list[tuple[int, int]]]:
    """dnslib records of one name, and (rtype, position) of everything listed before a TIMEOUT."""
    label = DNSLabel(name)
    records: list[RR] = []
    seen: list[tuple[int, int]] = []
    has_txt = any(isinstance(entry, dict) and "TXT" in entry for entry in entries)
    copies: list[RR] = []
    for position, entry in enumerate(entries):
        if entry == "TIMEOUT":
            seen.append((-1, position))
            continue
        for rtype, value in entry.items():
            if value == "NONE" or value == ["NONE"]:
                continue
            if rtype in ("TXT", "SPF"):
                code = QTYPE.TXT if rtype == "TXT" else SPF_TYPE
                records.append(RR(label, code, rdata=TXT(_strings(value)), ttl=300))
                if rtype == "SPF" and not has_txt:
                    copies.append(RR(label, QTYPE.TXT, rdata=TXT(_strings(value)), ttl=300))
            elif rtype == "A":
                records.append(RR(label, QTYPE.A, rdata=A(value), ttl=300))
            elif rtype == "AAAA":
                records.append(RR(label, QTYPE.AAAA, rdata=AAAA(value), ttl=300))
            elif rtype == "MX":
                preference, host = value
                records.append(RR(label, QTYPE.MX, rdata=MX(host or ".", preference), ttl=300))
            elif rtype == "PTR":
                records.append(RR(label, QTYPE.PTR, rdata=PTR(value), ttl=300))
            elif rtype == "CNAME":
                records.append(RR(label, QTYPE.CNAME, rdata=CNAME(value), ttl=300))
            else:  # pragma: no cover - the suite uses only the types above
                raise ValueError(f"unsupported record type {rtype} in the SPF suite")
            seen.append((QTYPE.TXT if rtype == "SPF" and not has_txt else getattr(QTYPE, rtype, 0), position))
    return records + copies, seen


class SuiteDnsServer(DnsServer):
    """DnsServer with the suite's per-type TIMEOUT: an unanswered query makes the resolver time out."""

    def __init__(self, zonedata: dict[str, list[Any]]) -> None:
        super().__init__()
        self._timeouts: dict[str, set[int]] = {}
        for name, entries in zonedata.items():
            records, seen = _records(name, entries)
            self.records.extend(records)
            timeout_at = [position for rtype, position in seen if rtype == -1]
            if timeout_at:
                answered = {rtype for rtype, position in seen if rtype != -1 and position < timeout_at[0]}
                self._timeouts[str(DNSLabel(name)).lower()] = answered

    def answer(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        answered = self._timeouts.get(str(request.q.qname).lower())
        if answered is not None and request.q.qtype not in answered:
            return None
        return super().answer(data)


def _selftest() -> None:  # pragma: no cover - handy when debugging the zones by hand
    scenario = load_scenarios()[0]
    with SuiteDnsServer(scenario.zonedata) as server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(DNSRecord.question("example.net", "TXT").pack(), ("127.0.0.1", server.port))
        print(DNSRecord.parse(sock.recv(4096)))


if __name__ == "__main__":  # pragma: no cover
    _selftest()
