"""The address table: every verdict and every reason, syntax edge cases, IDN, rules and DNS facts.

Each row is (address, DNS status of its domain, expected verdict, expected reasons, suggestion).
"""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email

from email_engine.validation.rules import build_rules
from email_engine.validation.settings import DEFAULT_BLOCKED_PREFIXES, DEFAULT_ROLE_PREFIXES
from email_engine.validation.syntax import ParsedAddress, SyntaxIssue, parse_address
from email_engine.validation.verdict import DnsStatus, DomainFacts, Reason, Verdict, decide

RULES = build_rules(role_prefixes=DEFAULT_ROLE_PREFIXES, blocked_prefixes=DEFAULT_BLOCKED_PREFIXES)
OK = DnsStatus.OK
V, I, R, U = Verdict.VALID, Verdict.INVALID, Verdict.RISKY, Verdict.UNKNOWN  # noqa: E741 - short names keep the table readable

VALID = [
    "jane.doe@example.com",
    "john@example.org",
    "j@example.com",
    "first.middle.last@example.com",
    "jane+newsletter@example.com",
    "jane_doe@example.com",
    "jane-doe@example.com",
    "o'brien@example.com",
    "x{y}z@example.com",
    "a!b#c$d%e&f*g@example.com",
    "a/b=c?d^e`f|g~h@example.com",
    "123456@example.com",
    "user@mail.example.com",
    "user@deep.sub.domain.example.org",
    "user@ex-ample.com",
    "user@e-x-a-m-p-l-e.com",
    "user@example.co.uk",
    "user@example.museum",
    "user@example.photography",
    "user@123example.com",
    "user@1.example.com",
    "u@x.io",
    "jane.doe@EXAMPLE.COM",
    "Jane.Doe@Example.Org",
    "CAPS@EXAMPLE.ORG",
    "l" * 64 + "@example.com",
    "user@" + "d" * 63 + ".example.com",
    "jörg@bücher.example",
    "jane@bücher.example",
    "用户@例子.example",
    "χρήστης@παράδειγμα.example",
    "пользователь@пример.example",
    "ñandú@example.com",
    "user@xn--bcher-kva.example",
    "josé@example.org",
    "a.b.c.d.e.f@example.com",
    "x-y_z@example.org",
    "z@example.net",
    "user.name+tag+sorting@example.com",
    "informant@example.com",  # starts with "info" but is not a role mailbox
    "salesforce-fan@example.com",
    "supporter.of.things@example.org",
    "contactless@example.com",
    "adminton@example.com",
    "abuser-not@example.net",
    "noreplyguy@example.com",
    "postmasterful@example.com",
    "mailorder.fan@example.com",
    "helper@example.org",
    "jobsworth@example.com",
]

SYNTAX = [
    "",
    " ",
    "plainaddress",
    "@example.com",
    "jane@",
    "jane@@example.com",
    "jane@doe@example.com",
    ".jane@example.com",
    "jane.@example.com",
    "ja..ne@example.com",
    "jane@example..com",
    "jane@.example.com",
    "jane@example.com.",
    "jane@example.com..",
    "jane@-example.com",
    "jane@example-.com",
    "jane@exa_mple.com",
    "jane@example",
    "jane@localhost",
    "jane@example.123",
    "jane@123.123.123.123",
    "jane@[192.0.2.1]",
    "jane@[IPv6:2001:db8::1]",
    "jane doe@example.com",
    '"jane doe"@example.com',
    '"jane"@example.com',
    "Jane <jane@example.com>",
    "<jane@example.com>",
    "jane@example.com (Jane)",
    "jane(comment)@example.com",
    "jane@exam ple.com",
    "jane\t@example.com",
    "ja\nne@example.com",
    "jane@example.com\x00",
    "ja,ne@example.com",
    "ja;ne@example.com",
    "ja:ne@example.com",
    "ja[ne]@example.com",
    "ja\\ne@example.com",
    "l" * 65 + "@example.com",
    "user@" + "d" * 64 + ".example.com",
    "user@" + ".".join(["a" * 60] * 5) + ".com",
    "a" * 64 + "@" + ".".join(["b" * 60] * 3) + ".example.com",
    "jane@foo.test",
    "jane@foo.invalid",
    "jane@foo.local",
    "jane@foo.onion",
    "jane@xn--abc.com",
    "jane@ex--ample.com",
    "jane@-.com",
    "jane@.com",
    "jane@com",
    "jane.example.com",
    "jane@example,com",
    "jane@ex*ample.com",
    "jane@exa!mple.com",
    "jane@exämple.com.",
    "..@example.com",
    ".@example.com",
    "jane@example.com@",
    "mailto:jane@example.com",
    "jane@\u200bexample.com",
    "jane\u202e@example.com",
]

