"""The RE2 fast path (rule_set.RuleSet) gives exactly the decision of trying each rule with Python's ``re``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.feedback.bounce import bounce_subject, load_rules, parse_rules
from email_engine.feedback.rule_set import RuleSet, drop_lookarounds, first_match
from tests.unit.feedback.provider_responses import RESPONSES
from tests.unit.feedback.sisimai_corpus import corpus_rows
from tests.unit.feedback.test_bounce import TEXT_ALPHABET, VOCABULARY

SHIPPED = RuleSet(load_rules())


def _agree(rule_set: RuleSet, status: str, diag: str, domain: str = "") -> None:
    subject = bounce_subject(status, diag)
    fast = rule_set.first(subject, domain)
    reference = first_match(rule_set.rules, subject.lower(), domain)
    assert (fast and fast.name) == (reference and reference.name), subject


def test_the_shipped_rules_agree_on_the_corpus(shared_data: Path) -> None:
    rows = list(corpus_rows(shared_data / "bounce-corpus"))
    assert rows
    for row in rows:
        _agree(SHIPPED, row.status, row.diag)


@pytest.mark.parametrize(("provider", "status", "text", "expected"), RESPONSES)
def test_the_shipped_rules_agree_on_provider_responses(
    provider: str, status: str, text: str, expected: str
) -> None:
    _agree(SHIPPED, status, text)
    _agree(SHIPPED, status, f"smtp;{text}  ")


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(
        ["", "5.1.1", "5.7.1", "4.7.0", "5.7.606", "4.4.7", "5.0.0", "5.1.10", "5.1.1.1", "2.0.0"]
    ),
    st.lists(st.sampled_from(VOCABULARY) | st.text(alphabet=TEXT_ALPHABET, max_size=12), max_size=10).map(
        " ".join
    ),
)
def test_the_shipped_rules_agree_on_generated_text(status: str, diag: str) -> None:
    """Printable ASCII goes through RE2, anything else through ``re``: both must give the reference answer."""
    _agree(SHIPPED, status, diag)
    _agree(SHIPPED, status, diag.encode("ascii", "ignore").decode())


def test_a_long_subject_still_matches() -> None:
    """A set whose DFA ran out of memory would say "no match"; 2,000 characters of varied text must not."""
    filler = " ".join(f"word{i} x{i * 7}y" for i in range(110))
    assert SHIPPED.first(bounce_subject("5.0.0", f"{filler} blocked using zen.spamhaus.org")[:2048], "")
    _agree(SHIPPED, "5.0.0", f"{filler} banned sending ip")


def _rules(*texts: str) -> RuleSet:
    return RuleSet(
        parse_rules(
            {"rules": [{"name": f"r{i}", "category": "other", "text": t} for i, t in enumerate(texts)]}
        )
    )


def test_a_lookbehind_rule_is_only_a_candidate_until_re_confirms_it() -> None:
    rule_set = _rules("(?<!not )listed in", "listed")
    assert rule_set.first("5.0.0 ip listed in zen", "").name == "r0"
    assert rule_set.first("5.0.0 ip not listed in zen", "").name == "r1"


def test_a_rule_re2_cannot_compile_keeps_its_place_in_the_order() -> None:
    # A backreference is beyond RE2: the rule is tried with `re` before any later candidate.
    rule_set = _rules("x", r"(ab)\1", "abab", "ab")
    assert rule_set.first("5.0.0 abab", "").name == "r1"
    assert rule_set.first("5.0.0 ab", "").name == "r3"
    assert rule_set.first("5.0.0 zz", "") is None
    assert rule_set.first("5.0.0 x abab", "").name == "r0"


def test_non_ascii_subjects_use_re() -> None:
    rule_set = _rules(r"\bkonto\b")
    # `re` sees "é" as a word character, RE2 would not: the answer must be re's.
    assert rule_set.first("5.0.0 ékonto", "") is None
    assert rule_set.first("5.0.0 é konto", "").name == "r0"


def test_domain_limited_rules_are_honoured() -> None:
    rules = parse_rules(
        {
            "rules": [
                {"name": "gmail-only", "category": "bad-mailbox", "text": "gone", "domains": ["gmail.com"]},
                {"name": "any", "category": "other", "text": "gone"},
            ]
        }
    )
    rule_set = RuleSet(rules)
    assert rule_set.first("5.0.0 gone", "gmail.com").name == "gmail-only"
    assert rule_set.first("5.0.0 gone", "example.org").name == "any"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("abc", ("abc", False)),
        ("(?<!not )listed", ("listed", True)),
        ("a(?=b(c)d)e|f", ("ae|f", True)),
        (r"\(?!x\)", (r"\(?!x\)", False)),  # escaped parentheses are literals, not a group
        ("[(?!]x(?!y)", ("[(?!]x", True)),  # a class holds no group
        ("[]x(]a(?!y)", ("[]x(]a", True)),  # "]" first in a class is a literal
        ("x(?![(])z", ("xz", True)),
    ],
)
def test_drop_lookarounds(source: str, expected: tuple[str, bool]) -> None:
    assert drop_lookarounds(source) == expected
    re.compile(expected[0])
