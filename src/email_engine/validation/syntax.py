"""Address syntax and normalisation (pure).

The rules are python-email-validator's (RFC 5321/5322 with SMTPUTF8 and IDNA 2008); a precompiled
fast path accepts the common plain-ASCII shape without calling it, because the library costs about
30 µs per address and lists run to millions. The fast path only ever *accepts* addresses that the
library accepts with the same normalisation (a test checks both on the whole address table);
anything unusual goes to the library, which also writes the error sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

__all__ = ["ParsedAddress", "SyntaxIssue", "parse_address"]

MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_LENGTH = 64

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FAST = re.compile(rf"({_ATEXT}+(?:\.{_ATEXT}+)*)@((?:{_LABEL}\.)+[A-Za-z]{{2,63}})")
# Names the library treats specially (reserved TLDs); always let it decide.
_SPECIAL_TLDS = frozenset({"arpa", "invalid", "local", "localhost", "onion", "test"})
# RFC 2142 mailbox names the library lower-cases (INFO@ → info@); the fast path does the same.
_CASE_INSENSITIVE = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


@dataclass(frozen=True, slots=True)
class ParsedAddress:
    """A syntactically valid address. ``domain`` is Unicode lower case, ``ascii_domain`` its A-label form."""

    original: str
    normalized: str
    local: str
    domain: str
    ascii_domain: str


@dataclass(frozen=True, slots=True)
class SyntaxIssue:
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
            if (
                len(local) <= MAX_LOCAL_LENGTH
                and "--" not in domain
                and domain.rpartition(".")[2] not in _SPECIAL_TLDS
            ):
                if local.lower() in _CASE_INSENSITIVE:
                    local = local.lower()
                return ParsedAddress(text, f"{local}@{domain}", local, domain, domain)
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
