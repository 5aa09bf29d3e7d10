"""DNS adapter: ask many DNSBL zones at once, each query bounded, the whole batch under one deadline.

Turns dnspython outcomes into :class:`~email_engine.reputation.dnsbl.DnsAnswer` and leaves their
meaning to :func:`~email_engine.reputation.dnsbl.read_dnsbl_answer`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.resolver

from email_engine.reputation.dnsbl import DnsAnswer, Zone, ZoneResult, query_name, read_dnsbl_answer

__all__ = ["DnsblQuery", "ask_dnsbl", "check_targets", "plan_queries"]


@dataclass(frozen=True, slots=True)
class DnsblQuery:
    target: str
    zone: Zone
    qname: str


def plan_queries(targets: Sequence[str], zones: Sequence[Zone], *, dqs_key: str | None) -> list[DnsblQuery]:
    """Every (target, zone) pair that makes sense: IPs to IP lists, domains to domain lists."""
    queries = []
    for target in targets:
        for zone in zones:
            qname = query_name(zone, target, dqs_key=dqs_key)
            if qname is not None:
                queries.append(DnsblQuery(target, zone, qname))
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
) -> dict[str, list[ZoneResult]]:
    """Run all queries concurrently. Anything still open at ``deadline`` seconds is "unknown"."""
    limit = asyncio.Semaphore(concurrency)

    async def one(query: DnsblQuery) -> ZoneResult:
        async with limit:
            answer = await ask_dnsbl(resolver, query.qname, timeout=timeout)
        return read_dnsbl_answer(query.zone, answer)

    tasks = [asyncio.ensure_future(one(query)) for query in queries]
    results: dict[str, list[ZoneResult]] = {query.target: [] for query in queries}
    if tasks:
        _done, pending = await asyncio.wait(tasks, timeout=deadline)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    for query, task in zip(queries, tasks, strict=True):
        if task.done() and not task.cancelled():
            failure = task.exception()
            if failure is None:
                results[query.target].append(task.result())
            else:
                answer = DnsAnswer.error(f"lookup crashed: {type(failure).__name__}: {failure}")
                results[query.target].append(read_dnsbl_answer(query.zone, answer))
        else:
            results[query.target].append(
                read_dnsbl_answer(query.zone, DnsAnswer.timeout(f"total deadline of {deadline:g} s reached"))
            )
    return results
