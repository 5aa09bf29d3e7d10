"""Bounce classifier mechanics: rule loading, the single-subject contract, fallbacks and types."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.errors import ConfigurationError
from email_engine.feedback.bounce import (
    BLOCK_CATEGORIES,
    CATEGORIES,
    HARD_CATEGORIES,
    BounceType,
    bounce_subject,
    classify_bounce,
    load_rules,
    parse_rules,
    type_for,
)

# Matching lower-cases the subject; the few characters whose case-insensitive regex equivalence differs from
# str.lower() (long s, Kelvin and Angstrom signs, dotted/dotless i) are outside the promise, see docs/bounces.md.
TEXT_ALPHABET = st.characters(exclude_characters="\u017f\u212a\u212b\u0130\u0131\u0345\u1e9e")
VOCABULARY = [
    "user unknown",
    "mailbox full",
    "blocked using",
    "spamhaus",
    "access denied",
    "Recipient address rejected:",
    "550 5.1.1",
    "554 5.7.1",
    "banned sending IP",
    "[TSS04]",
    "does not exist",
    "DMARC",
    "relay access denied",
    "over quota",
    "disabled",
    "after MAIL FROM",
    "Host not found",
    "timed out",
    "RCP-P2",
    "OFR004_104",
]


def test_there_are_seventeen_categories_split_into_types() -> None:
    assert len(CATEGORIES) == 17
    assert {"bad-mailbox", "bad-domain", "inactive-mailbox"} == HARD_CATEGORIES
    assert {
        "spam-related",
        "policy-related",
        "content-related",
        "virus-related",
        "relaying-issues",
        "invalid-sender",
    } == BLOCK_CATEGORIES
    soft = set(CATEGORIES) - HARD_CATEGORIES - BLOCK_CATEGORIES
    assert {type_for(c, "5.0.0") for c in soft} == {BounceType.SOFT}


def test_shipped_rules_load_in_order_with_unique_names() -> None:
    rules = load_rules()
    assert len(rules) > 80
    assert len({r.name for r in rules}) == len(rules)
    assert all(r.category in CATEGORIES for r in rules)
    assert all(r.pattern.flags & re.IGNORECASE for r in rules)
    names = [r.name for r in rules]
    # Block texts must be tried before generic mailbox texts and the status table.
    assert names.index("spamhaus-and-dnsbl") < names.index("unknown-user") < names.index("rfc3463-x.1.1")


def test_subject_is_status_blank_diagnostic() -> None:
    assert bounce_subject("5.1.1", "550 5.1.1 user unknown") == "5.1.1 550 5.1.1 user unknown"
    assert bounce_subject(None, "text") == " text"
    assert bounce_subject(" 4.4.7 ", None) == "4.4.7 "


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["", "5.1.1", "5.7.1", "4.7.0", "5.2.2", "5.7.606", "4.4.7", "5.0.0", "5.4.1", "2.0.0"]),
    st.one_of(
        # Real rule vocabulary glued with arbitrary text, so that rules actually match and compete.
        st.lists(st.sampled_from(VOCABULARY) | st.text(alphabet=TEXT_ALPHABET, max_size=12), max_size=8).map(
            " ".join
        ),
        st.text(alphabet=TEXT_ALPHABET, max_size=120),
    ),
    st.sampled_from([None, "bad-mailbox", "spam-related", "nonsense"]),
)
def test_first_matching_pattern_over_the_subject_reproduces_the_decision(
    status: str, diag: str, bounce_cat: str | None
) -> None:
    """What PowerMTA's <bounce-category-patterns> would do with the rendered rules gives the same category."""
    result = classify_bounce(status, diag, bounce_cat=bounce_cat)
    subject = bounce_subject(status, diag)
    first = next((r for r in load_rules() if r.pattern.search(subject)), None)
    if first is None:
        assert result.rule in {f"powermta:{bounce_cat}", "default"}
    else:
        assert (result.category, result.rule) == (first.category, first.name)


def test_status_only_rules_are_anchored_on_the_status() -> None:
    # "5.1.1" inside the text of a 5.0.0 answer is not the status.
    assert classify_bounce("5.0.0", "see section 5.1.1 of our terms").rule != "rfc3463-x.1.1"
    assert classify_bounce("5.1.1", "").category == "bad-mailbox"
    assert classify_bounce("5.1.10", "").category == "bad-domain"  # not read as 5.1.1
    assert classify_bounce("5.7.13", "").category == "inactive-mailbox"


def test_powermta_bounce_cat_is_only_a_fallback() -> None:
    ms = "550 5.7.606 Access denied, banned sending IP [192.0.2.7]. To request removal from this list"
    result = classify_bounce("5.7.606", ms, bounce_cat="bad-mailbox")
    assert (result.category, result.type) == ("spam-related", BounceType.BLOCK)
    fallback = classify_bounce("5.0.0", "something nobody wrote a rule for", bounce_cat="Quota-Issues")
    assert (fallback.category, fallback.type, fallback.rule) == (
        "quota-issues",
        BounceType.SOFT,
        "powermta:quota-issues",
    )
    unknown = classify_bounce("5.0.0", "something nobody wrote a rule for", bounce_cat="made-up")
    assert (unknown.category, unknown.type, unknown.rule) == ("other", BounceType.SOFT, "default")


def test_a_transient_status_never_makes_a_hard_type() -> None:
    assert type_for("bad-mailbox", "4.1.1") is BounceType.SOFT
    assert type_for("bad-mailbox", "5.1.1") is BounceType.HARD
    assert type_for("spam-related", "4.7.0") is BounceType.BLOCK
    assert classify_bounce("4.2.1", "450 4.2.1 mailbox temporarily disabled").type is BounceType.SOFT


def test_custom_rules_replace_the_shipped_ones_and_may_be_domain_limited() -> None:
    rules = parse_rules(
        {
            "rules": [
                {
                    "name": "only-example",
                    "category": "policy-related",
                    "text": "nope",
                    "domains": ["example.org"],
                },
                {"name": "status", "category": "bad-domain", "status": r"5\.1\.2"},
            ]
        }
    )
    assert (
        classify_bounce("5.0.0", "nope", recipient_domain="Example.ORG.", rules=rules).rule == "only-example"
    )
    assert classify_bounce("5.0.0", "nope", recipient_domain="example.com", rules=rules).rule == "default"
    assert classify_bounce("5.1.2", "x", rules=rules).category == "bad-domain"
    assert classify_bounce("5.1.2", "x", rules=rules).type is BounceType.HARD


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "non-empty 'rules' list"),
        ({"rules": []}, "non-empty 'rules' list"),
        ({"rules": [{"name": "a", "category": "nope", "text": "x"}]}, "has category 'nope'"),
        ({"rules": [{"name": "a", "category": "other"}]}, "needs a status pattern"),
        ({"rules": [{"name": "a", "category": "other", "text": "("}]}, "invalid regular expression"),
        (
            {
                "rules": [
                    {"name": "a", "category": "other", "text": "x"},
                    {"name": "a", "category": "other", "text": "y"},
                ]
            },
            "repeated: a",
        ),
    ],
)
def test_broken_rule_documents_are_refused_with_a_reason(document: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        parse_rules(document)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.text(max_size=3000), st.text(max_size=30), st.text(max_size=30))
def test_any_input_classifies_without_raising(status: str, diag: str, cat: str, domain: str) -> None:
    result = classify_bounce(status, diag, bounce_cat=cat, recipient_domain=domain)
    assert result.category in CATEGORIES
    assert result.type is type_for(result.category, status)
