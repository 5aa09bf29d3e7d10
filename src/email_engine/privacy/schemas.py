"""Privacy API schemas."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = ["ForgetResult"]


class ForgetResult(BaseModel):
    pseudonym: str = Field(
        description="What the address was replaced with: '#' and 32 hex digits of its keyed hash"
    )
    records: int = Field(description="Accounting records whose recipient is now the pseudonym")
    diagnostics: int = Field(description="Stored diagnostic texts that quoted the address")
    dead_letters: int = Field(description="Dead letters that held the address")
    outbox_events: int = Field(description="Outbox payloads (delivered or not) that held the address")
    audit_entries: int = Field(description="Audit entries that named the address")
    validation_files: int = Field(description="Validation job files in which the address was overwritten")
    suppression: str = Field(
        description="'replaced': the address's suppression entry now holds the pseudonym; "
        "'added': a new entry (reason 'erased') keeps the address from being mailed again"
    )
