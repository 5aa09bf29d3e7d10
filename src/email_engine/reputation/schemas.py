"""Request and response shapes of the reputation API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
