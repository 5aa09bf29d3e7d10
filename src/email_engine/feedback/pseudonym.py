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
from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG

__all__ = ["PSEUDONYM_LENGTH", "PrivacyKeySettings", "is_pseudonym", "pseudonym", "pseudonym_key"]

PSEUDONYM_LENGTH = 33
_HEX = frozenset("0123456789abcdef")


class PrivacyKeySettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    privacy_hash_key: SecretStr | None = Field(
        default=None, min_length=16, validation_alias="PRIVACY_HASH_KEY"
    )

    @field_validator("privacy_hash_key", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value


@lru_cache(maxsize=1)
def pseudonym_key() -> bytes | None:
    """PRIVACY_HASH_KEY from the environment (or .env), read once per process; None when unset."""
    key = PrivacyKeySettings().privacy_hash_key
    return key.get_secret_value().encode() if key is not None else None


def pseudonym(address: str, key: bytes) -> str:
    digest = hmac.new(key, address.strip().lower().encode("utf-8", "backslashreplace"), hashlib.sha256)
    return "#" + digest.hexdigest()[:32]


def is_pseudonym(value: str) -> bool:
    return len(value) == PSEUDONYM_LENGTH and value[0] == "#" and set(value[1:]) <= _HEX