ROLE = [
    "info@example.com",
    "INFO@example.com",
    "Info@Example.org",
    "info+news@example.com",
    "info2@example.com",
    "info-de@example.com",
    "info.eu@example.com",
    "contact@example.com",
    "sales@example.com",
    "sales-eu@example.com",
    "support@example.org",
    "support.team@example.org",
    "admin@example.com",
    "office@example.com",
    "hello@example.com",
    "team@example.com",
    "marketing@example.com",
    "billing@example.com",
    "help@example.org",
    "hr@example.com",
    "jobs@example.com",
    "careers@example.com",
    "webmaster@example.com",
    "press@example.org",
    "newsletter@example.com",
]

BLOCKED = [
    "noreply@example.com",
    "no-reply@example.com",
    "no_reply@example.com",
    "NoReply@example.org",
    "noreply123@example.com",
    "noreply.billing@example.com",
    "no-reply+x@example.com",
    "donotreply@example.com",
    "do-not-reply@example.com",
    "mailer-daemon@example.com",
    "MAILER-DAEMON@example.org",
    "postmaster@example.com",
    "abuse@example.com",
    "abuse-reports@example.com",
    "bounce@example.com",
    "bounces@example.com",
    "hostmaster@example.com",
    "nobody@example.com",
]

DISPOSABLE = [
    "jane@mailinator.com",
    "jane@MAILINATOR.COM",
    "jane@sub.mailinator.com",
    "jane@guerrillamail.com",
    "jane@10minutemail.com",
    "jane@yopmail.com",
    "jane@trashmail.com",
    "jane@temp-mail.org",
    "jane@sharklasers.com",
    "jane@getnada.com",
    "jane@maildrop.cc",
    "jane@dispostable.com",
    "jane@throwawaymail.com",
    "jane@fakeinbox.com",
    "jane@mailnesia.com",
    "jane@mohmal.com",
    "jane@grr.la",
    "jane@discard.email",
    "jane@mailcatch.com",
    "jane@tempr.email",
]

TYPOS = [
    ("jane@yaho.com", "jane@yahoo.com"),
    ("jane@gmal.com", "jane@gmail.com"),
    ("jane@gamil.com", "jane@gmail.com"),
    ("jane@outlok.com", "jane@outlook.com"),
    ("jane@yahooo.com", "jane@yahoo.com"),
    ("jane@hotmal.com", "jane@hotmail.com"),
    ("jane@gmaill.com", "jane@gmail.com"),
    ("jane@gnail.com", "jane@gmail.com"),
    ("jane@gmail.con", "jane@gmail.com"),
    ("jane@gmail.co", "jane@gmail.com"),
    ("jane@hotmail.con", "jane@hotmail.com"),
    ("jane@yahoo.con", "jane@yahoo.com"),
    ("jane@iclod.com", "jane@icloud.com"),
    ("jane@outlook.con", "jane@outlook.com"),
    ("jane@comcast.ner", "jane@comcast.net"),
    ("jane@aol.cm", "jane@aol.com"),
    ("jane@gmai.com", "jane@gmail.com"),
    ("jane@gmali.com", "jane@gmail.com"),
    ("jane@hotamil.com", "jane@hotmail.com"),
    ("jane@yhoo.com", "jane@yahoo.com"),
    ("jane@icoud.com", "jane@icloud.com"),
    ("jane@outllok.com", "jane@outlook.com"),
    ("jane@protonmial.com", "jane@protonmail.com"),
    ("jane@hotmaik.com", "jane@hotmail.com"),
    ("jane@outlooj.com", "jane@outlook.com"),
    ("jane@hotmial.de", "jane@hotmail.de"),
    ("jane@hotmal.co.uk", "jane@hotmail.co.uk"),
    ("jane@gmail.cmo", "jane@gmail.com"),
    ("Jane.Doe@GMAL.COM", "Jane.Doe@gmail.com"),
]

