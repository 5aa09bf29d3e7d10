"""204 real provider responses (tests/unit/feedback/provider_responses.py) → expected PowerMTA category and type."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from email_engine.feedback.bounce import BLOCK_CATEGORIES, BounceType, classify_bounce, load_rules
from email_engine.feedback.bounce_cli import classify_line
from tests.unit.feedback.provider_responses import RESPONSES, expected_type


def test_the_table_is_large_and_covers_the_providers() -> None:
    assert len(RESPONSES) >= 150
    providers = Counter(provider for provider, *_ in RESPONSES)
    for name in ("gmail", "microsoft", "yahoo", "apple", "gmx", "webde", "t-online", "orange", "free", "sfr"):
        assert providers[name] >= 1, name
    for name in ("comcast", "mimecast", "proofpoint", "barracuda", "spamhaus"):
        assert providers[name] >= 1, name
    assert len({diag for _, _, diag, _ in RESPONSES}) == len(RESPONSES)


@pytest.mark.parametrize(
    ("provider", "status", "diag", "category"),
    RESPONSES,
    ids=[f"{i:03d}-{row[0]}-{row[1]}" for i, row in enumerate(RESPONSES)],
)
def test_provider_response(provider: str, status: str, diag: str, category: str) -> None:
    expected = expected_type(status, diag, category)
    # As PowerMTA logs it: a "smtp;" diagnostic type and a dsnStatus with text; PowerMTA's own guess is wrong.
    result = classify_bounce(status, diag, bounce_cat="bad-mailbox")
    assert (result.category, result.type) == (category, expected), result.rule
    if category in BLOCK_CATEGORIES and not status.startswith("4"):
        assert result.type is BounceType.BLOCK
    if status.startswith("4"):
        assert result.type is not BounceType.HARD
    # The raw, uncached path and the CLI contract give the same answer.
    assert classify_bounce(status, diag, rules=load_rules()) == classify_bounce(status, diag)
    line = json.dumps(
        {"dsnStatus": f"{status} (text)", "dsnDiag": f"smtp;{diag}", "rcpt": "someone@example.org"}
    )
    out = classify_line(line.encode())
    assert (out["category"], out["type"]) == (category, str(expected))


def test_no_block_in_the_table_is_typed_hard() -> None:
    block_as_hard = [
        (provider, diag)
        for provider, status, diag, category in RESPONSES
        if category in BLOCK_CATEGORIES and classify_bounce(status, diag).type is BounceType.HARD
    ]
    assert block_as_hard == []
