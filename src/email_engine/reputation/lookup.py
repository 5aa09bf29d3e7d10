"""DNS adapter: ask many DNSBL zones at once, each query bounded, the whole batch under one deadline.

Turns dnspython outcomes into :class:`~email_engine.reputation.dnsbl.DnsAnswer` and leaves their
meaning to :func:`~email_engine.reputation.dnsbl.read_dnsbl_answer`. Every run also asks each zone for
its two RFC 5782 test points, in the same batch, and judges the zone once for the whole run
(:func:`~email_engine.reputation.dnsbl.read_zone_health`): a zone that cannot see makes its answers
"unknown", never "clean".
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from email_engine.reputation.dnsbl import (
    DnsAnswer,
    Zone,
    ZoneHealth,
    ZoneResult,
    query_name,
    read_dnsbl_answer,
    read_zone_health,
    trust_answer,
    zone_host,
    zone_test_points,
)

__all__ = ["DnsblQuery", "DnsblRun", "ask_dnsbl", "check_targets", "plan_queries"]


@dataclass(frozen=True, slots=True)
class DnsblQuery:
    target: str
    zone: Zone
    qname: str


#: The pseudo targets the test-point queries are planned under (no IP or domain can look like them).
_LISTED_POINT = "test-point:listed"
_UNLISTED_POINT = "test-point:unlisted"


@dataclass(frozen=True, slots=True)
class DnsblRun:
    """One run's answers per target, and the health of every zone asked (keyed by zone name)."""

    results: dict[str, list[ZoneResult]]
    zones: dict[str, ZoneHealth]


def plan_queries(targets: Sequence[str], zones: Sequence[Zone], *, dqs_key: str | None) -> list[DnsblQuery]:
    """Every (target, zone) pair that makes sense (IPs to IP lists, domains to domain lists), then the two
    test points of every zone those pairs use, as targets ``test-point:listed`` and ``test-point:unlisted``."""
    queries = []
    used: dict[str, Zone] = {}
    for target in targets:
        for zone in zones:
            qname = query_name(zone, target, dqs_key=dqs_key)
            if qname is not None:
                queries.append(DnsblQuery(target, zone, qname))
                used.setdefault(zone.name, zone)
    for zone in used.values():
        host = zone_host(zone, dqs_key=dqs_key)
        listed, unlisted = zone_test_points(zone)
        queries.append(DnsblQuery(_LISTED_POINT, zone, f"{listed}.{host}"))
        queries.append(DnsblQuery(_UNLISTED_POINT, zone, f"{unlisted}.{host}"))
    return queries


async def ask_dnsbl(resolver: dns.asyncresolver.Resolver, qname: str, *, timeout: float) -> DnsAnswer:
    """One A query; never raises for DNS trouble."""
    try:
        answer = await asyncio.wait_for(
            resolver.resolve(qname + ".", "A", search=False, raise_on_no_answer=False, lifetime=timeout),
            timeout=timeout + 0.25,  # a guard in case the resolver's own lifetime is not honoured
        )
    except dns.resolver.NXDOMAIN:
        return DnsAnswer.nxdomain()
    except (dns.exception.Timeout, TimeoutError):
        return DnsAnswer.timeout(f"{timeout:g} s")
    except dns.resolver.NoNameservers as exc:
        return DnsAnswer.error(_no_nameservers_reason(exc))
    except dns.exception.DNSException as exc:
        # The query name may carry the Spamhaus DQS key: never let it reach stored results or logs.
        return DnsAnswer.error((str(exc) or type(exc).__name__).replace(qname, "<query>"))
    if answer.rrset is None:
        return DnsAnswer.nxdomain()  # the name exists without an A record: not listed
    return DnsAnswer.listed(*(rdata.to_text() for rdata in answer.rrset))


def _no_nameservers_reason(exc: dns.resolver.NoNameservers) -> str:
    text = str(exc)
    for rcode in ("REFUSED", "SERVFAIL"):
        if rcode in text:
            return f"the DNS server answered {rcode} (is the list reachable from this resolver?)"
    return "no DNS server could answer"


async def check_targets(
    resolver: dns.asyncresolver.Resolver,
    queries: Sequence[DnsblQuery],
    *,
    timeout: float,
    deadline: float,
    concurrency: int = 50,
) -> DnsblRun:
    """Run all queries concurrently. Anything still open at ``deadline`` seconds is "unknown"."""
    limit = asyncio.Semaphore(concurrency)

    async def one(query: DnsblQuery) -> DnsAnswer:
        async with limit:
            return await ask_dnsbl(resolver, query.qname, timeout=timeout)

    tasks = [asyncio.ensure_future(one(query)) for query in queries]
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    answers: dict[tuple[str, str], DnsAnswer] = {}
    for query, task in zip(queries, tasks, strict=True):
        answers[(query.target, query.zone.name)] = _answer_of(task, deadline)
    zones = {query.zone.name: query.zone for query in queries}
    health = {
        name: read_zone_health(zone, answers[(_LISTED_POINT, name)], answers[(_UNLISTED_POINT, name)])
        for name, zone in zones.items()
    }
    results: dict[str, list[ZoneResult]] = {}
    for query in queries:
        if query.target in (_LISTED_POINT, _UNLISTED_POINT):
            continue
        result = read_dnsbl_answer(query.zone, answers[(query.target, query.zone.name)])
        results.setdefault(query.target, []).append(trust_answer(result, health[query.zone.name]))
    return DnsblRun(results, health)


def _answer_of(task: asyncio.Future[DnsAnswer], deadline: float) -> DnsAnswer:
    if not task.done() or task.cancelled():
        return DnsAnswer.timeout(f"total deadline of {deadline:g} s reached")
    failure = task.exception()
    if failure is not None:
        return DnsAnswer.error(f"lookup crashed: {type(failure).__name__}: {failure}")
    return task.result()
