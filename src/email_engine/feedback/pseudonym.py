"""Keyed pseudonyms of recipient addresses: ``#`` and 32 hex digits of HMAC-SHA256(PRIVACY_HASH_KEY, address).

The address is lower-cased first (as the suppression list stores it). Without the key a pseudonym
cannot be reversed by hashing candidate addresses; with it, the same address always gives the same
pseudonym, so a forgotten address stays on the suppression list as its pseudonym and is still
recognised when it comes back (``feedback.suppression.suppressed_addresses``). Keep the key secret
and stable: a new key makes earlier pseudonyms unrecognisable.
"""

from __future__ import annotations

import hashlib
import hmac

from email_engine.config import Settings
from email_engine.feedback.settings import PrivacyKeySettings

__all__ = ["PSEUDONYM_LENGTH", "is_pseudonym", "pseudonym", "pseudonym_key"]

PSEUDONYM_LENGTH = 33
_HEX = frozenset("0123456789abcdef")


def pseudonym_key(settings: Settings) -> bytes | None:
    """PRIVACY_HASH_KEY of these settings; None when unset."""
    key = settings.section(PrivacyKeySettings).privacy_hash_key
    return key.get_secret_value().encode() if key is not None else None


def pseudonym(address: str, key: bytes) -> str:
    digest = hmac.new(key, address.strip().lower().encode("utf-8", "backslashreplace"), hashlib.sha256)
    return "#" + digest.hexdigest()[:32]


def is_pseudonym(value: str) -> bool:
    return len(value) == PSEUDONYM_LENGTH and value[0] == "#" and set(value[1:]) <= _HEX
