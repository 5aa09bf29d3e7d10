"""Claim due outbox events and hand them to their senders.

PostgreSQL: one transaction per batch. ``SELECT … FOR UPDATE SKIP LOCKED`` claims the rows, the
sender runs while they stay locked, and the outcome (sent / retry later / dead) is written and
committed in that same transaction, so concurrent workers never send the same event. If the worker
dies mid-batch the transaction rolls back and the events are simply due again.

SQLite: writers are serialised and a long write transaction would block the whole database, so a
claim is one ``UPDATE … SET status='sending', claimed_by=<token>, locked_until=…`` statement; the
outcome is written only where the claim token still matches. A claim whose ``locked_until`` passed
(crashed worker) is due again.

Either way delivery is at least once: a crash after the peer accepted a batch but before the commit
sends it again, which is why every event carries an idempotency key for the receiver.
"""

from __future__ import annotations

import os
import random
import socket
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import and_, or_, select, update

from email_engine.context import AppContext
from email_engine.errors import ConfigurationError
from email_engine.outbox.backoff import retry_delay_seconds
from email_engine.outbox.contract import DeadEventsWatcher, Sender, SendResult
from email_engine.outbox.destinations import destination_of
from email_engine.outbox.metrics import OUTBOX_EVENTS, OUTBOX_REVIVED
from email_engine.outbox.models import DeadCause, OutboxEvent, OutboxStatus
from email_engine.outbox.service import requeue
from email_engine.outbox.settings import OutboxSettings
from email_engine.plugins import domain_modules

__all__ = [
    "DrainReport",
    "deliver_batch",
    "discover_senders",
    "drain",
    "revive_destinations",
    "worker_identity",
]

log = structlog.get_logger("email_engine.outbox")

MAX_ERROR = 2000


def worker_identity() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}"


def discover_dead_event_watchers() -> list[DeadEventsWatcher]:
    """``ON_DEAD_EVENTS`` of every ``<domain>/senders.py`` that has one."""
    return [
        module.ON_DEAD_EVENTS for module in domain_modules("senders") if hasattr(module, "ON_DEAD_EVENTS")
    ]


def discover_senders() -> dict[str, Sender]:
    """``SENDERS`` of every ``<domain>/senders.py``; one sender per kind."""
    senders: dict[str, Sender] = {}
    for module in domain_modules("senders"):
        for kind, sender in getattr(module, "SENDERS", {}).items():
            if kind in senders:
                raise ConfigurationError(f"Two senders.py modules declare a sender for outbox kind {kind!r}.")
            senders[kind] = sender
    return senders


@dataclass
class DrainReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    batches: int = 0
    #: Dead events queued again because their destination took an event.
    revived: int = 0
    sent_kinds: set[str] = field(default_factory=set)

    def add(self, other: DrainReport) -> None:
        self.claimed += other.claimed
        self.sent += other.sent
        self.retried += other.retried
        self.dead += other.dead
        self.batches += other.batches
        self.revived += other.revived
        self.sent_kinds |= other.sent_kinds

    def as_dict(self) -> dict[str, int]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "retried": self.retried,
            "dead": self.dead,
            "batches": self.batches,
            "revived": self.revived,
        }


