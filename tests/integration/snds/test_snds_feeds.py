"""The SNDS adapter against a local server shaped as SNDS documents its feeds (tests/support/snds_server.py
cites the pages): days stored per IP, fetching again changes nothing, error / empty / malformed days,
a wrong key, and the key never written anywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import DependencyUnavailable
from email_engine.integrations.snds import service
from email_engine.integrations.snds.jobs import run_snds
from email_engine.integrations.snds.models import SndsBlock, SndsIpDay
from email_engine.integrations.snds.settings import SndsSettings
from tests.support.snds_server import SndsServer, data_line

NOW = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def options(server: SndsServer, **extra: Any) -> SndsSettings:
    values: dict[str, Any] = {
        "SNDS_KEY": server.key,
        "SNDS_BASE_URL": server.url + "/snds",
        "SNDS_TIMEOUT": 5,
    }
    values.update(extra)
    return SndsSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def snds() -> Any:
    with SndsServer() as server:
        yield server


def test_days_are_stored_and_fetching_again_changes_nothing(session: Session, snds: SndsServer) -> None:
    snds.days["latest"] = "\r\n".join(
        [
            data_line("192.0.2.10", date(2026, 3, 4)),
            data_line("192.0.2.11", date(2026, 3, 4), filter_result="RED", trap_hits=2),
        ]
    )
    snds.days["030326"] = data_line("192.0.2.10", date(2026, 3, 3), filter_result="YELLOW", complaint="0.4%")
    snds.days["030226"] = ""  # a day without data: nothing, no error
    snds.days["030126"] = (500, "Internal Server Error")
    snds.status = "192.0.2.11,192.0.2.11,Yes,Blocked due to user complaints or other evidence of spamming\r\n"

    summary = service.fetch_and_store(session, options(snds, SNDS_BACKFILL_DAYS=4), now=NOW)
    session.commit()
    assert summary["rows"] == 3 and summary["blocked_ranges"] == 1
    assert summary["errors"] == ["data 2026-03-01: SNDS data.aspx answered HTTP 500."]
    rows = {(r.ip, r.day): r for r in session.scalars(select(SndsIpDay))}
    assert set(rows) == {
        ("192.0.2.10", date(2026, 3, 4)),
        ("192.0.2.11", date(2026, 3, 4)),
        ("192.0.2.10", date(2026, 3, 3)),
    }
    red = rows[("192.0.2.11", date(2026, 3, 4))]
    assert (red.filter_result, red.trap_hits, red.trap_message_start) == ("RED", 2, "3/4/2026 9:14 AM")
    yellow = rows[("192.0.2.10", date(2026, 3, 3))]
    assert (yellow.filter_result, yellow.complaint_rate, yellow.complaint_below) == ("YELLOW", 0.004, False)
    assert [(b.first_ip, b.blocked) for b in service.blocked_ranges(session)] == [("192.0.2.11", True)]
    dates_asked = sorted(
        r.query.get("date", ["latest"])[0] for r in snds.requests if r.path.endswith("data.aspx")
    )
    assert dates_asked == ["030126", "030226", "030326", "030426", "latest"]

    service.fetch_and_store(session, options(snds), now=NOW)
    session.commit()
    assert session.scalar(select(func.count()).select_from(SndsIpDay)) == 3
    assert session.scalar(select(func.count()).select_from(SndsBlock)) == 1


def test_malformed_lines_are_reported_and_the_rest_stored(session: Session, snds: SndsServer) -> None:
    snds.days["latest"] = "\r\n".join(
        [
            data_line("192.0.2.20", date(2026, 3, 4), extra=("a column SNDS added later",)),
            "garbage line without commas",
            "192.0.2.21,3/4/2026 8:00 AM,3/4/2026 9:00 PM,many,1,1,GREEN,< 0.1%,,,0,,,",
        ]
    )
    summary = service.fetch_and_store(session, options(snds, SNDS_BACKFILL_DAYS=0), now=NOW)
    assert summary["rows"] == 1
    assert summary["problems"] == [
        "data latest line 2: 'garbage line without commas' is not an IP address",
        "data latest line 3: RCPT commands 'many' is not a number",
    ]
    stored = session.scalar(select(SndsIpDay))
    assert stored is not None and stored.extra == {"column_15": "a column SNDS added later"}


def test_wrong_key_is_a_clear_error_and_the_key_is_never_logged(
    session: Session, snds: SndsServer, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = options(snds, SNDS_KEY="11111111-2222-3333-4444-555555555555", SNDS_BACKFILL_DAYS=0)
    with pytest.raises(DependencyUnavailable, match="check SNDS_KEY") as caught:
        service.fetch_and_store(session, wrong, now=NOW)
    assert session.scalar(select(func.count()).select_from(SndsIpDay)) == 0
    output = capsys.readouterr()
    for text in (caught.value.detail, output.out, output.err):
        assert "11111111-2222" not in text and snds.key not in text


def test_unreachable_snds_fails_the_run_without_touching_stored_data(
    session: Session, snds: SndsServer
) -> None:
    snds.days["latest"] = data_line("192.0.2.30", date(2026, 3, 4))
    snds.status = "192.0.2.30,192.0.2.30,Yes,blocked\r\n"
    service.fetch_and_store(session, options(snds, SNDS_BACKFILL_DAYS=0), now=NOW)
    session.commit()
    snds.down()
    with pytest.raises(DependencyUnavailable, match="did not answer"):
        service.fetch_and_store(session, options(snds, SNDS_BACKFILL_DAYS=0), now=NOW)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(SndsIpDay)) == 1
    assert session.scalar(select(func.count()).select_from(SndsBlock)) == 1


def test_job_skips_without_a_key_and_runs_with_one(ctx: AppContext, snds: SndsServer) -> None:
    ctx.settings.install(SndsSettings(_env_file=None))  # type: ignore[call-arg]
    assert run_snds(ctx, NOW) == {"skipped": "SNDS_KEY is not set"}
    snds.days["latest"] = data_line("192.0.2.40", date(2026, 3, 4))
    ctx.settings.install(options(snds, SNDS_BACKFILL_DAYS=0))
    assert run_snds(ctx, NOW)["rows"] == 1
