from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.validation.rules import _within_one_edit, build_rules, local_prefix_kind, suggest_domain
from email_engine.validation.settings import ValidationSettings
from email_engine.validation.syntax import ParsedAddress, SyntaxIssue, parse_address

ADDRESS_ALPHABET = "abcXYZ09.-_+@'!" + "é"


@settings(max_examples=600, deadline=None)
@given(
    st.text(alphabet=ADDRESS_ALPHABET, min_size=1, max_size=20),
    st.text(alphabet="abcXYZ09.-üß例", min_size=1, max_size=20),
    st.sampled_from(["com", "org", "c", "co.uk", "test", "123", "x-y"]),
)
def test_fast_path_never_disagrees_with_the_library(local: str, domain: str, tld: str) -> None:
    address = f"{local}@{domain}.{tld}"
    parsed = parse_address(address)
    try:
        result = validate_email(address, check_deliverability=False, allow_smtputf8=True, strict=True)
    except EmailNotValidError:
        assert isinstance(parsed, SyntaxIssue)
        return
    assert isinstance(parsed, ParsedAddress)
    assert parsed.normalized == f"{result.local_part}@{result.domain.lower()}"


@pytest.mark.parametrize(
    ("local", "kind"),
    [
        ("noreply", "blocked"),
        ("No-Reply", "blocked"),
        ("noreply+tag", "blocked"),
        ("postmaster", "blocked"),
        ("info", "role"),
        ("info42", "role"),
        ("sales.emea", "role"),
        ("information", None),
        ("jane", None),
        ("", None),
        ('"info"', "role"),
    ],
)
def test_local_prefix_kind(local: str, kind: str | None) -> None:
    rules = build_rules(
        role_prefixes=["info", "sales"], blocked_prefixes=["noreply", "no-reply", "postmaster"]
    )
    assert local_prefix_kind(local, blocked=rules.blocked_prefixes, role=rules.role_prefixes) == kind


def test_operator_lists_change_the_disposable_set() -> None:
    default = build_rules(role_prefixes=[], blocked_prefixes=[])
    assert default.is_disposable("mailinator.com")
    assert default.is_disposable("a.b.mailinator.com")
    assert not default.is_disposable("example.com")
    custom = build_rules(
        role_prefixes=[],
        blocked_prefixes=[],
        disposable_allowlist=["Mailinator.com"],
        disposable_blocklist=["Example.org"],
    )
    assert not custom.is_disposable("mailinator.com")
    assert custom.is_disposable("example.org")
    assert custom.is_disposable("mx.example.org")


def test_settings_read_comma_lists_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VALIDATION_ROLE_PREFIXES", "Info, Sales ,")
    monkeypatch.setenv("VALIDATION_DISPOSABLE_ALLOWLIST", "mailinator.com")
    options = ValidationSettings(_env_file=None)  # type: ignore[call-arg]
    assert options.role_prefixes == ["info", "sales"]
    assert options.disposable_allowlist == ["mailinator.com"]
    assert "noreply" in options.blocked_prefixes


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("gmail", "gmial", True),
        ("gmail", "gmal", True),
        ("gmail", "gmaill", True),
        ("gmail", "gnail", True),
        ("gmail", "gmail", False),
        ("gmail", "mgial", False),
        ("hotmail", "hotmial", True),
        ("hotmail", "hotmale", False),
        ("abc", "abcde", False),
    ],
)
def test_within_one_edit(a: str, b: str, expected: bool) -> None:
    assert _within_one_edit(b, a) is expected


@pytest.mark.parametrize(
    "domain",
    [
        "example.com",
        "gmail.com",
        "mail.com",
        "ymail.com",
        "hotmail.dk",
        "yahoo.se",
        "gmail.net",
        "wahoo.com",
        "naver.com",
        "saver.com",
        "aol.de",
        "ail.com",
        "gmx.li",
        "live.com",
        "love.com",
        "outlook.jp",
        "me.com",
    ],
)
def test_no_false_typo_suggestions(domain: str) -> None:
    assert suggest_domain(domain) is None
