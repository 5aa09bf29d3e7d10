"""What may reach a rendered PowerMTA file: every name and value is checked here first.

PowerMTA's configuration has no quoting that survives everything (a newline ends a directive, ``#``
starts a comment, ``<``/``>`` open tags, ``$`` expands a macro), and the accounting pipes are run
by a shell. So the renderer refuses, rather than escapes, anything outside a small alphabet. The
inventory rejects such names too; this is the second wall.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final

from email_engine.errors import InvalidInput

__all__ = [
    "UnsafeValue",
    "check_address",
    "check_email",
    "check_hostname",
    "check_name",
    "check_path",
    "check_secret",
]


class UnsafeValue(InvalidInput):
    """A name or value that would change the meaning of the rendered configuration."""


_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_LABEL: Final = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_PATH: Final = re.compile(r"/[A-Za-z0-9._/+-]{0,4095}")
_SECRET: Final = re.compile(r"[A-Za-z0-9._~+=/@%^*!:,-]{1,256}")
_LOCAL_PART: Final = re.compile(r"[A-Za-z0-9._+-]{1,64}")


def _shown(value: str) -> str:
    return repr(value[:80])


def check_name(value: str, *, what: str) -> str:
    """A VMTA, pool or list name: letters, digits, dot, dash, underscore; at most 64 characters."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise UnsafeValue(
            f"{what} {_shown(value)} is not a safe PowerMTA name: use 1-64 letters, digits, '.', '-' "
            "or '_', starting with a letter or digit."
        )
    return value


def check_hostname(value: str, *, what: str, wildcard: bool = False) -> str:
    """A DNS name (optionally ``*.`` prefixed when ``wildcard``), lower-cased on return."""
    text = value[2:] if wildcard and isinstance(value, str) and value.startswith("*.") else value
    if not isinstance(text, str) or not text or len(text) > 253:
        raise UnsafeValue(f"{what} {_shown(str(value))} is not a host name.")
    labels = text.rstrip(".").split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise UnsafeValue(
            f"{what} {_shown(value)} is not a valid host name (letters, digits and '-' in dot-separated labels)."
        )
    return value.lower().rstrip(".")


def check_address(value: str, *, what: str) -> str:
    """An IPv4 or IPv6 address, returned in canonical form."""
    try:
        return str(ipaddress.ip_address(value))
    except (ValueError, TypeError) as exc:
        raise UnsafeValue(f"{what} {_shown(str(value))} is not an IP address.") from exc


def check_email(value: str, *, what: str) -> str:
    """An address like ``postmaster@example.com`` (no quoting, no comments)."""
    if not isinstance(value, str) or value.count("@") != 1:
        raise UnsafeValue(f"{what} {_shown(str(value))} is not a plain email address.")
    local, domain = value.split("@")
    if not _LOCAL_PART.fullmatch(local):
        raise UnsafeValue(f"{what} {_shown(value)} has an unsafe local part.")
    check_hostname(domain, what=what)
    return value


def check_path(value: str, *, what: str) -> str:
    """An absolute path without spaces or shell metacharacters."""
    if not isinstance(value, str) or not _PATH.fullmatch(value) or "/../" in value or value.endswith("/.."):
        raise UnsafeValue(
            f"{what} {_shown(str(value))} must be an absolute path of letters, digits and '._/+-' only."
        )
    return value


def check_secret(value: str, *, what: str) -> str:
    """A password written into the configuration: no spaces, quotes, '#', '$', '<', '>' or '\\'."""
    if not isinstance(value, str) or not _SECRET.fullmatch(value):
        raise UnsafeValue(
            f"{what} contains characters PowerMTA's configuration cannot hold safely; use letters, "
            "digits and ._~+=/@%^*!:,- only (e.g. `email-engine secrets rotate` output)."
        )
    return value
