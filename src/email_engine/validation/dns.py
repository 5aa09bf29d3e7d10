"""DNS facts about mail domains (adapter over dnspython's async resolver).

One lookup per domain and per MX host within a batch, at most ``concurrency`` queries in flight,
each bounded by the resolver's per-query timeout and all of them by ``deadline``. What a domain
resolves to is turned into :class:`DomainFacts` with the TTL it may be cached for: the record TTLs
for answers, the SOA minimum for negative answers (RFC 2308), and never for timeouts or errors.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass

import dns.asyncresolver
import dns.exception
import dns.message
import dns.name
import dns.rdatatype
import dns.resolver

from email_engine.validation.verdict import DnsStatus, DomainFacts

__all__ = ["DomainLookup", "is_routable"]

MAX_MX_HOSTS = 5  # enough to find a routable one; more only multiplies queries


@dataclass(frozen=True, slots=True)
class _Result:
    kind: str  # answer | nodata | nxdomain | timeout | error
    values: tuple[str, ...] = ()
    ttl: int | None = None


def is_routable(address: str) -> bool:
    """A public unicast address an MTA could connect to."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return ip.is_global and not ip.is_multicast


def _negative_ttl(response: dns.message.Message | None) -> int | None:
    if response is None:
        return None
    for rrset in response.authority:
        if rrset.rdtype == dns.rdatatype.SOA:
            return int(min(rrset.ttl, *(rdata.minimum for rdata in rrset)))
    return None


def _min_ttl(*ttls: int | None) -> int | None:
    if any(ttl is None for ttl in ttls):
        return None
    return min(ttl for ttl in ttls if ttl is not None)


