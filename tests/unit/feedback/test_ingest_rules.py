"""Pure parts of ingestion: counting rules, buckets, providers, webhook field mapping, signatures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from email_engine.errors import InvalidInput
from email_engine.feedback.aggregate import bucket_deltas, counters_for, hour_of
from email_engine.feedback.providers import provider_for_domain
from email_engine.feedback.records import DeadLetterItem, IngestRecord, split_address
from email_engine.feedback.webhook import MalformedJson, batch_items, single_item
from email_engine.platform.signing import (
    SignatureProblem,
    sign,
    signed_headers,
    verify_signature,
)

NOW = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "bounce_type", "counters"),
    [
        ("d", None, ("sent", "delivered")),
        ("b", "hard", ("sent", "bounced", "hard")),
        ("b", "block", ("sent", "bounced", "block")),
        ("b", "soft", ("sent", "bounced", "soft")),
        ("b", None, ("sent", "bounced")),
        ("rb", "hard", ("bounced", "hard")),
        ("t", "soft", ("deferred",)),
        ("tq", None, ("deferred",)),
        ("f", None, ("complaints",)),
        ("r", None, ()),
        ("rs", None, ()),
    ],
)
def test_counting_rules(kind: str, bounce_type: str | None, counters: tuple[str, ...]) -> None:
    assert counters_for(kind, bounce_type) == counters


@dataclass(frozen=True)
class Item:
    type: str
    time_logged: datetime
    bounce_type: str | None
    category: str | None
    source_ip: str | None
    vmta: str | None
    sender_domain: str | None
    rcpt_domain: str
    provider: str


def test_buckets_per_hour_and_dimension() -> None:
    def item(kind: str, minute: int, bounce_type: str | None = None) -> Item:
        return Item(
            type=kind,
            time_logged=NOW.replace(minute=minute) if minute < 60 else NOW + timedelta(hours=1),
            bounce_type=bounce_type,
            category="bad-mailbox" if bounce_type else None,
            source_ip="192.0.2.1",
            vmta="v1",
            sender_domain=None,
            rcpt_domain="example.com",
            provider="other",
        )

    deltas = bucket_deltas([item("d", 1), item("b", 2, "hard"), item("d", 60), item("r", 3)])
    hour = hour_of(NOW)
    assert deltas[(hour, "all", "*")] == {"sent": 2, "delivered": 1, "bounced": 1, "hard": 1}
    assert deltas[(hour, "ip", "192.0.2.1")]["sent"] == 2
    assert deltas[(hour, "category", "bad-mailbox")] == {"bounced": 1}
    assert (hour, "sender_domain", "") not in deltas  # no sender: no bucket
    assert deltas[(hour + timedelta(hours=1), "all", "*")]["delivered"] == 1


@pytest.mark.parametrize(
    ("domain", "provider"),
    [
        ("gmail.com", "gmail"),
        ("GoogleMail.com.", "gmail"),
        ("hotmail.fr", "microsoft"),
        ("aol.com", "yahoo"),
        ("icloud.com", "apple"),
        ("web.de", "gmx"),
        ("t-online.de", "t-online"),
        ("wanadoo.fr", "orange"),
        ("comcast.net", "comcast"),
        ("example.com", "other"),
        ("", "other"),
        (None, "other"),
    ],
)
def test_provider_map(domain: str | None, provider: str) -> None:
    assert provider_for_domain(domain) == provider


def test_split_address() -> None:
    assert split_address(" Someone@Example.COM. ") == ("Someone", "example.com")
    assert split_address("a@b@example.org") == ("a@b", "example.org")
    assert split_address("no-at-sign") == ("no-at-sign", "")
    assert split_address(None) == ("", "")


def test_single_item_maps_reference_names_and_defaults() -> None:
    body = (
        b'{"email": "x@example.com", "reason": "smtp;550 5.1.1 unknown, \\"quoted\\"", "status": "5.1.1",'
        b' "source_ip": "192.0.2.5", "bounce_type": "soft"}'
    )
    record = single_item(body, default_type="b", now=NOW, stream="t")
    assert (record.type, record.rcpt, record.dsn_status, record.source_ip) == (
        "b",
        "x@example.com",
        "5.1.1",
        "192.0.2.5",
    )
    assert record.dsn_diag == '550 5.1.1 unknown, "quoted"'
    assert record.time_logged == NOW
    timed = single_item(
        b'{"rcpt": "x@example.com", "timeLogged": "2026-11-24 09:00:00-0500"}',
        default_type="d",
        now=NOW,
        stream="t",
    )
    again = single_item(
        b'{"timeLogged": "2026-11-24T14:00:00Z", "rcpt": "x@example.com"}',
        default_type="d",
        now=NOW + timedelta(hours=1),
        stream="t",
    )
    assert timed.key == again.key  # same instant, same content: a retry is a duplicate


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{", MalformedJson),
        (b"[]", InvalidInput),
        (b'{"rcpt": [1]}', InvalidInput),
        (b'{"domain": "example.com", "count": 3}', InvalidInput),
        (b'{"type": "d"}', InvalidInput),
    ],
)
def test_single_item_refuses_with_a_reason(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        single_item(body, default_type="d", now=NOW, stream="t")
    assert str(caught.value).endswith(".")


def test_batch_items_keeps_unicode_separators_inside_fields() -> None:
    body = 'type,timeLogged,rcpt,dsnDiag\r\nd,2026-11-24 10:00:00+0000,a@example.com,"line\u2028sep, ok"\r\nnope\r\n'
    items = list(batch_items(body.encode(), stream="t"))
    assert isinstance(items[0], IngestRecord) and "\u2028" in (items[0].dsn_diag or "")
    assert isinstance(items[1], DeadLetterItem) and items[1].line_number == 3


def test_signature_round_trip_and_refusals() -> None:
    body = b'{"events": []}'
    headers = signed_headers("s3cret-value", body, now=1_000_000)
    verify_signature(
        "s3cret-value",
        timestamp=headers["X-Timestamp"],
        signature=headers["X-Signature"],
        body=body,
        now=1_000_100,
    )
    assert headers["X-Signature"] == sign("s3cret-value", "1000000", body)
    for timestamp, signature, now in [
        ("1000000", headers["X-Signature"], 1_000_400),  # stale
        ("1000000", "0" * 64, 1_000_000),  # wrong
        ("abc", headers["X-Signature"], 1_000_000),  # not a number
        ("1000000", "ünïcode", 1_000_000),
        (None, headers["X-Signature"], 1_000_000),
    ]:
        with pytest.raises(SignatureProblem):
            verify_signature("s3cret-value", timestamp=timestamp, signature=signature, body=body, now=now)
