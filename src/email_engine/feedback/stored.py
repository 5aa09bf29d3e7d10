"""Stored accounting records read back whole: the compact row joined with its dictionaries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from email_engine.feedback.models import AccountingDomain, AccountingOutcome, AccountingRoute, AccountingRow
from email_engine.feedback.providers import provider_for_domain

__all__ = ["StoredRecord", "stored_records", "stored_records_query"]


class StoredRecord(NamedTuple):
    time_logged: datetime
    record_key: int
    type: str
    rcpt: str
    rcpt_domain: str
    provider: str
    source: str
    vmta: str | None
    source_ip: str | None
    sender_domain: str | None
    dsn_status: str | None
    dsn_diag: str | None
    category: str | None
    bounce_type: str | None
    rule: str | None
    queued_seconds: int | None


def stored_records_query() -> Select[*tuple[Any, ...]]:
    """Every stored record with its dictionary values (add ``where`` / ``order_by`` / ``limit``)."""
    query: Select[*tuple[Any, ...]] = (
        select(
            AccountingRow.time_logged,
            AccountingRow.record_key,
            AccountingOutcome.type,
            AccountingRow.rcpt_local,
            AccountingDomain.name,
            AccountingRoute.source,
            AccountingRoute.vmta,
            AccountingRoute.source_ip,
            AccountingRoute.sender_domain,
            AccountingOutcome.dsn_status,
            AccountingOutcome.dsn_diag,
            AccountingOutcome.category,
            AccountingOutcome.bounce_type,
            AccountingOutcome.rule,
            AccountingRow.queued_seconds,
        )
        .join(AccountingOutcome, AccountingOutcome.id == AccountingRow.outcome_id)
        .join(AccountingRoute, AccountingRoute.id == AccountingRow.route_id)
        .join(AccountingDomain, AccountingDomain.id == AccountingRow.domain_id)
    )
    return query


def _stored(row: Sequence[Any]) -> StoredRecord:
    (
        logged,
        key,
        kind,
        local,
        domain,
        source,
        vmta,
        ip,
        sender,
        status,
        diag,
        category,
        btype,
        rule,
        queued,
    ) = row
    return StoredRecord(
        time_logged=logged,
        record_key=key,
        type=kind,
        rcpt=f"{local}@{domain}" if domain else local,
        rcpt_domain=domain,
        provider=provider_for_domain(domain),
        source=source,
        vmta=vmta,
        source_ip=ip,
        sender_domain=sender,
        dsn_status=status,
        dsn_diag=diag,
        category=category,
        bounce_type=btype,
        rule=rule,
        queued_seconds=queued,
    )


def stored_records(session: Session, stmt: Select[*tuple[Any, ...]] | None = None) -> list[StoredRecord]:
    query = stored_records_query() if stmt is None else stmt
    return [_stored(row) for row in session.execute(query)]