# Real provider domains one edit from another provider: never "corrected".
NOT_TYPOS = [
    "jane@gmail.com",
    "jane@ymail.com",
    "jane@mail.com",
    "jane@email.com",
    "jane@hotmail.dk",
    "jane@hotmail.se",
    "jane@hotmail.be",
    "jane@yahoo.co.jp",
    "jane@live.nl",
    "jane@gmx.at",
    "jane@wahoo.com",
    "jane@never.com",
    "jane@aim.com",
    "jane@me.com",
    "jane@mac.com",
    "jane@outlook.fr",
]

DNS_CASES = [
    ("jane@example.com", DnsStatus.NXDOMAIN, I, (Reason.NXDOMAIN,)),
    ("jane@example.c", DnsStatus.NXDOMAIN, I, (Reason.NXDOMAIN,)),  # one-letter TLDs are syntax, not fact
    ("jane@example.com", DnsStatus.NO_MX, I, (Reason.NO_MX,)),
    ("jane@example.com", DnsStatus.NULL_MX, I, (Reason.NULL_MX,)),
    ("jane@example.com", DnsStatus.UNROUTABLE, I, (Reason.MX_UNROUTABLE,)),
    ("jane@example.com", DnsStatus.TIMEOUT, U, (Reason.DNS_TIMEOUT,)),
    ("jane@example.com", DnsStatus.ERROR, U, (Reason.DNS_ERROR,)),
    ("info@example.com", DnsStatus.TIMEOUT, U, (Reason.DNS_TIMEOUT, Reason.ROLE)),
    ("info@example.com", DnsStatus.ERROR, U, (Reason.DNS_ERROR, Reason.ROLE)),
    ("info@example.com", DnsStatus.NXDOMAIN, I, (Reason.NXDOMAIN, Reason.ROLE)),
    ("jane@yaho.com", DnsStatus.NXDOMAIN, I, (Reason.NXDOMAIN, Reason.TYPO)),
    ("jane@yaho.com", DnsStatus.TIMEOUT, U, (Reason.DNS_TIMEOUT, Reason.TYPO)),
    ("jane@bücher.example", DnsStatus.NULL_MX, I, (Reason.NULL_MX,)),
    # Invalid by the rules: DNS is not consulted, so its status does not show.
    ("noreply@example.com", DnsStatus.TIMEOUT, I, (Reason.BLOCKED_PREFIX,)),
    ("jane@mailinator.com", DnsStatus.ERROR, I, (Reason.DISPOSABLE,)),
    ("noreply@mailinator.com", OK, I, (Reason.BLOCKED_PREFIX, Reason.DISPOSABLE)),
    ("info@mailinator.com", OK, I, (Reason.DISPOSABLE, Reason.ROLE)),
]

TABLE: list[tuple[str, DnsStatus, Verdict, tuple[Reason, ...], str | None]] = [
    *((a, OK, V, (), None) for a in VALID),
    *((a, OK, I, (Reason.SYNTAX,), None) for a in SYNTAX),
    *((a, OK, R, (Reason.ROLE,), None) for a in ROLE),
    *((a, OK, I, (Reason.BLOCKED_PREFIX,), None) for a in BLOCKED),
    *((a, OK, I, (Reason.DISPOSABLE,), None) for a in DISPOSABLE),
    *((a, OK, R, (Reason.TYPO,), s) for a, s in TYPOS),
    *((a, OK, V, (), None) for a in NOT_TYPOS),
    *((a, st, v, r, None) for a, st, v, r in DNS_CASES if Reason.TYPO not in r),
    *((a, st, v, r, "jane@yahoo.com") for a, st, v, r in DNS_CASES if Reason.TYPO in r),
]


