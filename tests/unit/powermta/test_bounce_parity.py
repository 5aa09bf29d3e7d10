"""PowerMTA's first-match evaluation of the rendered <bounce-category-patterns> agrees with the engine.

The patterns are rendered from ``email_engine.feedback.bounce.load_rules()``, parsed back from the
rendered text, and applied the way PowerMTA applies them (first match over the subject, else
"other"). The engine's ``classify_bounce`` (without PowerMTA's own bounceCat) must give the same
category on every row of the shared corpus, on the classifier's corpus table, on real provider
replies and on generated input.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.errors import InvalidInput
from email_engine.feedback.bounce import BounceRule, bounce_subject, classify_bounce, load_rules
from email_engine.integrations.powermta.bounce_patterns import (
    CategoryPattern,
    evaluate,
    parse_bounce_patterns,
    render_bounce_patterns,
)
from email_engine.integrations.powermta.tables import default_tables
from tests.unit.feedback.sisimai_corpus import corpus_rows, real_status


@lru_cache(maxsize=1)
def _rendered_patterns() -> list[CategoryPattern]:
    return parse_bounce_patterns(render_bounce_patterns(load_rules()))


@pytest.fixture(scope="module")
def patterns() -> list[CategoryPattern]:
    parsed = _rendered_patterns()
    assert len(parsed) == len(load_rules())
    return parsed


def _agree(patterns: list[CategoryPattern], status: str, diag: str) -> tuple[str, str]:
    return evaluate(patterns, bounce_subject(status, diag)), classify_bounce(status, diag).category


def test_every_corpus_row_gets_the_same_category(shared_data: Path, patterns: list[CategoryPattern]) -> None:
    rows = 0
    mismatches = []
    with (shared_data / "bounce-corpus" / "expected.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            diag = row["diagnosticcode"] or ""
            for status in {row["deliverystatus"] or "", real_status(row["deliverystatus"] or "")}:
                rows += 1
                pmta, engine = _agree(patterns, status, diag)
                if pmta != engine:
                    mismatches.append((row["file"], status, diag[:80], pmta, engine))
    assert rows >= 629
    assert mismatches == []


def test_the_classifier_corpus_table_agrees(shared_data: Path, patterns: list[CategoryPattern]) -> None:
    rows = list(corpus_rows(shared_data / "bounce-corpus"))
    assert rows
    disagreements = [row.file for row in rows if len(set(_agree(patterns, row.status, row.diag))) != 1]
    assert disagreements == []


@pytest.mark.parametrize("item", default_tables().backoff_patterns, ids=lambda item: item.pattern[:30])
def test_real_provider_replies_agree(item: object, patterns: list[CategoryPattern]) -> None:
    example = str(item.example)  # type: ignore[attr-defined]
    match = re.match(r"(\d\.\d{1,3}\.\d{1,3})?", example.split(" ", 1)[-1])
    status = match.group(1) if match and match.group(1) else ("4.0.0" if example.startswith("4") else "5.0.0")
    pmta, engine = _agree(patterns, status, example)
    assert pmta == engine


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["", "5.1.1", "5.7.1", "4.7.0", "5.2.2", "5.7.606", "4.4.7", "5.0.0", "5.4.1", "2.0.0"]),
    st.text(max_size=120),
)
def test_generated_input_agrees(status: str, diag: str) -> None:
    pmta, engine = _agree(_rendered_patterns(), status, diag)
    assert pmta == engine


def test_domain_limited_rules_are_refused() -> None:
    rule = BounceRule(
        name="only-gmail", category="bad-mailbox", pattern=re.compile("x"), domains=frozenset({"gmail.com"})
    )
    with pytest.raises(InvalidInput, match="only-gmail"):
        render_bounce_patterns([rule])


def test_unknown_category_is_refused() -> None:
    rule = BounceRule(name="odd", category="weird", pattern=re.compile("x"))
    with pytest.raises(InvalidInput, match="not a PowerMTA bounce category"):
        render_bounce_patterns([rule])