def _due(now: datetime, kinds: Sequence[str]) -> Any:
    return and_(
        OutboxEvent.kind.in_(kinds),
        or_(
            and_(OutboxEvent.status == OutboxStatus.PENDING, OutboxEvent.next_attempt_at <= now),
            and_(OutboxEvent.status == OutboxStatus.SENDING, OutboxEvent.locked_until <= now),
        ),
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_ERROR else text[: MAX_ERROR - 1] + "…"


def _call_senders(
    ctx: AppContext, senders: Mapping[str, Sender], events: Sequence[OutboxEvent]
) -> dict[int, SendResult]:
    """One call per kind; a sender that raises or skips an event fails it (retryable)."""
    by_kind: dict[str, list[OutboxEvent]] = defaultdict(list)
    for event in events:
        by_kind[event.kind].append(event)
    results: dict[int, SendResult] = {}
    for kind, batch in by_kind.items():
        ids = {event.id for event in batch}
        try:
            answers = senders[kind](ctx, batch)
        except Exception as exc:  # a sender bug must not lose or wedge the batch
            log.warning("outbox_sender_failed", kind=kind, error=type(exc).__name__, events=len(batch))
            answers = [
                SendResult(event.id, ok=False, error=f"the {kind} sender raised {type(exc).__name__}: {exc}")
                for event in batch
            ]
        for answer in answers:
            if answer.event_id in ids:
                results[answer.event_id] = answer
        for event in batch:
            results.setdefault(
                event.id, SendResult(event.id, ok=False, error=f"the {kind} sender returned no result")
            )
    return results


def outcome_values(
    *, attempts: int, result: SendResult, settings: OutboxSettings, now: datetime, draw: float
) -> dict[str, Any]:
    """Column values after one attempt (pure)."""
    if result.ok:
        return {
            "status": OutboxStatus.SENT,
            "sent_at": now,
            "attempts": attempts + 1,
            "last_error": None,
            "locked_until": None,
        }
    tried = attempts + 1
    error = _clip(result.error or "the peer refused the event")
    if not result.retryable or tried >= settings.max_attempts:
        return {
            "status": OutboxStatus.DEAD,
            "attempts": tried,
            "last_error": error,
            "locked_until": None,
            "dead_cause": DeadCause.EXHAUSTED if result.retryable else DeadCause.REFUSED,
        }
    delay = retry_delay_seconds(
        tried, base=settings.backoff_base_seconds, cap=settings.backoff_max_seconds, draw=draw
    )
    return {
        "status": OutboxStatus.PENDING,
        "attempts": tried,
        "last_error": error,
        "next_attempt_at": now + timedelta(seconds=delay),
        "locked_until": None,
    }


def _tally(report: DrainReport, kind: str, values: Mapping[str, Any]) -> None:
    status = values["status"]
    outcome = {"sent": "sent", "dead": "dead"}.get(status, "retry")
    OUTBOX_EVENTS.labels(kind=kind, outcome=outcome).inc()
    if status == OutboxStatus.SENT:
        report.sent += 1
        report.sent_kinds.add(kind)
    elif status == OutboxStatus.DEAD:
        report.dead += 1
    else:
        report.retried += 1


def _batch_postgresql(
    ctx: AppContext,
    senders: Mapping[str, Sender],
    *,
    settings: OutboxSettings,
    clock: Callable[[], datetime],
    worker: str,
    rng: random.Random,
    due_at: datetime | None,
) -> DrainReport:
    report = DrainReport()
    now = clock()
    due = min(now, due_at) if due_at else now
    with ctx.session_factory() as session, session.begin():
        events = list(
            session.scalars(
                select(OutboxEvent)
                .where(_due(due, list(senders)))
                .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
                .limit(settings.batch_size)
                .with_for_update(skip_locked=True)
            )
        )
        if not events:
            return report
        report.claimed, report.batches = len(events), 1
        results = _call_senders(ctx, senders, events)
        finished = clock()
        for event in events:
            values = outcome_values(
                attempts=event.attempts,
                result=results[event.id],
                settings=settings,
                now=finished,
                draw=rng.random(),
            )
            values["claimed_by"] = worker
            for key, value in values.items():
                setattr(event, key, value)
            _tally(report, event.kind, values)
            _log_outcome(event, values)
    return report


def _batch_sqlite(
    ctx: AppContext,
    senders: Mapping[str, Sender],
    *,
    settings: OutboxSettings,
    clock: Callable[[], datetime],
    worker: str,
    rng: random.Random,
    due_at: datetime | None,
) -> DrainReport:
    report = DrainReport()
    now = clock()
    due = min(now, due_at) if due_at else now
    token = f"{worker}:{uuid.uuid4().hex[:12]}"
    due_ids = (
        select(OutboxEvent.id)
        .where(_due(due, list(senders)))
        .order_by(OutboxEvent.next_attempt_at, OutboxEvent.id)
        .limit(settings.batch_size)
        .scalar_subquery()
    )
    with ctx.session_factory() as session:
        with session.begin():
            session.execute(
                update(OutboxEvent)
                .where(OutboxEvent.id.in_(due_ids))
                .values(
                    status=OutboxStatus.SENDING,
                    claimed_by=token,
                    locked_until=now + timedelta(seconds=settings.claim_seconds),
                )
                .execution_options(synchronize_session=False)
            )
        events = list(
            session.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.claimed_by == token, OutboxEvent.status == OutboxStatus.SENDING)
                .order_by(OutboxEvent.id)
            )
        )
        session.expunge_all()  # keep the loaded rows readable after the rollback below
        session.rollback()  # end the read transaction; nothing is held while sending
        if not events:
            return report
        report.claimed, report.batches = len(events), 1
        results = _call_senders(ctx, senders, events)
        finished = clock()
        with session.begin():
            for event in events:
                values = outcome_values(
                    attempts=event.attempts,
                    result=results[event.id],
                    settings=settings,
                    now=finished,
                    draw=rng.random(),
                )
                values["claimed_by"] = worker
                changed = session.execute(
                    update(OutboxEvent)
                    .where(
                        OutboxEvent.id == event.id,
                        OutboxEvent.claimed_by == token,
                        OutboxEvent.status == OutboxStatus.SENDING,
                    )
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
                if getattr(changed, "rowcount", 0) != 1:
                    # The claim expired and another worker took the event; its outcome wins.
                    log.warning("outbox_claim_lost", event_id=event.id, kind=event.kind)
                    continue
                _tally(report, event.kind, values)
                _log_outcome(event, values)
    return report


def _log_outcome(event: OutboxEvent, values: Mapping[str, Any]) -> None:
    """Failures one by one (they are rare and need a reason); successes per batch in deliver_batch."""
    if values["status"] != OutboxStatus.SENT:
        log.warning(
            "outbox_send_failed",
            event_id=event.id,
            kind=event.kind,
            attempts=values["attempts"],
            status=values["status"],
            error=values["last_error"],
        )


def deliver_batch(
    ctx: AppContext,
    *,
    settings: OutboxSettings,
    clock: Callable[[], datetime],
    senders: Mapping[str, Sender] | None = None,
    worker: str | None = None,
    rng: random.Random | None = None,
    due_at: datetime | None = None,
) -> DrainReport:
    """Claim and deliver at most one batch of events due by ``due_at`` (default: now)."""
    senders = discover_senders() if senders is None else senders
    if not senders:
        return DrainReport()
    batch = _batch_postgresql if ctx.engine.dialect.name == "postgresql" else _batch_sqlite
    report = batch(
        ctx,
        senders,
        settings=settings,
        clock=clock,
        worker=worker or worker_identity(),
        rng=rng or random.Random(),
        due_at=due_at,
    )
    if report.sent_kinds:
        report.revived = revive_destinations(
            ctx, kinds=report.sent_kinds, settings=settings, clock=clock, reason="a delivery succeeded"
        )
    if report.claimed:
        log.info(
            "outbox_batch",
            sent=report.sent,
            retried=report.retried,
            dead=report.dead,
            revived=report.revived,
            kinds=sorted(senders),
        )
    return report


def revive_destinations(
    ctx: AppContext,
    *,
    kinds: Iterable[str],
    settings: OutboxSettings,
    clock: Callable[[], datetime],
    reason: str,
) -> int:
    """Queue again the dead events of the destinations these kinds belong to (their peer answers)."""
    revived = 0
    for destination in {destination_of(kind) for kind in kinds}:
        with ctx.session_factory() as session, session.begin():
            count = requeue(
                session,
                kinds=destination.kinds,
                state=OutboxStatus.DEAD,
                now=clock(),
                automatic=True,
                max_revivals=settings.max_revivals,
            )
        if count:
            OUTBOX_REVIVED.labels(destination=destination.name).inc(count)
            log.info("outbox_revived", destination=destination.name, events=count, reason=reason)
        revived += count
    return revived


def drain(
    ctx: AppContext,
    *,
    settings: OutboxSettings,
    clock: Callable[[], datetime],
    budget_seconds: float | None = None,
    senders: Mapping[str, Sender] | None = None,
    worker: str | None = None,
    rng: random.Random | None = None,
) -> DrainReport:
    """Deliver batches until nothing is due or the time budget (by ``clock``) is spent.

    Only events due when the drain started are taken, so an event that fails is not tried again
    in the same drain however short its backoff.
    """
    senders = discover_senders() if senders is None else senders
    budget = settings.drain_budget_seconds if budget_seconds is None else budget_seconds
    started = clock()
    total = DrainReport()
    while True:
        report = deliver_batch(
            ctx, settings=settings, clock=clock, senders=senders, worker=worker, rng=rng, due_at=started
        )
        total.add(report)
        if report.claimed == 0 or (clock() - started).total_seconds() >= budget:
            return total
