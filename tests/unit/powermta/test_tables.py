"""Throttle and backoff tables: the shipped defaults and validation of operator edits."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.tables import default_tables, parse_tables, rate_per_hour


def _doc() -> dict[str, Any]:
    return copy.deepcopy(default_tables().model_dump(mode="json"))


def test_defaults_cover_the_guide() -> None:
    tables = default_tables()
    assert len(tables.providers) >= 15
    assert len(tables.backoff_patterns) >= 80
    assert tables.default.max_msg_rate == "500/h"
    assert (tables.backoff.max_msg_rate, tables.backoff.retry_after, tables.backoff.to_normal_after) == (
        "1/m",
        "20m",
        "1h",
    )
    assert tables.backoff.to_normal_after_delivery
    for item in tables.backoff_patterns:
        assert item.example and re.search(item.pattern, item.example)


@pytest.mark.parametrize(
    ("rate", "per_hour"), [("50/h", 50), ("1/m", 60), ("500/h", 500), ("10/2m", 300), ("0", 0), ("24/d", 1)]
)
def test_rate_per_hour(rate: str, per_hour: float) -> None:
    assert rate_per_hour(rate) == per_hour
    assert rate_per_hour("unlimited") == float("inf")


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
