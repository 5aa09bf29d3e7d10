"""Request and response shapes of the reputation API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from email_engine.platform.schemas import StrictModel

ZoneEntry = Annotated[str, StringConstraints(min_length=1, max_length=260, strip_whitespace=True)]


class ZoneResultOut(BaseModel):
    zone: str
    status: Literal["listed", "clean", "error", "unknown"]
    codes: list[str]
    meaning: str
    zone_usable: bool = Field(
        default=True,
        description="False when the zone failed its RFC 5782 test points in this run (127.0.0.2 listed, "
        "127.0.0.1 not); its answers then count as unknown, never clean.",
    )


class TargetCheckOut(BaseModel):
    ip: str = Field(description="The checked IP address (or domain for domain lists).")
    listed: bool
    results: list[ZoneResultOut]


class CheckAllOut(BaseModel):
    checked: int
    unusable_zones: dict[str, str] = Field(
        default_factory=dict,
        description="Zones that failed their RFC 5782 test points this run, with the reason and the fix.",
    )
    listed: list[str]
    queries: int
    errors: int
    unknown: int
    new_listings: list[str] = Field(description='Listings opened by this run, as "<target> on <zone>".')
    delisted: list[str] = Field(description='Listings closed by this run, as "<target> on <zone>".')
    results: list[TargetCheckOut]


class ListingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    target: str
    zone: str
    major: bool
    codes: list[str]
    meaning: str
    zone_usable: bool = Field(
        default=True,
        description="False when the zone failed its RFC 5782 test points in this run (127.0.0.2 listed, "
        "127.0.0.1 not); its answers then count as unknown, never clean.",
    )
    first_seen_at: datetime
    last_seen_at: datetime
    delisted_at: datetime | None


class ZoneOut(BaseModel):
    name: str
    label: str
    kind: Literal["ip", "domain"]
    major: bool
    ipv6: bool
    custom: bool
    dqs: bool = Field(description="True when queries go through the Spamhaus DQS key.")
    delist: str | None


class ZonesOut(BaseModel):
    source: Literal["database", "environment", "default"]
    zones: list[ZoneOut]
    catalogue: list[str]


class ZonesUpdate(StrictModel):
    zones: list[ZoneEntry] = Field(
        min_length=1,
        max_length=64,
        description="Catalogue names (zen.spamhaus.org…) or custom zones (rbl.example.org, domain:dbl.example.org).",
    )


class LastCheckOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target: str = Field(description="The IP or domain.")
    checked_at: str = Field(description="ISO 8601 time with its offset.")
    listed: bool
    results: list[dict[str, Any]] = Field(description="Each zone's result as stored by that check.")


class AuthCheckOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str = Field(description="spf, dkim:<selector>, dmarc, ptr:<ip>, mx…")
    status: str = Field(description="pass, fail, warn, info or unknown.")
    sentence: str = Field(description="What was found and what to fix.")
    data: dict[str, Any]


class RequirementOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    status: str = Field(description="met, not_met, unknown or unverified.")
    sentence: str


class ComplianceOut(BaseModel):
    model_config = ConfigDict(extra="allow")

    status: str
    requirements: list[RequirementOut]


class DomainValidationOut(BaseModel):
    """A sending domain's SPF/DKIM/DMARC/PTR/MX report (stored reports are returned as stored)."""

    model_config = ConfigDict(extra="allow")

    id: int
    checked_at: str = Field(description="ISO 8601 time with its offset.")
    domain: str
    status: str = Field(description="The worst check status.")
    checks: list[AuthCheckOut]
    compliance: ComplianceOut = Field(description="Gmail/Yahoo bulk-sender requirements as DNS shows them.")


class ValidateAllOut(BaseModel):
    model_config = ConfigDict(extra="forbid")

    checked: int
    failing: list[str] = Field(description="Domains with a failing check.")
    non_compliant: list[str] = Field(description="Domains that do not meet the bulk-sender requirements.")
    errors: list[str] = Field(description='"<domain>: <why it could not be validated>".')
    results: list[DomainValidationOut]
