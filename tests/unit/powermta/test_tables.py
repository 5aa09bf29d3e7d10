"""Throttle and backoff tables: the shipped defaults and validation of operator edits."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.tables import (
    BackoffPolicy,
    backoff_rate,
    default_tables,
    parse_tables,
    rate_per_hour,
)


def _doc() -> dict[str, Any]:
    return copy.deepcopy(default_tables().model_dump(mode="json"))


def test_defaults_cover_the_guide() -> None:
    tables = default_tables()
    assert len(tables.providers) >= 15
    assert len(tables.backoff_patterns) >= 80
    assert tables.default.max_msg_rate == "500/h"
    # Backoff is derived from each queue's rate (a fifth), not the guide's fixed 1/m (faster than 30/h)
    assert (tables.backoff.rate_fraction, tables.backoff.max_msg_rate) == (0.2, None)
    assert (tables.backoff.retry_after, tables.backoff.to_normal_after) == ("20m", "1h")
    assert tables.backoff.to_normal_after_delivery
    for item in tables.backoff_patterns:
        assert item.example and re.search(item.pattern, item.example)


@pytest.mark.parametrize(
    ("rate", "per_hour"), [("50/h", 50), ("1/m", 60), ("500/h", 500), ("10/2m", 300), ("0", 0), ("24/d", 1)]
)
def test_rate_per_hour(rate: str, per_hour: float) -> None:
    assert rate_per_hour(rate) == per_hour
    assert rate_per_hour("unlimited") == float("inf")


@pytest.mark.parametrize(
    ("normal", "fraction", "ceiling", "expected"),
    [
        ("50/h", 0.2, None, "10/h"),
        ("30/h", 0.2, None, "6/h"),
        ("500/h", 0.2, None, "100/h"),
        ("20/h", 0.25, None, "5/h"),
        ("3/h", 0.2, None, "1/2h"),  # 0.6/h: one every 2 hours (§3.3.10.33 allows N/Mh)
        ("1/h", 0.5, None, "1/2h"),
        ("1/d", 0.5, None, "1/48h"),
        ("83/10m", 0.2, None, "99/h"),  # 498/h * 0.2 = 99.6
        ("500/h", 0.2, "1/m", "60/h"),  # an old "1/m" document keeps working as a ceiling
        ("50/h", 0.2, "1/m", "10/h"),  # the ceiling never raises the derived rate
        ("0", 0.2, None, "0"),
    ],
)
def test_backoff_is_derived_and_strictly_slower(
    normal: str, fraction: float, ceiling: str | None, expected: str
) -> None:
    policy = BackoffPolicy(rate_fraction=fraction, max_msg_rate=ceiling)
    assert backoff_rate(normal, policy) == expected
    if normal != "0":
        assert rate_per_hour(expected) < rate_per_hour(normal)


def test_an_old_document_with_a_fixed_backoff_rate_still_loads() -> None:
    doc = _doc()
    doc["backoff"] = {"max_msg_rate": "1/m", "retry_after": "20m", "to_normal_after": "1h"}
    tables = parse_tables(doc)
    assert tables.backoff.max_msg_rate == "1/m" and tables.backoff.rate_fraction == 0.2


def _break(path: str, value: Any) -> dict[str, Any]:
    doc = _doc()
    target: Any = doc
    parts = path.split(".")
    for part in parts[:-1]:
        target = target[int(part)] if part.isdigit() else target[part]
    last = parts[-1]
    if last.isdigit():
        target[int(last)] = value
    else:
        target[last] = value
    return doc


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        ("default.max_msg_rate", "fast", "not a PowerMTA rate"),
        ("default.max_msg_rate", "50/h\ninclude /etc/passwd", "not a PowerMTA rate"),
        ("backoff.retry_after", "soon", "not a PowerMTA interval"),
        ("default.max_msg_rate", "unlimited", "backoff is derived from the rate"),
        ("providers.0.max_msg_rate", "unlimited", "backoff is derived from the rate"),
        ("backoff.rate_fraction", 1, "less than 1"),
        ("backoff.rate_fraction", 0, "greater than 0"),
        ("backoff.max_msg_rate", "fast", "not a PowerMTA rate"),
        ("providers.0.name", "Gmail Inc", "provider name"),
        ("providers.0.domains", ["gmail.com", "evil domain.com"], "host name"),
        ("providers.0.domains", ["gmail.com", "x.com\n<source 0/0>"], "host name"),
        ("providers.1.domains", ["gmail.com"], "listed under both"),
        ("providers.1.name", "gmail", "unique"),
        ("providers.0.mx", ["*.google.com", "mx;rm"], "host name"),
        ("providers.0.max_smtp_out", 0, "greater than or equal to 1"),
        ("backoff_patterns.0.pattern", "(unclosed", "not a valid regular expression"),
        ("backoff_patterns.0.pattern", ".*", "matches an empty reply"),
        ("backoff_patterns.0.pattern", "a\nb", "line break"),
        ("backoff_patterns.0.pattern", "never-in-the-example", "does not match its own example"),
        ("backoff_patterns.0.provider", "nobody", "not in the providers table"),
        ("backoff_patterns.1", {"provider": "gmail", "pattern": "4\\.7\\.28"}, "repeated"),
        ("version", 2, "less than or equal to 1"),
        ("surprise", True, "Extra inputs are not permitted"),
    ],
)
def test_bad_documents_are_refused_with_a_reason(path: str, value: Any, message: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(message)):
        parse_tables(_break(path, value))


@pytest.mark.parametrize("document", [None, [], "text", 42, {"providers": "x"}, {}])
def test_malformed_documents(document: Any) -> None:
    with pytest.raises(InvalidInput):
        parse_tables(document)


def test_an_edited_document_round_trips() -> None:
    doc = _doc()
    doc["providers"][0]["max_msg_rate"] = "40/h"
    assert parse_tables(doc).providers[0].max_msg_rate == "40/h"
