"""Two transitions of one IP at the same time: exactly one wins, the other is a clear Conflict."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from sqlalchemy import func, select

from email_engine.context import AppContext
from email_engine.errors import Conflict
from email_engine.ips import service
from email_engine.ips.models import IpTransition, SendingIp

NOW = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_racing_transitions_record_one_move(ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        ip = service.create_ip(
            session,
            address="192.0.2.50",
            hostname="m50.example.com",
            purpose="cold",
            vmta_name="v50",
            actor="test",
            now=NOW,
        )
        session.commit()
        ip_id = ip.id
    first_moved = threading.Event()
    outcomes: dict[str, object] = {}

    def first() -> None:
        with ctx.session_factory() as session:
            service.transition_ip(session, ip_id=ip_id, to_state="warming", reason="a", actor="a", now=NOW)
            first_moved.set()
            time.sleep(0.5)  # hold the change uncommitted while the second one starts
            session.commit()
            outcomes["first"] = "ok"

    def second() -> None:
        first_moved.wait(10)
        with ctx.session_factory() as session:
            try:
                service.transition_ip(
                    session, ip_id=ip_id, to_state="warming", reason="b", actor="b", now=NOW
                )
                session.commit()
                outcomes["second"] = "ok"
            except Conflict as exc:
                session.rollback()
                outcomes["second"] = exc

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes["first"] == "ok"
    assert isinstance(outcomes["second"], Conflict)
    with ctx.session_factory() as session:
        moves = session.scalar(
            select(func.count()).select_from(IpTransition).where(IpTransition.to_state == "warming")
        )
        assert moves == 1
        assert session.get(SendingIp, ip_id).state == "warming"  # type: ignore[union-attr]
