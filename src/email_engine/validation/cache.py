"""Where DNS facts are kept between requests: Redis (shared by every worker) or this process.

Only facts with a TTL are stored (timeouts and errors never are), for exactly that TTL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import redis
import structlog

from email_engine.validation.verdict import DnsStatus, DomainFacts

__all__ = ["FactsCache", "MemoryFactsCache", "RedisFactsCache", "decode_facts", "encode_facts"]

log = structlog.get_logger("email_engine.validation.cache")


class FactsCache(Protocol):
    def get_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]: ...

    def put_many(self, facts: Mapping[str, DomainFacts]) -> None: ...


def encode_facts(facts: DomainFacts) -> str:
    return json.dumps({"s": facts.status.value, "m": list(facts.mx)}, separators=(",", ":"))


def decode_facts(raw: str | bytes) -> DomainFacts | None:
    try:
        data = json.loads(raw)
        return DomainFacts(DnsStatus(data["s"]), tuple(str(host) for host in data["m"]))
    except (ValueError, KeyError, TypeError):
        return None  # an entry from another version: treat as a miss


class MemoryFactsCache:
    """A bounded in-process cache; the oldest entries go first when it is full.

    ``clock`` gives seconds on a steady scale (tests move it to expire entries).
    """

    def __init__(self, *, max_entries: int = 200_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, DomainFacts]] = {}
        self._lock = threading.Lock()  # requests reach it from several threads

    def get_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        with self._lock:
            return self._get_many(domains)

    def _get_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        now = self._clock()
        found: dict[str, DomainFacts] = {}
        for domain in domains:
            entry = self._entries.get(domain)
            if entry is None:
                continue
            if entry[0] <= now:
                del self._entries[domain]
                continue
            found[domain] = entry[1]
        return found

    def put_many(self, facts: Mapping[str, DomainFacts]) -> None:
        with self._lock:
            self._put_many(facts)

    def _put_many(self, facts: Mapping[str, DomainFacts]) -> None:
        now = self._clock()
        for domain, fact in facts.items():
            if fact.ttl is None or fact.ttl <= 0:
                continue
            self._entries.pop(domain, None)
            while len(self._entries) >= self.max_entries:
                del self._entries[next(iter(self._entries))]
            self._entries[domain] = (now + fact.ttl, DomainFacts(fact.status, fact.mx))


class RedisFactsCache:
    """Facts as small JSON strings under ``<prefix>validation:dns:<domain>`` with the record TTL.

    Redis being down costs speed, not answers: reads then miss and writes are skipped (logged).
    """

    def __init__(self, client: redis.Redis, *, prefix: str) -> None:
        self.client = client
        self.prefix = f"{prefix}validation:dns:"

    def get_many(self, domains: Iterable[str]) -> dict[str, DomainFacts]:
        try:
            return self._get_many(list(domains))
        except redis.RedisError as exc:
            log.warning("dns_cache_unavailable", operation="read", error=type(exc).__name__)
            return {}

    def _get_many(self, names: list[str]) -> dict[str, DomainFacts]:
        found: dict[str, DomainFacts] = {}
        for start in range(0, len(names), 1000):
            chunk = names[start : start + 1000]
            values = self.client.mget([self.prefix + name for name in chunk])
            for name, raw in zip(chunk, values, strict=True):
                if raw is not None:
                    facts = decode_facts(raw)
                    if facts is not None:
                        found[name] = facts
        return found

    def put_many(self, facts: Mapping[str, DomainFacts]) -> None:
        pipe = self.client.pipeline(transaction=False)
        count = 0
        for domain, fact in facts.items():
            if fact.ttl is None or fact.ttl <= 0:
                continue
            pipe.set(self.prefix + domain, encode_facts(fact), ex=fact.ttl)
            count += 1
        if count:
            try:
                pipe.execute()
            except redis.RedisError as exc:
                log.warning("dns_cache_unavailable", operation="write", error=type(exc).__name__)
