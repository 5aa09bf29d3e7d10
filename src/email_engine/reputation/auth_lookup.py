"""DNS adapter for the authentication checks: fetch what the pure checks ask for, in rounds.

The first round asks every name a validation always needs, all at once; each later round asks
only what the checks still lack (the next include of an SPF chain, the address of a PTR name).
Every lookup goes through the resolver built from our settings (``DNS_NAMESERVERS``, timeouts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

import dns.asyncresolver
import dns.exception
import dns.name
import dns.rdatatype
import dns.resolver

from email_engine.reputation.auth_facts import DnsFacts, Fact, MissingFact, NeedFacts
from email_engine.reputation.compliance import (
    DomainReport,
    SendingIpFacts,
    initial_questions,
    validate_domain,
)
from email_engine.reputation.spf import SpfEvaluation, evaluate_spf

__all__ = ["evaluate_spf_live", "fetch_fact", "fetch_facts", "gather_and_validate", "resolve_facts"]

MAX_ROUNDS = 120  # SPF allows 10 lookups (each MX host may take a round); local answers are quick
T = TypeVar("T")


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
        qname = dns.name.from_text(name + ".")
    except dns.exception.DNSException as exc:
        # A name DNS cannot carry (empty or over-long label, unencodable text) has no records.
        return Fact("nxdomain", detail=f"not a valid DNS name ({type(exc).__name__})")
    try:
        answer = await asyncio.wait_for(
            resolver.resolve(qname, rdtype, search=False, raise_on_no_answer=False, lifetime=timeout),
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


async def resolve_facts(
    resolver: dns.asyncresolver.Resolver,
    decide: Callable[[DnsFacts], T],
    *,
    timeout: float,
    facts: DnsFacts | None = None,
    first: Iterable[tuple[str, str]] = (),
) -> T:
    """Run the pure ``decide`` until it stops asking for facts (MissingFact or NeedFacts), fetching each round."""
    facts = facts if facts is not None else DnsFacts()
    await fetch_facts(resolver, facts, first, timeout=timeout)
    for _round in range(MAX_ROUNDS):
        try:
            return decide(facts)
        except MissingFact as missing:
            await fetch_facts(resolver, facts, [(missing.name, missing.rdtype)], timeout=timeout)
        except NeedFacts as need:
            await fetch_facts(resolver, facts, need.missing, timeout=timeout)
    raise RuntimeError(f"DNS checks still needed lookups after {MAX_ROUNDS} rounds")


async def evaluate_spf_live(
    resolver: dns.asyncresolver.Resolver,
    ip: str,
    *,
    sender: str | None,
    helo: str | None,
    timeout: float,
    receiver: str | None = None,
) -> SpfEvaluation:
    """``check_host()`` for one client against live DNS."""
    return await resolve_facts(
        resolver,
        lambda facts: evaluate_spf(ip, facts, sender=sender, helo=helo, receiver=receiver),
        timeout=timeout,
    )


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
    return await resolve_facts(
        resolver,
        lambda known: validate_domain(
            domain, dkim_selector=dkim_selector, bounce_domain=bounce_domain, ips=ips, facts=known
        ),
        timeout=timeout,
        facts=facts,
        first=initial_questions(domain, dkim_selector=dkim_selector, bounce_domain=bounce_domain, ips=ips),
    )
