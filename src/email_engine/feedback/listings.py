"""What the API and the console list from the stored accounting data: the dead letters (lines that
were not records) and the bounce diagnostics seen most often, each with the rule that classified it.

The rule is the one :func:`email_engine.feedback.bounce.classify_bounce` chose at ingest, stored with
the diagnostic in the ``accounting_outcome`` dictionary (migration ``feedback_0002``): the listing reads
it back, it does not classify again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.feedback.models import AccountingOutcome, AccountingRow, DeadLetterRow

__all__ = [
    "BOUNCE_RECORD_TYPES",
    "Diagnostic",
    "RuleCount",
    "list_dead_letters",
    "top_diagnostics",
    "top_rules",
]

#: PowerMTA accounting types of a failed delivery: ``b`` (bounce) and ``rb`` (remote bounce, a DSN
#: received later); PowerMTA User's Guide, "Accounting File Format" (jnotes/pmta-doc).
BOUNCE_RECORD_TYPES = ("b", "rb")


class Diagnostic(NamedTuple):
    dsn_status: str | None
    dsn_diag: str | None
    category: str | None
    bounce_type: str | None
    rule: str | None
    records: int
    last_seen: datetime


class RuleCount(NamedTuple):
    rule: str | None
    category: str | None
    bounce_type: str | None
    records: int
    #: How many different diagnostics the rule classified (receivers often quote the recipient, so
    #: one cause shows as many texts).
    diagnostics: int
    #: One of them (the greatest in sort order: any is as good an example).
    example: str | None


def list_dead_letters(
    session: Session, *, limit: int, offset: int, source: str | None = None
) -> tuple[int, Sequence[DeadLetterRow]]:
    """Newest first, optionally of one source; with the total count."""
    stmt = select(DeadLetterRow)
    if source:
        stmt = stmt.where(DeadLetterRow.source == source)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(DeadLetterRow.id.desc()).limit(limit).offset(offset)).all()
    return total, rows


def top_diagnostics(session: Session, *, since: datetime, until: datetime, limit: int) -> list[Diagnostic]:
    """The bounce outcomes (status, diagnostic, classification) with the most records logged in
    ``[since, until)``, most first; ties by the outcome's first storage."""
    records = func.count().label("records")
    stmt = (
        select(
            AccountingOutcome.dsn_status,
            AccountingOutcome.dsn_diag,
            AccountingOutcome.category,
            AccountingOutcome.bounce_type,
            AccountingOutcome.rule,
            records,
            func.max(AccountingRow.time_logged),
        )
        .join(AccountingRow, AccountingRow.outcome_id == AccountingOutcome.id)
        .where(
            AccountingOutcome.type.in_(BOUNCE_RECORD_TYPES),
            AccountingRow.time_logged >= since,
            AccountingRow.time_logged < until,
        )
        .group_by(
            AccountingOutcome.id,
            AccountingOutcome.dsn_status,
            AccountingOutcome.dsn_diag,
            AccountingOutcome.category,
            AccountingOutcome.bounce_type,
            AccountingOutcome.rule,
        )
        .order_by(records.desc(), AccountingOutcome.id)
        .limit(limit)
    )
    return [Diagnostic(*row) for row in session.execute(stmt)]


def top_rules(session: Session, *, since: datetime, until: datetime, limit: int) -> list[RuleCount]:
    """The bounce rules that classified the most records logged in ``[since, until)``, most first:
    the same causes as :func:`top_diagnostics`, with the texts that differ only by the quoted
    recipient counted together."""
    records = func.count().label("records")
    stmt = (
        select(
            AccountingOutcome.rule,
            AccountingOutcome.category,
            AccountingOutcome.bounce_type,
            records,
            func.count(AccountingOutcome.id.distinct()),
            func.max(AccountingOutcome.dsn_diag),
        )
        .join(AccountingRow, AccountingRow.outcome_id == AccountingOutcome.id)
        .where(
            AccountingOutcome.type.in_(BOUNCE_RECORD_TYPES),
            AccountingRow.time_logged >= since,
            AccountingRow.time_logged < until,
        )
        .group_by(AccountingOutcome.rule, AccountingOutcome.category, AccountingOutcome.bounce_type)
        .order_by(
            records.desc(), AccountingOutcome.rule, AccountingOutcome.category, AccountingOutcome.bounce_type
        )
        .limit(limit)
    )
    return [RuleCount(*row) for row in session.execute(stmt)]
