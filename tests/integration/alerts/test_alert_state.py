"""Alert dedup: one message per condition, reminders after the interval, escalation, resolution."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import InvalidInput
from email_engine.integrations.alerts.service import raise_alert, resolve_alert
from email_engine.integrations.alerts.settings import AlertSettings
from email_engine.outbox.models import OutboxEvent

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
INTERVALS = {"critical": timedelta(hours=1), "warning": timedelta(hours=4), "info": timedelta(days=1)}


def messages(session: Session) -> list[tuple[str, str, str]]:
    events = session.scalars(select(OutboxEvent).where(OutboxEvent.kind == "alert").order_by(OutboxEvent.id))
    return [(e.payload["key"], e.payload["state"], e.payload["severity"]) for e in events]


def raise_(
    session: Session, key: str, severity: str, at: datetime, text: str = "IP 192.0.2.1 is listed"
) -> bool:
    return raise_alert(
        session,
        key=key,
        severity=severity,  # type: ignore[arg-type]
        title="Blacklisted",
        text=text,
        now=at,
        remind_intervals=INTERVALS,
    )


def test_same_condition_alerts_once_then_reminds_then_resolves(session: Session) -> None:
    assert raise_(session, "dnsbl:192.0.2.1", "critical", T0) is True
    for minutes in (5, 10, 59):
        assert raise_(session, "dnsbl:192.0.2.1", "critical", T0 + timedelta(minutes=minutes)) is False
    session.commit()
    assert messages(session) == [("dnsbl:192.0.2.1", "firing", "critical")]

    assert raise_(session, "dnsbl:192.0.2.1", "critical", T0 + timedelta(minutes=60)) is True
    assert raise_(session, "dnsbl:192.0.2.1", "critical", T0 + timedelta(minutes=90)) is False
    assert raise_(session, "dnsbl:192.0.2.1", "critical", T0 + timedelta(minutes=120)) is True
    assert resolve_alert(session, key="dnsbl:192.0.2.1", now=T0 + timedelta(minutes=130)) is True
    assert resolve_alert(session, key="dnsbl:192.0.2.1", now=T0 + timedelta(minutes=131)) is False
    session.commit()
    assert [state for _k, state, _s in messages(session)] == ["firing", "reminder", "reminder", "resolved"]

    # The condition returns: a new episode fires at once.
    assert raise_(session, "dnsbl:192.0.2.1", "critical", T0 + timedelta(minutes=140)) is True
    session.commit()
    assert messages(session)[-1] == ("dnsbl:192.0.2.1", "firing", "critical")
    keys = [e.idempotency_key for e in session.scalars(select(OutboxEvent).order_by(OutboxEvent.id))]
    assert len(keys) == len(set(keys)) == 5


def test_escalation_notifies_at_once_and_downgrade_does_not(session: Session) -> None:
    assert raise_(session, "outbox-backlog", "warning", T0)
    assert raise_(session, "outbox-backlog", "critical", T0 + timedelta(minutes=1))
    assert not raise_(session, "outbox-backlog", "warning", T0 + timedelta(minutes=2))
    # The reminder interval now follows the current (warning) severity.
    assert not raise_(session, "outbox-backlog", "warning", T0 + timedelta(hours=2))
    assert raise_(session, "outbox-backlog", "warning", T0 + timedelta(hours=4, minutes=1))
    session.commit()
    assert [state for _k, state, _s in messages(session)] == ["firing", "escalated", "reminder"]


def test_resolving_an_unknown_key_sends_nothing(session: Session) -> None:
    assert resolve_alert(session, key="never-raised", now=T0) is False
    session.commit()
    assert messages(session) == []


def test_rollback_leaves_no_state_and_no_message(session: Session) -> None:
    raise_(session, "k", "info", T0)
    session.rollback()
    assert raise_(session, "k", "info", T0 + timedelta(minutes=1)) is True
    session.commit()
    assert messages(session) == [("k", "firing", "info")]


@pytest.mark.parametrize(("key", "severity"), [("", "info"), ("k" * 201, "info"), ("k", "fatal")])
def test_bad_alerts_are_refused(session: Session, key: str, severity: str) -> None:
    with pytest.raises(InvalidInput):
        raise_(session, key, severity, T0)


def test_long_text_is_clipped_and_hostile_text_kept_verbatim(session: Session) -> None:
    raise_(session, "k", "warning", T0, text="<b>&" + "x" * 5000)
    session.commit()
    payload = session.scalars(select(OutboxEvent)).one().payload
    assert payload["text"].startswith("<b>&")
    assert len(payload["text"]) == 3000


def test_reminders_follow_the_context_settings(ctx: AppContext) -> None:
    """Callers that hold only a session get the reminder intervals of the context that opened it."""
    ctx.settings.install(AlertSettings(ALERT_REMIND_CRITICAL_MINUTES=5))  # type: ignore[call-arg]
    with ctx.session_factory() as session:
        at = {"key": "k", "severity": "critical", "title": "t", "text": "x"}
        assert raise_alert(session, **at, now=T0)  # type: ignore[arg-type]
        assert not raise_alert(session, **at, now=T0 + timedelta(minutes=4))  # type: ignore[arg-type]
        assert raise_alert(session, **at, now=T0 + timedelta(minutes=5))  # type: ignore[arg-type]
