"""Throttle and backoff tables: data operators edit, validated before anything is rendered.

Defaults ship in ``data/throttles.yaml``; an operator's edited copy is stored in the database
(``/api/v1/pmta/throttles``) and replaces the defaults as a whole. Rates use PowerMTA's syntax
(``50/h``, ``1/m``, ``unlimited``), intervals too (``20m``, ``1h``, ``4d12h``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.pmta_regex import to_pmta_regex
from email_engine.integrations.powermta.safety import UnsafeValue, check_hostname, check_name

__all__ = [
    "BackoffPattern",
    "BackoffPolicy",
    "DefaultThrottle",
    "ProviderThrottle",
    "ThrottleTables",
    "default_tables",
    "parse_tables",
    "rate_per_hour",
]

_RATE: Final = re.compile(r"(?:unlimited|0|[1-9][0-9]{0,8}/(?:[1-9][0-9]{0,3})?(?:d|day|h|hr|m|min|s|sec))")
_INTERVAL: Final = re.compile(r"(?:never|(?:[1-9][0-9]{0,4}[dhms]){1,4})")
_PER_HOUR: Final = {"d": 1 / 24, "day": 1 / 24, "h": 1, "hr": 1, "m": 60, "min": 60, "s": 3600, "sec": 3600}

Rate = Annotated[str, Field(description="PowerMTA rate, e.g. 50/h, 1/m or unlimited", examples=["50/h"])]
Interval = Annotated[str, Field(description="PowerMTA interval, e.g. 20m, 1h, 4d12h", examples=["20m"])]


def rate_per_hour(rate: str) -> float:
    """Messages per hour a rate allows (``inf`` for unlimited)."""
    if rate == "unlimited":
        return float("inf")
    if rate == "0":
        return 0.0
    count, _, per = rate.partition("/")
    match = re.fullmatch(r"([0-9]*)([a-z]+)", per)
    assert match is not None
    divisor = int(match.group(1) or "1")
    return int(count) * _PER_HOUR[match.group(2)] / divisor


def _check_rate(value: str) -> str:
    if not _RATE.fullmatch(value):
        raise ValueError(f"{value!r} is not a PowerMTA rate (examples: 50/h, 1/m, 500/h, unlimited)")
    return value


def _check_interval(value: str) -> str:
    if not _INTERVAL.fullmatch(value):
        raise ValueError(f"{value!r} is not a PowerMTA interval (examples: 20m, 1h, 4d12h, never)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DefaultThrottle(_Strict):
    """``<domain *>``: what every destination gets unless a provider says otherwise."""

    max_msg_rate: Rate = "500/h"
    max_smtp_out: int = Field(default=10, ge=1, le=1000)
    max_msg_per_connection: int = Field(default=100, ge=1, le=100_000)
    retry_after: Interval = "10m"
    bounce_after: Interval = "24h"

    _rate = field_validator("max_msg_rate")(_check_rate)
    _intervals = field_validator("retry_after", "bounce_after")(_check_interval)


class BackoffPolicy(_Strict):
    """What a queue does after a throttling reply: slow to a trickle, retry, recover."""

    max_msg_rate: Rate = "1/m"
    retry_after: Interval = "20m"
    to_normal_after: Interval = "1h"
    to_normal_after_delivery: bool = True

    _rate = field_validator("max_msg_rate")(_check_rate)
    _intervals = field_validator("retry_after", "to_normal_after")(_check_interval)


class ProviderThrottle(_Strict):
    """One mailbox provider: its domains, the MX hosts that identify it, and its limits."""

    name: str = Field(description="Short name used for the macro and queue (letters, digits, '-').")
    label: str = Field(default="", max_length=80)
    max_msg_rate: Rate
    max_smtp_out: int = Field(default=2, ge=1, le=1000)
    max_msg_per_connection: int = Field(default=20, ge=1, le=100_000)
    domains: list[str] = Field(min_length=1, max_length=500)
    mx: list[str] = Field(default_factory=list, max_length=100, description="MX host names, '*.' allowed.")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,30}", value):
            raise ValueError("provider name must be 1-31 lower-case letters, digits or '-'")
        return value

    @field_validator("label")
    @classmethod
    def _label(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9 ,./&()+-]*", value):
            raise ValueError("label may hold letters, digits, spaces and ,./&()+- only")
        return value

    _rate = field_validator("max_msg_rate")(_check_rate)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        try:
            return [check_hostname(item, what="provider domain") for item in value]
        except UnsafeValue as exc:
            raise ValueError(exc.detail) from exc

    @field_validator("mx")
    @classmethod
    def _mx(cls, value: list[str]) -> list[str]:
        try:
            return [check_hostname(item, what="MX host", wildcard=True) for item in value]
        except UnsafeValue as exc:
            raise ValueError(exc.detail) from exc


class BackoffPattern(_Strict):
    """A provider reply that means "slow down" (matched anywhere in the SMTP reply)."""

    provider: str = Field(max_length=31)
    pattern: str = Field(min_length=1, max_length=300, description="Python regular expression.")
    example: str = Field(default="", max_length=300, description="A real reply it matches (documentation).")

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
            to_pmta_regex(compiled)
        except re.error as exc:
            raise ValueError(f"pattern {value!r} is not a valid regular expression: {exc}") from exc
        except InvalidInput as exc:
            raise ValueError(exc.detail) from exc
        if compiled.search(""):
            raise ValueError(f"pattern {value!r} matches an empty reply; it would put every queue in backoff")
        return value

    @model_validator(mode="after")
    def _example_matches(self) -> BackoffPattern:
        if self.example and not re.search(self.pattern, self.example):
            raise ValueError(f"pattern {self.pattern!r} does not match its own example {self.example!r}")
        return self


class ThrottleTables(_Strict):
    """The whole editable document (``GET``/``PUT /api/v1/pmta/throttles``)."""

    version: int = Field(default=1, ge=1, le=1)
    default: DefaultThrottle = Field(default_factory=DefaultThrottle)
    backoff: BackoffPolicy = Field(default_factory=BackoffPolicy)
    providers: list[ProviderThrottle] = Field(max_length=200)
    backoff_patterns: list[BackoffPattern] = Field(max_length=2000)

    @model_validator(mode="after")
    def _consistent(self) -> ThrottleTables:
        names = [provider.name for provider in self.providers]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"provider names must be unique; repeated: {', '.join(duplicates)}")
        seen: dict[str, str] = {}
        for provider in self.providers:
            for domain in provider.domains:
                if domain in seen:
                    raise ValueError(
                        f"domain {domain} is listed under both {seen[domain]} and {provider.name}"
                    )
                seen[domain] = provider.name
        known = {*names, "generic"}
        for item in self.backoff_patterns:
            if item.provider not in known:
                raise ValueError(
                    f"backoff pattern {item.pattern!r} names provider {item.provider!r}, which is not in "
                    "the providers table (or 'generic')"
                )
        patterns = [item.pattern for item in self.backoff_patterns]
        repeated = sorted({pattern for pattern in patterns if patterns.count(pattern) > 1})
        if repeated:
            raise ValueError(f"backoff patterns must be unique; repeated: {repeated[0]!r}")
        return self


def parse_tables(data: Any) -> ThrottleTables:
    """Validate a throttle document (parsed YAML/JSON); errors name the field and the fix."""
    try:
        return ThrottleTables.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'document'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        raise InvalidInput(f"The throttle tables are not valid: {problems}.") from exc


@lru_cache(maxsize=1)
def default_tables() -> ThrottleTables:
    """The shipped defaults (``data/throttles.yaml``)."""
    text = (
        resources.files("email_engine.integrations.powermta")
        .joinpath("data/throttles.yaml")
        .read_text("utf-8")
    )
    return parse_tables(yaml.safe_load(text))


def provider_queue(provider: ProviderThrottle) -> str:
    """The queue every domain of a provider is rolled up into (``gmail.rollup``)."""
    return check_name(f"{provider.name}.rollup", what="rollup queue")
