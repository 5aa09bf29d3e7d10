"""Response bodies of ``GET /api/v1/reputation/daily``."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DailySeries"]


class _Shape(BaseModel):
    """Built from the service's values: a key the model does not name is an error, not dropped."""

    model_config = ConfigDict(extra="forbid")


class AccountingDay(_Shape):
    """Our PowerMTA records for the key on that day."""

    sent: int
    delivered: int
    hard_bounces: int
    soft_bounces: int
    blocks: int
    complaints: int = Field(description="ARF feedback-loop reports.")
    deferred: int
    bounce_rate: float | None
    hard_bounce_rate: float | None
    block_rate: float | None
    complaint_rate: float | None


class SndsDay(_Shape):
    """Microsoft SNDS for one IP."""

    filter_result: str | None
    complaint_rate: float | None
    complaint_below: bool
    complaint_text: str | None
    trap_hits: int | None
    message_recipients: int | None
    rcpt_commands: int | None
    data_commands: int | None


class SndsCombinedDay(_Shape):
    """Microsoft SNDS over several IPs (the ``microsoft`` provider): the worst filter result, sums."""

    filter_result: str | None
    ips: int
    ips_by_filter: dict[str, int]
    complaint_rate_max: float | None
    trap_hits: int
    message_recipients: int


class GmailDay(_Shape):
    """Postmaster Tools v2: one domain's values, or the worst of each over several domains."""

    domains: list[str]
    spam_rate: float | None
    dkim_success_rate: float | None
    spf_success_rate: float | None
    dmarc_success_rate: float | None
    tls_inbound_rate: float | None
    delivery_error_rate: float | None
    fbl_spam_rate: float | None


class DmarcDay(_Shape):
    """Aggregate reports: messages, DMARC pass and DKIM/SPF alignment."""

    messages: int
    dmarc_pass: int
    dkim_aligned: int
    spf_aligned: int
    pass_rate: float | None
    dkim_alignment_rate: float | None
    spf_alignment_rate: float | None
    reporters: int


class SignalPublic(_Shape):
    name: str
    action: str = Field(description="hold or pause.")
    reason: str


class SignalDay(_Shape):
    """One day; a part is null on a day it has no data."""

    day: date
    accounting: AccountingDay | None
    snds: SndsDay | SndsCombinedDay | None
    gmail: GmailDay | None
    dmarc: DmarcDay | None
    signals: list[SignalPublic] = Field(description="What a warmup decision would draw from that day.")


class DailySeries(_Shape):
    key: str
    kind: str = Field(description="ip, domain or provider.")
    since: date
    until: date
    gmail_domains: list[str]
    snds_blocked: str | None
    days: list[SignalDay]
