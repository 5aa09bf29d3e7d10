"""Python -> PowerMTA /regex/ and back: same matches, refusals with reasons."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.pmta_regex import from_pmta_regex, to_pmta_regex


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (re.compile(r"5\.1\.1"), r"/5\.1\.1/"),
        (re.compile(r"user unknown", re.IGNORECASE), r"/(?i)user unknown/"),
        (re.compile(r"^a.b$", re.MULTILINE | re.DOTALL), r"/(?ms)^a.b$/"),
        (re.compile(r"http://x/y"), r"/http:\/\/x\/y/"),
        (re.compile(r"a#b"), r"/a\x23b/"),
        (re.compile(r"(?P<code>\d+)"), r"/(?<code>\d+)/"),
        (re.compile(r"end\Z"), r"/end\z/"),
        (re.compile("ungültig"), r"/ung\x{00fc}ltig/"),
        (re.compile(r"\u00e9t\u00e9"), r"/\x{00e9}t\x{00e9}/"),
        (re.compile(r"[/#]"), r"/[\/\x23]/"),
        (re.compile(r"a{,3}b"), r"/a{0,3}b/"),
        (re.compile(r"[{,3}]x"), r"/[{,3}]x/"),
        (re.compile(r"[]{,2}]"), r"/[]{,2}]/"),
        (re.compile(r"[^]a]{,2}"), r"/[^]a]{0,2}/"),
        (re.compile(r"[(?P<]"), r"/[(?P<]/"),
    ],
)
def test_conversion(pattern: re.Pattern[str], expected: str) -> None:
    assert to_pmta_regex(pattern) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        re.compile(r"a b  # comment", re.VERBOSE),
        re.compile(r"(?P<x>a)(?P=x)"),
        re.compile("line\nbreak"),
        re.compile(r"\N{LATIN SMALL LETTER E WITH ACUTE}"),
        re.compile(r"(?a:\w)"),
    ],
)
def test_inexpressible_patterns_are_refused(pattern: re.Pattern[str]) -> None:
    with pytest.raises(InvalidInput):
        to_pmta_regex(pattern)


SUBJECTS = [
    "550 5.1.1 <x@example.com>: user unknown",
    "see http://x/y#frag",
    "Adresse ungültig",
    "été end",
    "END",
    "a\nb",
    "{,3}",
    "nnnd",
]


@pytest.mark.parametrize(
    "source",
    [
        r"5\.1\.1",
        r"(?i)USER unknown",
        r"http://x/y#frag",
        r"ung.ltig",
        r"[/#]",
        r"(?P<w>\w+) end\Z",
        r"été|ETE",
        r"n{,2}d",
        r"[{,3}]+",
    ],
)
def test_round_trip_matches_the_same_subjects(source: str) -> None:
    original = re.compile(source)
    back = from_pmta_regex(to_pmta_regex(original))
    for subject in SUBJECTS:
        assert bool(original.search(subject)) == bool(back.search(subject)), (source, subject)


@given(
    st.text(
        alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"), max_size=30
    )
)
def test_any_literal_round_trips(text: str) -> None:
    original = re.compile(re.escape(text))
    rendered = to_pmta_regex(original)
    assert "\n" not in rendered and "#" not in rendered
    assert from_pmta_regex(rendered).search(text)
