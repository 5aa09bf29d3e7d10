"""Leader leases on the database and on Redis: exclusive, renewable, taken over after expiry."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from email_engine.context import AppContext
from email_engine.platform.leader_lease import DatabaseLease, Lease, RedisLease
from tests.support.databases import REDIS_URL


@pytest.fixture(params=["database", "redis"])
def make_lease(request: pytest.FixtureRequest, ctx: AppContext) -> Iterator[object]:
    client = redis.Redis.from_url(REDIS_URL)
    key = f"ee-test-lease-{uuid.uuid4().hex[:8]}"

    def make(identity: str, ttl: float) -> Lease:
        if request.param == "redis":
            return RedisLease(client, key=key, identity=identity, ttl_seconds=ttl)
        return DatabaseLease(ctx.session_factory, identity=identity, ttl_seconds=ttl)

    yield make
    client.delete(key)
    client.close()


def test_one_holder_at_a_time_and_takeover_after_expiry(make_lease: object) -> None:
    first = make_lease("worker-a", 1.0)  # type: ignore[operator]
    second = make_lease("worker-b", 1.0)  # type: ignore[operator]
    assert first.acquire_or_renew() is True
    assert second.acquire_or_renew() is False
    assert first.acquire_or_renew() is True  # renewal
    holder = second.current()
    assert holder is not None and holder.holder == "worker-a" and holder.live
    time.sleep(1.2)  # worker-a stops renewing (it "died")
    assert second.acquire_or_renew() is True
    assert first.acquire_or_renew() is False, "a late renewal must not steal the lease back"
    holder = first.current()
    assert holder is not None and holder.holder == "worker-b"


def test_release_hands_over_at_once_and_only_by_the_holder(make_lease: object) -> None:
    first = make_lease("worker-a", 30.0)  # type: ignore[operator]
    second = make_lease("worker-b", 30.0)  # type: ignore[operator]
    assert first.acquire_or_renew()
    second.release()  # not the holder: no effect
    assert not second.acquire_or_renew()
    first.release()
    assert second.acquire_or_renew()
    assert first.current().holder == "worker-b"  # type: ignore[union-attr]


def test_no_lease_yet(make_lease: object) -> None:
    assert make_lease("observer", 5.0).current() is None  # type: ignore[operator]