def test_table_is_big_and_covers_every_verdict_and_reason() -> None:
    assert len(TABLE) >= 200
    assert {row[2] for row in TABLE} == set(Verdict)
    reasons = {reason for row in TABLE for reason in row[3]}
    assert reasons | {Reason.SUPPRESSED} == set(Reason)  # suppressed: see test_suppressed_is_invalid


@pytest.mark.parametrize(("address", "status", "verdict", "reasons", "suggestion"), TABLE, ids=repr)
def test_verdict(
    address: str, status: DnsStatus, verdict: Verdict, reasons: tuple[Reason, ...], suggestion: str | None
) -> None:
    result = decide(parse_address(address), rules=RULES, facts=DomainFacts(status))
    assert (result.verdict, result.reasons, result.suggestion) == (verdict, reasons, suggestion)
    assert result.valid is (verdict is Verdict.VALID)
    assert result.email == address
    if Reason.SYNTAX in reasons:
        assert result.normalized is None
        assert result.detail  # a sentence saying what is wrong
    else:
        assert result.normalized is not None


def test_suppressed_is_invalid() -> None:
    result = decide(parse_address("jane@example.com"), rules=RULES, facts=None, suppressed=True)
    assert (result.verdict, result.reasons) == (Verdict.INVALID, (Reason.SUPPRESSED,))
    role = decide(parse_address("info@example.com"), rules=RULES, facts=DomainFacts(OK), suppressed=True)
    assert (role.verdict, role.reasons) == (Verdict.INVALID, (Reason.SUPPRESSED, Reason.ROLE))


def test_missing_dns_answer_is_never_valid() -> None:
    result = decide(parse_address("jane@example.com"), rules=RULES, facts=None)
    assert (result.verdict, result.reasons) == (Verdict.UNKNOWN, (Reason.DNS_ERROR,))


@pytest.mark.parametrize(
    ("address", "normalized"),
    [
        ("Jane.Doe@EXAMPLE.COM", "Jane.Doe@example.com"),
        ("  jane@example.com  ", "jane@example.com"),
        ("jörg@BÜCHER.example", "jörg@bücher.example"),
        ("jo\u0308rg@example.com", "j\u00f6rg@example.com"),  # NFC: o + combining diaeresis → ö
        ("jane@xn--bcher-kva.example", "jane@bücher.example"),
    ],
)
def test_normalisation(address: str, normalized: str) -> None:
    parsed = parse_address(address)
    assert isinstance(parsed, ParsedAddress)
    assert parsed.normalized == normalized


def test_idn_domain_keeps_its_a_label_for_dns() -> None:
    parsed = parse_address("jörg@bücher.example")
    assert isinstance(parsed, ParsedAddress)
    assert parsed.ascii_domain == "xn--bcher-kva.example"


def test_quoted_local_parts_and_test_domains_are_options() -> None:
    assert isinstance(parse_address('"jane doe"@example.com'), SyntaxIssue)
    quoted = parse_address('"jane doe"@example.com', allow_quoted_local=True)
    assert isinstance(quoted, ParsedAddress)
    assert quoted.normalized == '"jane doe"@example.com'
    assert isinstance(parse_address("jane@foo.test"), SyntaxIssue)
    assert isinstance(parse_address("jane@foo.test", allow_test_domains=True), ParsedAddress)


def _library(address: str) -> str | None:
    try:
        result = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=True, strict=True)
    except EmailNotValidError:
        return None
    return f"{result.local_part}@{result.domain.lower()}"


@pytest.mark.parametrize("address", [row[0] for row in TABLE], ids=repr)
def test_fast_path_agrees_with_email_validator(address: str) -> None:
    """The precompiled fast path must never accept what the library refuses, nor normalise differently."""
    parsed = parse_address(address)
    expected = _library(address)
    if expected is None:
        assert isinstance(parsed, SyntaxIssue)
    else:
        assert isinstance(parsed, ParsedAddress)
        assert parsed.normalized == expected
