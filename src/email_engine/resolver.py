"""The one place a dnspython resolver is built, so every lookup honours ``DNS_NAMESERVERS``.

Domains wrap it with their own semantics (validation caches MX facts, reputation reads DNSBL
answers); none of them builds a resolver by hand.
"""

from __future__ import annotations

import dns.asyncresolver
import dns.nameserver
import dns.resolver

from email_engine.config import Settings

__all__ = ["make_async_resolver", "make_resolver"]


def _configure(resolver: dns.resolver.BaseResolver, settings: Settings, timeout: float | None) -> None:
    if settings.nameservers:
        resolver.nameservers = [
            dns.nameserver.Do53Nameserver(host, port) for host, port in settings.nameservers
        ]
    per_query = timeout if timeout is not None else settings.dns_timeout
    resolver.timeout = per_query
    resolver.lifetime = per_query
    resolver.cache = None  # callers decide what may be cached (timeouts never are)


def make_async_resolver(settings: Settings, *, timeout: float | None = None) -> dns.asyncresolver.Resolver:
    """An asyncio resolver; ``timeout`` is the per-query lifetime in seconds."""
    resolver = dns.asyncresolver.Resolver(configure=not settings.nameservers)
    _configure(resolver, settings, timeout)
    return resolver


def make_resolver(settings: Settings, *, timeout: float | None = None) -> dns.resolver.Resolver:
    """A blocking resolver for CLI commands and jobs that are not async."""
    resolver = dns.resolver.Resolver(configure=not settings.nameservers)
    _configure(resolver, settings, timeout)
    return resolver
