"""DNS facts from a real authoritative server: every situation, caching, deduplication, timeouts."""

from __future__ import annotations

import pytest
import redis

from email_engine.context import AppContext
from email_engine.validation.cache import MemoryFactsCache, RedisFactsCache
from email_engine.validation.service import Validator, validator_for
from email_engine.validation.verdict import Reason, Verdict
from tests.support.databases import REDIS_URL
from tests.support.dns_server import DnsServer

CASES = [
    ("good.mail.test", Verdict.VALID, (), ("mx1.good.mail.test", "mx2.good.mail.test")),
    ("v6.mail.test", Verdict.VALID, (), ("mx.v6.mail.test",)),
    ("afallback.mail.test", Verdict.VALID, (), ("afallback.mail.test",)),
    ("mixedmx.mail.test", Verdict.VALID, (), ("mx.privmx.mail.test", "mx1.good.mail.test")),
    ("nullmx.mail.test", Verdict.INVALID, (Reason.NULL_MX,), ()),
    ("nomail.mail.test", Verdict.INVALID, (Reason.NO_MX,), ()),
    ("missing.mail.test", Verdict.INVALID, (Reason.NXDOMAIN,), ()),
    ("privmx.mail.test", Verdict.INVALID, (Reason.MX_UNROUTABLE,), ("mx.privmx.mail.test",)),
    ("loopmx.mail.test", Verdict.INVALID, (Reason.MX_UNROUTABLE,), ("mx.loopmx.mail.test",)),
    ("localmx.mail.test", Verdict.INVALID, (Reason.MX_UNROUTABLE,), ("localhost",)),
    ("privfallback.mail.test", Verdict.INVALID, (Reason.MX_UNROUTABLE,), ("privfallback.mail.test",)),
    ("danglingmx.mail.test", Verdict.INVALID, (Reason.MX_UNROUTABLE,), ("gone.mail.test",)),
    ("slow.test", Verdict.UNKNOWN, (Reason.DNS_TIMEOUT,), ()),
    ("slowmx.mail.test", Verdict.UNKNOWN, (Reason.DNS_TIMEOUT,), ()),
    ("broken.test", Verdict.UNKNOWN, (Reason.DNS_ERROR,), ()),
]


def _validator(ctx: AppContext) -> Validator:
    return validator_for(ctx)


@pytest.mark.parametrize(("domain", "verdict", "reasons", "mx"), CASES, ids=[c[0] for c in CASES])
def test_dns_situations(
    ctx: AppContext, domain: str, verdict: Verdict, reasons: tuple[Reason, ...], mx: tuple[str, ...]
) -> None:
    [result] = _validator(ctx).validate_sync([f"jane@{domain}"])
    assert (result.verdict, result.reasons, result.mx) == (verdict, reasons, mx)


def test_timeout_is_unknown_never_cached_and_retried(ctx: AppContext, dns_server: DnsServer) -> None:
    validator = _validator(ctx)
    first = validator.validate_sync(["jane@slow.test"])
    assert first[0].verdict is Verdict.UNKNOWN
    asked = dns_server.query_count("slow.test", "MX")
    assert asked >= 1
    second = validator.validate_sync(["jane@slow.test"])
    assert second[0].verdict is Verdict.UNKNOWN
    assert dns_server.query_count("slow.test", "MX") > asked  # asked again, not answered from a cache


def test_servfail_is_never_cached(ctx: AppContext, dns_server: DnsServer) -> None:
    validator = _validator(ctx)
    validator.validate_sync(["jane@broken.test"])
    asked = dns_server.query_count("broken.test", "MX")
    validator.validate_sync(["jane@broken.test"])
    assert dns_server.query_count("broken.test", "MX") > asked


def test_answers_and_negative_answers_are_cached_across_requests(
    ctx: AppContext, dns_server: DnsServer
) -> None:
    validator = _validator(ctx)
    addresses = [
        "jane@good.mail.test",
        "jane@missing.mail.test",
        "jane@nomail.mail.test",
        "jane@nullmx.mail.test",
    ]
    first = validator.validate_sync(addresses)
    counts = {d: dns_server.query_count(d.split("@")[1], "MX") for d in addresses}
    assert set(counts.values()) == {1}
    second = validator.validate_sync(addresses)
    assert second == first
    assert {d: dns_server.query_count(d.split("@")[1], "MX") for d in addresses} == counts


