"""Response shapes of ``/api/v1/pmta``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

__all__ = ["RenderedConfigPublic", "ThrottleTablesPublic"]


class RenderedConfigPublic(BaseModel):
    files: dict[str, str]
    lint: dict[str, Any]


class ThrottleTablesPublic(BaseModel):
    source: str
    updated_at: datetime | None = None
    updated_by: str | None = None
    tables: dict[str, Any]
