"""Address syntax and normalisation (pure).

The rules are python-email-validator's (RFC 5321/5322 with SMTPUTF8 and IDNA 2008); a precompiled
fast path accepts the common plain-ASCII shape without calling it, because the library costs about
30 µs per address and lists run to millions. The fast path only ever *accepts* addresses that the
library accepts with the same normalisation (a test checks both on the whole address table);
anything unusual goes to the library, which also writes the error sentence.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES
from email_validator.syntax import validate_email_local_part

__all__ = ["ParsedAddress", "SyntaxIssue", "parse_address"]

MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FAST = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
_ASCII_LOCAL = re.compile(rf"{_ATEXT}+(?:\.{_ATEXT}+)*")
# Quoting, comments, display names, whitespace: only the library parses these.
_UNUSUAL_LOCAL = re.compile(r'["@<>()\[\]\\,;:\s]')
# Names the library treats specially (reserved TLDs); always let it decide.
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# RFC 2142 mailbox names the library lower-cases (INFO@ → info@); the fast path does the same.
_CASE_INSENSITIVE = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


class ParsedAddress(NamedTuple):
    """A syntactically valid address. ``domain`` is Unicode lower case, ``ascii_domain`` its A-label form.

    Named tuples, not frozen dataclasses: a million of them are built per file, ten times faster.
    """

    original: str
    normalized: str
    local: str
    domain: str
    ascii_domain: str


class SyntaxIssue(NamedTuple):
    original: str
    message: str


def parse_address(
    text: str, *, allow_quoted_local: bool = False, allow_test_domains: bool = False
) -> ParsedAddress | SyntaxIssue:
    """Parse ``text`` (surrounding whitespace ignored) into a normalised address or a syntax issue."""
    candidate = text.strip()
    if not candidate:
        return SyntaxIssue(text, "The address is empty.")
    if len(candidate) <= MAX_ADDRESS_LENGTH:
        match = _FAST.fullmatch(candidate)
        if match is not None:
            local, domain = match.group(1), match.group(2).lower()
            tld = domain.rpartition(".")[2]
            if (
                len(local) <= MAX_LOCAL_LENGTH
                and "--" not in domain
                and (tld not in _SPECIAL_TLDS or (tld == "test" and allow_test_domains))
            ):
                if local.lower() in _CASE_INSENSITIVE:
                    local = local.lower()
                return ParsedAddress(text, f"{local}@{domain}", local, domain, domain)
    local, at, domain_part = candidate.rpartition("@")
    if at and not candidate.isascii() and local and not _UNUSUAL_LOCAL.search(local):
        # An internationalised domain costs the IDNA library ~300 µs and depends only on the domain,
        # so it is computed once per domain; the local part goes through the library's own local-part
        # check. On any doubt the whole address goes to the library, which words the error.
        domain = _domain_forms(domain_part, allow_test_domains)
        normalized_local = _local_form(local) if domain is not None else None
        if (
            domain is not None
            and normalized_local is not None
            and len(normalized_local.encode()) + 1 + len(domain[1]) <= MAX_ADDRESS_LENGTH - 20
        ):
            return ParsedAddress(
                text, f"{normalized_local}@{domain[0]}", normalized_local, domain[0], domain[1]
            )
    return _parse_with_library(text, candidate, allow_quoted_local, allow_test_domains)


def _local_form(local: str) -> str | None:
    """The NFC local part if the library's local-part rules accept it, else None."""
    if local.isascii():
        if len(local) > MAX_LOCAL_LENGTH or not _ASCII_LOCAL.fullmatch(local):
            return None
        return local.lower() if local.lower() in _CASE_INSENSITIVE else local
    normalized = unicodedata.normalize("NFC", local)
    try:
        validate_email_local_part(local, allow_smtputf8=True, allow_empty_local=False, strict=True)
        info = validate_email_local_part(
            normalized, allow_smtputf8=True, allow_empty_local=False, strict=True
        )
    except EmailNotValidError:
        return None
    result: str = info["local_part"]
    return result


@lru_cache(maxsize=50_000)
def _domain_forms(domain_part: str, allow_test_domains: bool) -> tuple[str, str] | None:
    """(Unicode, A-label) forms of a domain the library accepts, or None."""
    parsed = _parse_with_library("a@" + domain_part, "a@" + domain_part, False, allow_test_domains)
    return (parsed.domain, parsed.ascii_domain) if isinstance(parsed, ParsedAddress) else None


def _parse_with_library(
    text: str, candidate: str, allow_quoted_local: bool, allow_test_domains: bool
) -> ParsedAddress | SyntaxIssue:
    try:
        result = validate_email(
            candidate,
            check_deliverability=False,
            allow_smtputf8=True,
            allow_quoted_local=allow_quoted_local,
            allow_domain_literal=False,
            allow_display_name=False,
            strict=True,  # RFC 5321's 64-octet local part: providers refuse longer ones
            test_environment=allow_test_domains,
        )
    except EmailNotValidError as exc:
        return SyntaxIssue(text, str(exc))
    except (UnicodeError, ValueError) as exc:  # hostile input the library does not anticipate
        return SyntaxIssue(text, f"The address cannot be read: {exc}.")
    domain = result.domain.lower()
    ascii_domain = (result.ascii_domain or domain).lower()
    return ParsedAddress(text, f"{result.local_part}@{domain}", result.local_part, domain, ascii_domain)
