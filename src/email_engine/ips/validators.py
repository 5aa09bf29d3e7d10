"""Checks for every inventory field that later reaches a config file, a DNS query or a shell.

Each function returns the normalised value or raises ``ValueError`` with a sentence the user can
act on (pydantic turns it into a 422; the service turns it into ``InvalidInput``). Pure: no I/O.

Addresses: IPv4 or IPv6, normalised to the canonical text (``2001:DB8::0001`` -> ``2001:db8::1``).
Refused: IPv4-mapped IPv6 (``::ffff:192.0.2.1`` — register the IPv4 address itself), loopback,
unspecified, multicast, link-local, reserved ranges and IPv6 zone ids. Private ranges (RFC 1918,
ULA) are *accepted*: PowerMTA binds the address on the host (``smtp-source-host``), and on clouds
with 1:1 NAT that local address is private while the public one is mapped in front of it.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum

__all__ = [
    "MAX_NOTES",
    "MAX_REASON",
    "IpPurpose",
    "clean_notes",
    "clean_reason",
    "normalise_address",
    "normalise_dkim_selector",
    "normalise_domain",
    "normalise_hostname",
    "normalise_slug",
]

MAX_NOTES = 2000
MAX_REASON = 1000

_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
# Control characters other than tab and newline; NUL breaks PostgreSQL text columns.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class IpPurpose(StrEnum):
    TRANSACTIONAL = "transactional"
    MARKETING = "marketing"
    COLD = "cold"


def normalise_address(value: str) -> str:
    text = value
    if not text or len(text) > 45 or any(ch.isspace() for ch in text):
        raise ValueError(f"{value!r} is not an IP address (IPv4 like 192.0.2.10 or IPv6 like 2001:db8::10).")
    if "%" in text:
        raise ValueError("IPv6 zone ids (the %interface suffix) are not allowed in a sending address.")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ValueError(
            f"{value!r} is not an IP address (IPv4 like 192.0.2.10 or IPv6 like 2001:db8::10)."
        ) from None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        raise ValueError(
            f"{text} is an IPv4-mapped IPv6 address; register the IPv4 address {address.ipv4_mapped} itself."
        )
    problems = (
        (address.is_unspecified, "the unspecified address"),
        (address.is_loopback, "a loopback address"),
        (address.is_multicast, "a multicast address"),
        (address.is_link_local, "a link-local address"),
        (address.is_reserved, "in a reserved range"),
    )
    for flag, what in problems:
        if flag:
            raise ValueError(f"{text} is {what}; mail cannot be sent from it.")
    return str(address)


def _no_whitespace(value: str, what: str) -> None:
    # Names reach config files and shells: a space or newline anywhere, even at the end, is refused
    # rather than silently trimmed.
    if any(ch.isspace() for ch in value):
        raise ValueError(f"The {what} {value!r} contains spaces or line breaks; remove them.")


def _normalise_name(value: str, *, what: str, min_labels: int) -> str:
    _no_whitespace(value, what)
    text = value.lower()
    if text.endswith("."):
        text = text[:-1]
    example = "mail1.example.com"
    if not text:
        raise ValueError(f"The {what} is empty; give a DNS name like {example}.")
    if len(text) > 253:
        raise ValueError(f"The {what} is longer than 253 characters.")
    labels = text.split(".")
    bad = [label for label in labels if not _LABEL.fullmatch(label)]
    if bad:
        raise ValueError(
            f"The {what} {value!r} is not a valid DNS name: each dot-separated part must be 1-63 "
            f"letters, digits or inner hyphens (no spaces, quotes, braces or other symbols); "
            f"for example {example}."
        )
    if len(labels) < min_labels:
        raise ValueError(f"The {what} {value!r} must be a fully qualified name like {example}.")
    if labels[-1].isdigit():
        raise ValueError(f"The {what} {value!r} ends in a number; a DNS name needs a real top-level domain.")
    return text


def normalise_hostname(value: str) -> str:
    """A fully qualified host name (the IP's PTR/HELO name)."""
    return _normalise_name(value, what="hostname", min_labels=2)


def normalise_domain(value: str, *, what: str = "domain") -> str:
    """A registered or sub-domain name (sending, bounce or tracking domain)."""
    return _normalise_name(value, what=what, min_labels=2)


def normalise_dkim_selector(value: str) -> str:
    """A DKIM selector: one or more DNS labels (``s1``, ``mail.2026``), at most 63 characters."""
    _no_whitespace(value, "DKIM selector")
    text = value.lower()
    if not text or len(text) > 63 or not all(_LABEL.fullmatch(label) for label in text.split(".")):
        raise ValueError(
            f"The DKIM selector {value!r} is not valid: use letters, digits and inner hyphens, "
            "optionally dot-separated, at most 63 characters (for example s2026)."
        )
    return text


def normalise_slug(value: str, *, what: str) -> str:
    """A VMTA or pool name: ``[a-z0-9-]+``, starting with a letter or digit, at most 64 characters."""
    _no_whitespace(value, what)
    text = value
    if not _SLUG.fullmatch(text):
        raise ValueError(
            f"The {what} {value!r} is not valid: use lowercase letters, digits and hyphens only, "
            "starting with a letter or digit, at most 64 characters (for example vmta-mail1)."
        )
    return text


def vmta_name_for(hostname: str) -> str:
    """The VMTA name derived from a (normalised) hostname: ``vmta-`` and its labels joined by hyphens.

    ``mta1.example.com`` gives ``vmta-mta1-example-com``; cut to 64 characters when longer. Used when an IP is added without a VMTA name (the deployment guide's ``POST /api/v1/ips`` sends
    only address and hostname).
    """
    text = "vmta-" + re.sub(r"[^a-z0-9]+", "-", hostname.lower()).strip("-")
    return text[:64].rstrip("-")


def _clean_text(value: str, *, what: str, limit: int) -> str:
    text = value.strip()
    if len(text) > limit:
        raise ValueError(f"The {what} is longer than {limit} characters.")
    if _CONTROL.search(text):
        raise ValueError(f"The {what} contains control characters; use plain text.")
    return text


def clean_notes(value: str) -> str:
    return _clean_text(value, what="notes", limit=MAX_NOTES)


def clean_reason(value: str) -> str:
    text = _clean_text(value, what="reason", limit=MAX_REASON)
    if not text:
        raise ValueError("Give a reason for the transition; it is kept in the IP's history.")
    return text
