"""DNS adapter for the authentication checks: fetch what the pure checks ask for, in rounds.

The first round asks every name a validation always needs, all at once; each later round asks
only what the checks still lack (the next include of an SPF chain, the address of a PTR name).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import dns.asyncresolver
import dns.exception
import dns.rdatatype
import dns.resolver

from email_engine.reputation.dns_auth import (
    DnsFacts,
    DomainReport,
    Fact,
    NeedFacts,
    SendingIpFacts,
    initial_questions,
    validate_domain,
)

__all__ = ["fetch_fact", "fetch_facts", "gather_and_validate"]

MAX_ROUNDS = 120  # SPF allows 10 lookups (each MX host may take a round); local answers are quick


def _text(rdata: object, rdtype: str) -> str:
    if rdtype == "TXT":
        strings = getattr(rdata, "strings", ())
        return b"".join(strings).decode("utf-8", "replace")
    if rdtype == "MX":
        return f"{rdata.preference} {str(rdata.exchange).rstrip('.')}"  # type: ignore[attr-defined]
    if rdtype == "PTR":
        return str(rdata.target).rstrip(".").lower()  # type: ignore[attr-defined]
    return str(rdata)


async def fetch_fact(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, *, timeout: float) -> Fact:
    try:
        answer = await asyncio.wait_for(
            resolver.resolve(name + ".", rdtype, search=False, raise_on_no_answer=False, lifetime=timeout),
            timeout=timeout + 0.25,
        )
    except dns.resolver.NXDOMAIN:
        return Fact("nxdomain")
    except (dns.exception.Timeout, TimeoutError):
        return Fact("timeout", detail=f"no answer in {timeout:g} s")
    except dns.resolver.NoNameservers:
        return Fact("error", detail="the DNS server answered SERVFAIL or REFUSED")
    except dns.exception.DNSException as exc:
        return Fact("error", detail=str(exc) or type(exc).__name__)
    if answer.rrset is None:
        return Fact("nodata")
    # Only records of the asked type count (a CNAME in the answer is followed by the resolver).
    wanted = dns.rdatatype.from_text(rdtype)
    values = tuple(_text(rdata, rdtype) for rdata in answer.rrset if rdata.rdtype == wanted)
    return Fact("records", values) if values else Fact("nodata")


async def fetch_facts(
    resolver: dns.asyncresolver.Resolver,
    facts: DnsFacts,
    questions: Iterable[tuple[str, str]],
    *,
    timeout: float,
) -> None:
    todo = [(name, rdtype) for name, rdtype in dict.fromkeys(questions) if (name, rdtype) not in facts]
    answers = await asyncio.gather(
        *(fetch_fact(resolver, name, rdtype, timeout=timeout) for name, rdtype in todo)
    )
    for (name, rdtype), fact in zip(todo, answers, strict=True):
        facts.put(name, rdtype, fact)


async def gather_and_validate(
    resolver: dns.asyncresolver.Resolver,
    domain: str,
    *,
    dkim_selector: str | None,
    bounce_domain: str | None,
    ips: Sequence[SendingIpFacts],
    timeout: float,
    facts: DnsFacts | None = None,
) -> DomainReport:
    """Validate one domain, fetching DNS facts until the checks have all they need."""
    facts = facts if facts is not None else DnsFacts()
    first = initial_questions(domain, dkim_selector=dkim_selector, bounce_domain=bounce_domain, ips=ips)
    await fetch_facts(resolver, facts, first, timeout=timeout)
    for _round in range(MAX_ROUNDS):
        try:
            return validate_domain(
                domain, dkim_selector=dkim_selector, bounce_domain=bounce_domain, ips=ips, facts=facts
            )
        except NeedFacts as need:
            await fetch_facts(resolver, facts, need.missing, timeout=timeout)
    raise RuntimeError(f"DNS checks for {domain} still needed lookups after {MAX_ROUNDS} rounds")
