"""Forget an address: replace it with its keyed pseudonym everywhere it is stored, keep it suppressed.

Where an address can be, and what :func:`forget_address` does there:

- accounting records: the local part (``rcpt_local``) becomes the pseudonym; time, outcome, route and
  domain stay (they are what the statistics are made of);
- diagnostics (``accounting_outcome.dsn_diag``: receivers often quote the address), dead letters
  (``raw``, ``reason``), outbox payloads (delivered or not), audit entries (``target``, ``details``):
  every occurrence of the address, in any case, becomes the pseudonym;
- validation job files (``VALIDATION_JOBS_DIR/<job>/*.csv``): every occurrence is overwritten in place
  by as many bytes of the pseudonym (so a running job's checkpoint offsets stay right);
- the suppression list: an entry for the address is replaced by one for its pseudonym (reason kept,
  or ``erased``), so the address is still refused when it comes back.

Scans: records are found through their recipient domain's id and the local part, which reads every
kept partition of accounting records (an erasure request is rare; there is no index on local parts,
which would cost about a quarter of a record's bytes).
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from email_engine.auth.models import AuditEntry
from email_engine.errors import Conflict, InvalidInput
from email_engine.feedback.models import (
    AccountingDomain,
    AccountingOutcome,
    AccountingRow,
    DeadLetterRow,
    Suppression,
)
from email_engine.feedback.pseudonym import pseudonym
from email_engine.feedback.records import split_address
from email_engine.feedback.suppression import SuppressionEntry, normalise_value, upsert_suppressions
from email_engine.outbox.models import OutboxEvent

__all__ = ["ForgetReport", "forget_address", "require_key"]

_PAGE = 500


@dataclass(slots=True)
class ForgetReport:
    pseudonym: str
    records: int = 0
    diagnostics: int = 0
    dead_letters: int = 0
    outbox_events: int = 0
    audit_entries: int = 0
    validation_files: int = 0
    suppression: str = "added"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def require_key(key: bytes | None) -> bytes:
    if key is None:
        raise Conflict(
            "PRIVACY_HASH_KEY is not set: an erased address is kept on the suppression list as a keyed "
            "pseudonym, so set a long random secret (and keep it: a new key makes earlier pseudonyms "
            "unrecognisable), then try again."
        )
    return key


def _replacer(address: str, replacement: str) -> re.Pattern[str]:
    return re.compile(re.escape(address), re.IGNORECASE)


def _scrub(value: Any, pattern: re.Pattern[str], replacement: str) -> Any:
    if isinstance(value, str):
        return pattern.sub(replacement, value)
    if isinstance(value, list):
        return [_scrub(item, pattern, replacement) for item in value]
    if isinstance(value, dict):
        return {_scrub(k, pattern, replacement): _scrub(v, pattern, replacement) for k, v in value.items()}
    return value


def _records(session: Session, local: str, domain: str, replacement: str) -> int:
    domain_ids = list(session.scalars(select(AccountingDomain.id).where(AccountingDomain.name == domain)))
    if not domain_ids:
        return 0
    stmt = (
        update(AccountingRow)
        .where(AccountingRow.domain_id.in_(domain_ids), func.lower(AccountingRow.rcpt_local) == local)
        .values(rcpt_local=replacement)
        .execution_options(synchronize_session=False)
    )
    return session.execute(stmt).rowcount or 0  # type: ignore[attr-defined]


def _texts(session: Session, model: Any, columns: tuple[str, ...], address: str, replacement: str) -> int:
    """Replace the address in text columns of rows that hold it (case-insensitive LIKE finds them)."""
    pattern = _replacer(address, replacement)
    condition = None
    for name in columns:
        clause = func.lower(getattr(model, name)).contains(address, autoescape=True)
        condition = clause if condition is None else condition | clause
    changed = 0
    for row in session.scalars(select(model).where(condition)):  # type: ignore[arg-type]
        for name in columns:
            current = getattr(row, name)
            if current is not None:
                setattr(row, name, pattern.sub(replacement, current))
        changed += 1
    session.flush()
    return changed


def _json_rows(session: Session, model: Any, column: str, address: str, replacement: str) -> int:
    """Rows whose JSON column mentions the address (checked in Python: JSON text search differs by backend)."""
    pattern = _replacer(address, replacement)
    changed = 0
    last_id = 0
    while True:
        rows = session.scalars(select(model).where(model.id > last_id).order_by(model.id).limit(_PAGE)).all()
        for row in rows:
            value = getattr(row, column)
            if value is not None and pattern.search(json.dumps(value, ensure_ascii=False)):
                setattr(row, column, _scrub(value, pattern, replacement))
                changed += 1
        session.flush()
        if len(rows) < _PAGE:
            return changed
        last_id = rows[-1].id


def _audit(session: Session, address: str, replacement: str) -> int:
    pattern = _replacer(address, replacement)
    changed = _texts(session, AuditEntry, ("target", "note"), address, replacement)
    last_id = 0
    while True:
        rows = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.id > last_id, AuditEntry.details.is_not(None))
            .order_by(AuditEntry.id)
            .limit(_PAGE)
        ).all()
        for row in rows:
            if pattern.search(json.dumps(row.details, ensure_ascii=False)):
                row.details = _scrub(row.details, pattern, replacement)
                changed += 1
        session.flush()
        if len(rows) < _PAGE:
            return changed
        last_id = rows[-1].id


def _csv_files(directory: Path | None) -> Iterator[Path]:
    if directory is None or not directory.is_dir():
        return
    yield from sorted(path for path in directory.rglob("*.csv") if path.is_file())


def _overwrite_in_place(path: Path, address: str, replacement: str) -> bool:
    """Overwrite each occurrence with as many bytes of the pseudonym (padded with its digits)."""
    needle = re.compile(re.escape(address.encode("utf-8")), re.IGNORECASE)
    if path.stat().st_size == 0:
        return False
    found = False
    with open(path, "r+b") as handle, mmap.mmap(handle.fileno(), 0) as view:
        for match in needle.finditer(view):
            length = match.end() - match.start()
            filler = (replacement + replacement[1:] * (length // 32 + 1)).encode()[:length]
            view[match.start() : match.end()] = filler
            found = True
        if found:
            view.flush()
    return found


def forget_address(
    session: Session, *, address: str, key: bytes, validation_dir: Path | None, now: datetime
) -> ForgetReport:
    """Erase one address everywhere (flushes; the caller commits). Raises InvalidInput for a non-address."""
    value, kind = normalise_value(address)
    if kind != "address":
        raise InvalidInput(f"{address[:80]!r} is a domain; erasure takes one address (local@domain).")
    local, domain = split_address(value)
    replacement = pseudonym(value, key)
    report = ForgetReport(pseudonym=replacement)
    report.records = _records(session, local, domain, replacement)
    report.diagnostics = _texts(session, AccountingOutcome, ("dsn_diag",), value, replacement)
    report.dead_letters = _texts(session, DeadLetterRow, ("raw", "reason"), value, replacement)
    report.outbox_events = _json_rows(session, OutboxEvent, "payload", value, replacement)
    report.audit_entries = _audit(session, value, replacement)
    report.validation_files = sum(
        1 for path in _csv_files(validation_dir) if _overwrite_in_place(path, value, replacement)
    )
    existing = session.scalars(select(Suppression).where(Suppression.value == value)).one_or_none()
    reason = existing.reason if existing is not None else "erased"
    if existing is not None:
        session.delete(existing)
        session.flush()
        report.suppression = "replaced"
    upsert_suppressions(
        session,
        [SuppressionEntry(value=replacement, kind="hash", reason=reason, source="privacy", seen_at=now)],
    )
    session.flush()
    return report