def test_one_lookup_per_domain_within_a_request(ctx: AppContext, dns_server: DnsServer) -> None:
    addresses = [f"user{i}@good.mail.test" for i in range(200)] + [
        f"user{i}@mixedmx.mail.test" for i in range(50)
    ]
    results = _validator(ctx).validate_sync(addresses)
    assert {r.verdict for r in results} == {Verdict.VALID}
    assert dns_server.query_count("good.mail.test", "MX") == 1
    assert dns_server.query_count("mixedmx.mail.test", "MX") == 1
    # Both domains use mx1.good.mail.test: its address is looked up once.
    assert dns_server.query_count("mx1.good.mail.test", "A") == 1


def test_cache_honours_the_record_ttl(ctx: AppContext, dns_server: DnsServer) -> None:
    """The MX record's TTL is 1 s: the answer is kept that long, then asked for again."""
    now = [1000.0]
    cache = MemoryFactsCache(clock=lambda: now[0])
    validator = Validator.create(ctx.settings, validator_for(ctx).options, cache=cache)
    validator.validate_sync(["jane@shortttl.mail.test"])
    assert dns_server.query_count("shortttl.mail.test", "MX") == 1
    now[0] += 0.9
    validator.validate_sync(["jane@shortttl.mail.test"])
    assert dns_server.query_count("shortttl.mail.test", "MX") == 1
    now[0] += 0.2
    validator.validate_sync(["jane@shortttl.mail.test"])
    assert dns_server.query_count("shortttl.mail.test", "MX") == 2


def test_redis_cache_is_shared_between_workers(ctx: AppContext, dns_server: DnsServer) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = ctx.settings.redis_key_prefix + "shared:"
    try:
        options = validator_for(ctx).options
        worker_a = Validator.create(ctx.settings, options, cache=RedisFactsCache(client, prefix=prefix))
        worker_b = Validator.create(ctx.settings, options, cache=RedisFactsCache(client, prefix=prefix))
        worker_a.validate_sync(["jane@good.mail.test", "jane@missing.mail.test"])
        assert client.ttl(f"{prefix}validation:dns:missing.mail.test") <= 120  # SOA minimum
        worker_a.validate_sync(["jane@shortttl.mail.test"])  # Redis forgets it with the record's TTL
        assert 0 < client.pttl(f"{prefix}validation:dns:shortttl.mail.test") <= 1000
        assert worker_b.validate_sync(["jane@good.mail.test"])[0].verdict is Verdict.VALID
        assert dns_server.query_count("good.mail.test", "MX") == 1
        worker_a.validate_sync(["jane@slow.test"])
        assert client.get(f"{prefix}validation:dns:slow.test") is None
    finally:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
        client.close()


@pytest.mark.timeout(4)  # a hang guard: the 5 s per-query timeout would exceed it without the deadline
def test_total_deadline_turns_slow_lookups_into_timeouts(ctx: AppContext) -> None:
    options = validator_for(ctx).options.model_copy(update={"dns_timeout": 5.0, "dns_deadline": 0.5})
    validator = Validator.create(ctx.settings, options, cache=MemoryFactsCache())
    results = validator.validate_sync(["jane@slow.test", "jane@good.mail.test"])
    assert [r.verdict for r in results] == [Verdict.UNKNOWN, Verdict.VALID]
    assert results[0].reasons == (Reason.DNS_TIMEOUT,)


def test_idn_domains_are_looked_up_by_a_label(ctx: AppContext, dns_server: DnsServer) -> None:
    dns_server.add("xn--bcher-kva.mail.test. 300 IN MX 10 mx1.good.mail.test.")
    [result] = _validator(ctx).validate_sync(["jörg@bücher.mail.test"])
    assert result.verdict is Verdict.VALID
    assert result.normalized == "jörg@bücher.mail.test"
    assert dns_server.query_count("xn--bcher-kva.mail.test", "MX") == 1


def test_redis_down_costs_speed_not_answers(ctx: AppContext, dns_server: DnsServer) -> None:
    # A real client pointed at a port where nothing listens (connection refused at once).
    dead = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.5, socket_timeout=0.5)
    options = validator_for(ctx).options
    validator = Validator.create(ctx.settings, options, cache=RedisFactsCache(dead, prefix="unused:"))
    results = validator.validate_sync(["jane@good.mail.test", "jane@nullmx.mail.test"])
    assert [r.verdict for r in results] == [Verdict.VALID, Verdict.INVALID]
    dead.close()
