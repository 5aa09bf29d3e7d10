"""Throttle and backoff tables: data operators edit, validated before anything is rendered.

Defaults ship in ``data/throttles.yaml``; an operator's edited copy is stored in the database
(``/api/v1/pmta/throttles``) and replaces the defaults as a whole. Rates use PowerMTA's syntax
(``50/h``, ``1/m``, ``100/15m``; §3.3.10.33), intervals too (``20m``, ``1h``, ``4d12h``; §3.2).

Backoff is never a rate of its own: each queue's ``backoff-max-msg-rate`` is derived from that
queue's normal rate (:func:`backoff_rate`), so slowing down always means slower.
"""

from __future__ import annotations

import re
from fractions import Fraction
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Final

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.pmta_regex import to_pmta_regex
from email_engine.integrations.powermta.rates import format_rate_at_most
from email_engine.integrations.powermta.rates import rate_per_hour as exact_rate
from email_engine.integrations.powermta.safety import UnsafeValue, check_hostname, check_name

__all__ = [
    "BackoffPattern",
    "BackoffPolicy",
    "DefaultThrottle",
    "ProviderThrottle",
    "ThrottleTables",
    "backoff_rate",
    "default_tables",
    "parse_tables",
    "rate_per_hour",
]

# §3.3.10.33 max-msg-rate: N/[M]{d|day|h|hr|m|min|s|sec}; "0" pauses. "unlimited" is refused here:
# a queue without a rate has nothing for backoff to be slower than.
_RATE: Final = re.compile(r"(?:0|[1-9][0-9]{0,8}/(?:[1-9][0-9]{0,3})?(?:d|day|h|hr|m|min|s|sec))")
_INTERVAL: Final = re.compile(r"(?:never|(?:[1-9][0-9]{0,4}[dhms]){1,4})")

Rate = Annotated[str, Field(description="PowerMTA rate, e.g. 50/h, 1/m or 100/15m", examples=["50/h"])]
Interval = Annotated[str, Field(description="PowerMTA interval, e.g. 20m, 1h, 4d12h", examples=["20m"])]
#: Backoff at a fifth of the normal rate unless the tables say otherwise.
DEFAULT_BACKOFF_FRACTION: Final = 0.2


def rate_per_hour(rate: str) -> float:
    """Messages per hour a rate allows (``inf`` for unlimited)."""
    exact = exact_rate(rate)
    return float("inf") if exact is None else float(exact)


def _check_rate(value: str) -> str:
    if not _RATE.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a PowerMTA rate (examples: 50/h, 1/m, 100/15m, 0 to pause; "
            "unlimited is not allowed because backoff is derived from the rate)"
        )
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
    """What a queue does after a throttling reply: slow down, retry, recover.

    ``rate_fraction``: each queue's backoff rate is this fraction of its own normal rate (after any
    warmup cap), rounded down to a rate PowerMTA can write, so it is always strictly slower.
    ``max_msg_rate``: an optional ceiling on top (never raises a derived rate)."""

    rate_fraction: float = Field(default=DEFAULT_BACKOFF_FRACTION, gt=0, lt=1)
    max_msg_rate: Rate | None = None
    retry_after: Interval = "20m"
    to_normal_after: Interval = "1h"
    to_normal_after_delivery: bool = True

    _intervals = field_validator("retry_after", "to_normal_after")(_check_interval)

    @field_validator("max_msg_rate")
    @classmethod
    def _ceiling(cls, value: str | None) -> str | None:
        return None if value is None else _check_rate(value)


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


def backoff_rate(normal: str, policy: BackoffPolicy) -> str:
    """``backoff-max-msg-rate`` for a queue whose ``max-msg-rate`` is ``normal``: ``rate_fraction`` of
    it (and at most the policy's ceiling), rounded down; "0" for a paused queue. Always strictly below
    ``normal`` when ``normal`` is above 0 (§3.3.10.34: backoff replaces the normal rate while a queue
    is in backoff mode)."""
    return _backoff_rate(normal, policy.rate_fraction, policy.max_msg_rate)


@lru_cache(maxsize=4096)
def _backoff_rate(normal: str, fraction: float, ceiling_rate: str | None) -> str:
    per_hour = exact_rate(normal)
    if per_hour is None:
        raise InvalidInput(f"Rate {normal!r} is unlimited; backoff needs a finite rate to be slower than.")
    target = per_hour * Fraction(fraction).limit_denominator(10_000)
    ceiling = exact_rate(ceiling_rate) if ceiling_rate is not None else None
    if ceiling is not None:
        target = min(target, ceiling)
    return format_rate_at_most(target)


def provider_queue(provider: ProviderThrottle) -> str:
    """The queue every domain of a provider is rolled up into (``gmail.rollup``)."""
    return check_name(f"{provider.name}.rollup", what="rollup queue")
