"""DMARC API shapes (the contract of ``GET /api/v1/dmarc/sources`` is :class:`SourceItem`)."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from email_engine.platform.schemas import Page

__all__ = ["DeadLetterPublic", "ImportResult", "ReportPublic", "SourceItem", "SourcePage"]


class ImportResult(BaseModel):
    file: str
    status: str = Field(description="imported, duplicate or error")
    records: int = Field(
        description="Rows stored (one per source IP, header-from and result); 0 for a duplicate."
    )
    error: str | None = None
    reports: list[dict[str, object]] = Field(default_factory=list, description="Each report inside the file.")


class SourceItem(BaseModel):
    day: date
    source_ip: str
    header_from: str
    reporter: str
    count: int = Field(description="Messages the reporter saw from this IP as this domain that day.")
    dkim_aligned: int = Field(description="Of them, messages whose DKIM passed and aligned with header-from.")
    spf_aligned: int = Field(description="Of them, messages whose SPF passed and aligned with header-from.")
    dmarc_pass: int = Field(description="Of them, messages with DKIM or SPF aligned (DMARC pass).")
    disposition: dict[str, int] = Field(
        description="Messages per disposition: none, quarantine, reject, pass."
    )
    classification: str = Field(
        description="ours (inventory), forwarder (known, forward-confirmed PTR) or unknown"
    )
    ptr: str | None = None


class SourcePage(Page[SourceItem]):
    since: date
    until: date


class ReportPublic(BaseModel):
    id: int
    reporter: str
    reporter_email: str
    external_id: str
    policy_domain: str
    policy: str | None
    begin_at: datetime
    end_at: datetime
    day: date
    records: int
    messages: int
    source: str
    filename: str
    imported_at: datetime


class DeadLetterPublic(BaseModel):
    id: int
    filename: str
    source: str
    reason: str
    size: int
    kept: bool = Field(description="Whether the input itself was kept (inputs up to 1 MiB are).")
    created_at: datetime