class DomainLookup:
    """Resolve mail facts for many domains; create one per batch (it deduplicates host lookups)."""

    def __init__(
        self,
        resolver: dns.asyncresolver.Resolver,
        *,
        concurrency: int,
        deadline: float,
        max_ttl: int,
    ) -> None:
        self.resolver = resolver
        self.deadline = deadline
        self.max_ttl = max_ttl
        self._slots = asyncio.Semaphore(concurrency)
        self._hosts: dict[str, asyncio.Task[_Result]] = {}

    async def facts_for(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        """Facts for each (A-label) domain; domains still unresolved at the deadline are timeouts."""
        unique = list(dict.fromkeys(domains))
        if not unique:
            return {}
        tasks = {domain: asyncio.ensure_future(self._domain_facts(domain)) for domain in unique}
        _done, pending = await asyncio.wait(tasks.values(), timeout=self.deadline)
        for task in pending:
            task.cancel()
        host_tasks = list(self._hosts.values())
        for host_task in host_tasks:
            host_task.cancel()
        results: dict[str, DomainFacts] = {}
        for domain, task in tasks.items():
            if task in pending:
                results[domain] = DomainFacts(DnsStatus.TIMEOUT)
            elif task.exception() is not None:
                results[domain] = DomainFacts(DnsStatus.ERROR)
            else:
                results[domain] = task.result()
        # Reap what was cancelled so no task outlives the batch.
        await asyncio.gather(*pending, *host_tasks, return_exceptions=True)
        return results

    # --- queries ------------------------------------------------------------------------------
    async def _query(self, name: str, rdtype: str) -> _Result:
        async with self._slots:
            try:
                answer = await self.resolver.resolve(
                    dns.name.from_text(name), rdtype, search=False, raise_on_no_answer=False
                )
            except dns.resolver.NXDOMAIN as exc:
                responses = list(exc.responses().values())  # type: ignore[no-untyped-call]
                return _Result("nxdomain", ttl=_negative_ttl(responses[0] if responses else None))
            except dns.exception.Timeout:
                return _Result("timeout")
            except (dns.exception.DNSException, OSError):
                return _Result("error")
        if answer.rrset is None:
            return _Result("nodata", ttl=_negative_ttl(answer.response))
        ttl = int(answer.rrset.ttl)
        if rdtype == "MX":
            ordered = sorted(answer.rrset, key=lambda r: r.preference)
            return _Result("answer", tuple(r.exchange.to_text().lower() for r in ordered), ttl)
        return _Result("answer", tuple(r.to_text() for r in answer.rrset), ttl)

    async def _addresses(self, host: str) -> _Result:
        """A records of a host, AAAA when it has no A."""
        result = await self._query(host, "A")
        if result.kind == "nodata":
            aaaa = await self._query(host, "AAAA")
            if aaaa.kind == "nodata":
                return _Result("nodata", ttl=_min_ttl(result.ttl, aaaa.ttl))
            return aaaa
        return result

    def _host_addresses(self, host: str) -> Awaitable[_Result]:
        task = self._hosts.get(host)
        if task is None:
            task = asyncio.ensure_future(self._addresses(host))
            self._hosts[host] = task
        return task

    # --- decisions ------------------------------------------------------------------------------
    def _facts(self, status: DnsStatus, mx: tuple[str, ...] = (), ttl: int | None = None) -> DomainFacts:
        cacheable = status not in (DnsStatus.TIMEOUT, DnsStatus.ERROR) and ttl is not None
        return DomainFacts(status, mx, min(ttl, self.max_ttl) if cacheable and ttl is not None else None)

    async def _domain_facts(self, domain: str) -> DomainFacts:
        mx = await self._query(domain + ".", "MX")
        if mx.kind == "timeout":
            return self._facts(DnsStatus.TIMEOUT)
        if mx.kind == "error":
            return self._facts(DnsStatus.ERROR)
        if mx.kind == "nxdomain":
            return self._facts(DnsStatus.NXDOMAIN, ttl=mx.ttl)
        if mx.kind == "nodata":
            # RFC 5321 5.1: no MX means the domain itself (its A/AAAA) is the mail host.
            fallback = await self._host_addresses(domain + ".")
            return self._from_hosts([(domain, fallback)], mx_ttl=mx.ttl, implicit=True)
        hosts = [host.rstrip(".") for host in mx.values if host not in (".", "")]
        if not hosts:
            return self._facts(DnsStatus.NULL_MX, ttl=mx.ttl)  # RFC 7505 "0 ."
        checked = hosts[:MAX_MX_HOSTS]
        lookups = [
            (host, _Result("answer", ("127.0.0.1",), mx.ttl) if _is_localhost(host) else None)
            for host in checked
        ]
        results = [
            (host, known if known is not None else await self._host_addresses(host + "."))
            for host, known in lookups
        ]
        return self._from_hosts(results, mx_ttl=mx.ttl, implicit=False, listed=tuple(hosts))

    def _from_hosts(
        self,
        results: list[tuple[str, _Result]],
        *,
        mx_ttl: int | None,
        implicit: bool,
        listed: tuple[str, ...] = (),
    ) -> DomainFacts:
        ttls = [mx_ttl, *(result.ttl for _host, result in results)]
        if any(
            result.kind == "answer" and any(is_routable(a) for a in result.values) for _h, result in results
        ):
            routable_ttls = [mx_ttl, *(r.ttl for _h, r in results if r.kind == "answer")]
            return self._facts(
                DnsStatus.OK, listed or tuple(h for h, _r in results), _min_ttl(*routable_ttls)
            )
        if any(result.kind == "timeout" for _h, result in results):
            return self._facts(DnsStatus.TIMEOUT)
        if any(result.kind == "error" for _h, result in results):
            return self._facts(DnsStatus.ERROR)
        if implicit and all(result.kind != "answer" for _h, result in results):
            return self._facts(DnsStatus.NO_MX, ttl=_min_ttl(*ttls))
        return self._facts(DnsStatus.UNROUTABLE, listed or tuple(h for h, _r in results), _min_ttl(*ttls))


def _is_localhost(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")
