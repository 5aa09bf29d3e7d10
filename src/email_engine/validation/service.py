"""Validate batches of addresses: parse, apply rules, consult suppression and DNS, decide.

The pure parts live in ``syntax``, ``rules`` and ``verdict``; this module wires them to the DNS
adapter, the facts cache and the suppression list, which callers pass in.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.errors import DependencyUnavailable
from email_engine.resolver import make_async_resolver
from email_engine.validation.cache import FactsCache, MemoryFactsCache, RedisFactsCache
from email_engine.validation.dns import DomainLookup
from email_engine.validation.rules import RuleSet, build_rules
from email_engine.validation.settings import ValidationSettings
from email_engine.validation.syntax import ParsedAddress, SyntaxIssue, parse_address
from email_engine.validation.verdict import (
    AddressVerdict,
    DomainFacts,
    Verdict,
    decide,
    rule_reasons,
    wants_dns,
)

__all__ = ["SuppressionCheck", "Validator", "session_suppression", "summarize", "validator_for"]

log = structlog.get_logger("email_engine.validation")

SuppressionCheck = Callable[[list[str]], set[str]]
_CONTEXT_KEY = "validation.validator"


@dataclass
class Validator:
    """Holds the rules, the DNS settings and the cache; safe to share between requests."""

    settings: Settings
    options: ValidationSettings
    rules: RuleSet
    cache: FactsCache

    @classmethod
    def create(cls, settings: Settings, options: ValidationSettings, *, cache: FactsCache) -> Validator:
        rules = build_rules(
            role_prefixes=options.role_prefixes,
            blocked_prefixes=options.blocked_prefixes,
            disposable_allowlist=options.disposable_allowlist,
            disposable_blocklist=options.disposable_blocklist,
        )
        return cls(settings=settings, options=options, rules=rules, cache=cache)

    async def domain_facts(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        """Cached facts where the cache has them, fresh lookups (deduplicated) for the rest."""
        wanted = list(dict.fromkeys(domains))
        if not wanted:
            return {}
        found = self.cache.get_many(wanted)
        missing = [domain for domain in wanted if domain not in found]
        if missing:
            timeout = self.options.dns_timeout or self.settings.dns_timeout
            lookup = DomainLookup(
                make_async_resolver(self.settings, timeout=timeout),
                concurrency=self.options.dns_concurrency,
                deadline=self.options.dns_deadline,
                max_ttl=self.options.cache_max_ttl,
            )
            fresh = await lookup.facts_for(missing)
            self.cache.put_many(fresh)
            found.update(fresh)
        return found

    async def validate(
        self, texts: Sequence[str], *, suppression: SuppressionCheck | None = None
    ) -> list[AddressVerdict]:
        """One verdict per input position, in input order (duplicates are looked up once).

        The cache and the suppression check are called directly (blocking): run this on a loop of
        its own, as :meth:`validate_sync` does, never on a server's shared event loop.
        """
        quoted, test_domains = self.options.allow_quoted_local, self.options.allow_test_domains
        parsed_by_text: dict[str, ParsedAddress | SyntaxIssue] = {}
        for text in texts:
            if text not in parsed_by_text:
                parsed_by_text[text] = parse_address(
                    text, allow_quoted_local=quoted, allow_test_domains=test_domains
                )
        addresses = [p for p in parsed_by_text.values() if isinstance(p, ParsedAddress)]
        suppressed: set[str] = set()
        if suppression is not None and addresses:
            found = suppression(list({a.normalized for a in addresses}))
            suppressed = {entry.lower() for entry in found}
        by_rules = {address.original: rule_reasons(address, self.rules) for address in addresses}
        dns_domains = [
            address.ascii_domain
            for address in addresses
            if address.normalized.lower() not in suppressed and wants_dns(by_rules[address.original][0])
        ]
        facts = await self.domain_facts(dns_domains)
        verdicts: dict[str, AddressVerdict] = {}
        for text, parsed in parsed_by_text.items():
            if isinstance(parsed, SyntaxIssue):
                verdicts[text] = decide(parsed, rules=self.rules, facts=None)
            else:
                verdicts[text] = decide(
                    parsed,
                    rules=self.rules,
                    facts=facts.get(parsed.ascii_domain),
                    suppressed=parsed.normalized.lower() in suppressed,
                    precomputed=by_rules[text],
                )
        return [verdicts[text] for text in texts]

    def validate_sync(
        self, texts: Sequence[str], *, suppression: SuppressionCheck | None = None
    ) -> list[AddressVerdict]:
        """Validate on a private event loop in the calling thread (API threadpool, CLI, jobs)."""
        return asyncio.run(self.validate(texts, suppression=suppression))


def make_cache(ctx: AppContext, options: ValidationSettings) -> FactsCache:
    if ctx.redis is not None:
        return RedisFactsCache(ctx.redis, prefix=ctx.settings.redis_key_prefix)
    return MemoryFactsCache(max_entries=options.cache_max_entries)


def validator_for(ctx: AppContext) -> Validator:
    """The process's validator (one per context, so the in-process cache outlives requests)."""
    options = ctx.settings.section(ValidationSettings)
    existing = ctx.extras.get(_CONTEXT_KEY)
    if isinstance(existing, Validator) and existing.options is options:
        return existing
    validator = Validator.create(ctx.settings, options, cache=make_cache(ctx, options))
    ctx.extras[_CONTEXT_KEY] = validator
    return validator


_warned_missing_suppression = False


def session_suppression(session: Session, settings: Settings) -> SuppressionCheck:
    """The feedback domain's suppression list, read through ``session`` (pseudonyms under the key
    of ``settings``).

    Imported at call time: validation works (without the check, logged once) on an install whose
    feedback package has no suppression module.
    """

    def check(addresses: list[str]) -> set[str]:
        global _warned_missing_suppression  # noqa: PLW0603 - warn once per process
        try:
            from email_engine.feedback.pseudonym import pseudonym_key
            from email_engine.feedback.suppression import suppressed_addresses
        except ModuleNotFoundError as exc:
            if exc.name != "email_engine.feedback.suppression":
                raise
            if not _warned_missing_suppression:
                log.warning(
                    "suppression_unavailable", detail="email_engine.feedback.suppression is not installed"
                )
                _warned_missing_suppression = True
            return set()
        try:
            return set(suppressed_addresses(session, addresses, key=pseudonym_key(settings)))
        except SQLAlchemyError as exc:
            session.rollback()
            raise DependencyUnavailable(
                "The suppression list could not be read from the database "
                f"({type(exc).__name__}); run `email-engine db upgrade`, check DATABASE_URL, "
                "or validate without the suppression check (--no-suppression)."
            ) from exc

    return check


def summarize(verdicts: Iterable[AddressVerdict]) -> dict[str, int]:
    counts = Counter(v.verdict for v in verdicts)
    summary = {verdict.value: counts.get(verdict, 0) for verdict in Verdict}
    summary["total"] = sum(counts.values())
    return summary
