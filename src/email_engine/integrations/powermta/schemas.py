"""Response shapes of ``/api/v1/pmta``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from email_engine.platform.schemas import StrictModel

__all__ = ["DomainPoolsPublic", "DomainPoolsUpdate", "RenderedConfigPublic", "ThrottleTablesPublic"]


class RenderedConfigPublic(BaseModel):
    files: dict[str, str]
    lint: dict[str, Any]


class ThrottleTablesPublic(BaseModel):
    source: str
    updated_at: datetime | None = None
    updated_by: str | None = None
    tables: dict[str, Any]


class SenderIp(BaseModel):
    address: str
    hostname: str


class DomainPoolsPublic(BaseModel):
    """The pools that send for a domain and their IPs: exactly what its SPF record lists."""

    domain: str
    pools: list[str]
    ips: list[SenderIp]


class DomainPoolsUpdate(StrictModel):
    pools: list[str] = Field(
        max_length=50, description="Pool names; replaces the list (empty: no pool sends for the domain)."
    )
