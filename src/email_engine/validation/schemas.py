"""Request and response bodies of the validation API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, StrictStr, field_validator

from email_engine.platform.schemas import StrictModel
from email_engine.validation.verdict import Reason, Verdict

__all__ = ["MAX_EMAILS", "AddressResult", "JobPublic", "ValidateRequest", "ValidateResponse"]

MAX_EMAILS = 10_000


class ValidateRequest(StrictModel):
    emails: list[StrictStr] = Field(
        description=f"1 to {MAX_EMAILS:,} addresses; results come back in the same order.",
        examples=[["jane.doe@example.com", "info@example.org"]],
    )

    @field_validator("emails", mode="before")
    @classmethod
    def _bounded_list(cls, value: object) -> object:
        if not isinstance(value, list):
            raise ValueError('emails must be a JSON list of strings, e.g. {"emails": ["a@example.com"]}')
        if not value:
            raise ValueError("emails is empty; send at least one address")
        if len(value) > MAX_EMAILS:
            raise ValueError(
                f"at most {MAX_EMAILS:,} addresses per request (got {len(value):,}); "
                "split the list or upload it as a CSV to POST /api/v1/validation/jobs"
            )
        return value


class AddressResult(BaseModel):
    email: str
    normalized: str | None
    verdict: Verdict
    valid: bool
    reasons: list[Reason]
    suggestion: str | None = None
    mx: list[str] = Field(default_factory=list)
    detail: str | None = Field(default=None, description="Why the syntax is wrong, when it is.")


class ValidateResponse(BaseModel):
    total: int
    valid: int
    invalid: int
    risky: int
    unknown: int
    results: list[AddressResult]


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    status: str
    filename: str
    email_column: str
    size_bytes: int
    bytes_processed: int
    rows_processed: int
    progress: float = Field(description="0 to 1, by bytes of the input read.")
    valid: int
    invalid: int
    risky: int
    unknown: int
    attempts: int
    error: str | None
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    result_url: str | None
