"""A generated accounting file through the real ``email-engine pipe`` → the stats report each valid record once.

Size: FEEDBACK_E2E_RECORDS (default 20,000; the issue's 200,000 with FEEDBACK_E2E_RECORDS=200000).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.feedback.aggregate import hour_of
from email_engine.feedback.models import AccountingRow, DeadLetterRow
from tests.integration.feedback.expectations import expected_summary
from tests.integration.feedback.generate import write_file

RECORDS = int(os.environ.get("FEEDBACK_E2E_RECORDS", "20000"))


def _summary(client: TestClient, headers: dict[str, str], start: Any) -> dict[str, Any]:
    response = client.get(
        "/api/v1/stats/summary",
        params={"since": start.isoformat(), "until": (start + timedelta(days=1)).isoformat()},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_generated_file_is_stored_once_with_dead_letters(
    tmp_path: Path, run_pipe: Any, client: TestClient, viewer_headers: dict[str, str], session: Session
) -> None:
    start = hour_of(utcnow() - timedelta(hours=3))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=RECORDS, base=start + timedelta(minutes=5))
    assert expected.duplicate_lines > 0 and expected.garbage_lines

    done = run_pipe(path, "--json")
    assert done.returncode == 0, done.stderr.decode()[-2000:]

    summary = _summary(client, viewer_headers, start)
    want = expected_summary(expected)
    for name in ("sent", "delivered", "bounced", "complaints", "deferred", "by_type", "by_category"):
        assert summary[name] == want[name], name
    assert session.scalar(select(func.count()).select_from(AccountingRow)) == len(expected.valid)

    letters = client.get("/api/v1/dead-letters", params={"limit": 500}, headers=viewer_headers).json()
    assert sorted(item["line_number"] for item in letters["items"]) == expected.garbage_lines
    assert all(item["reason"] for item in letters["items"])

    # The same file again (PowerMTA re-piping, an operator replaying a file): nothing counts twice.
    again = run_pipe(path, "--json")
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    assert _summary(client, viewer_headers, start) == summary
    assert session.scalar(select(func.count()).select_from(DeadLetterRow)) == len(expected.garbage_lines)
    assert not list((tmp_path / "spool").glob("*.batch"))


def test_per_key_rows_cover_every_dimension(
    tmp_path: Path, run_pipe: Any, client: TestClient, viewer_headers: dict[str, str]
) -> None:
    start = hour_of(utcnow() - timedelta(hours=2))
    path = tmp_path / "small.csv"
    expected = write_file(path, records=3000, base=start + timedelta(minutes=1))
    assert run_pipe(path).returncode == 0
    want = expected_summary(expected)
    for endpoint in ("domains", "ips", "providers", "vmtas", "sender-domains"):
        page = client.get(f"/api/v1/stats/{endpoint}", headers=viewer_headers).json()
        assert page["items"], endpoint
        sent_24h = sum(row["windows"]["24h"]["sent"] for row in page["items"])
        assert sent_24h == want["sent"], endpoint
        for row in page["items"]:
            window = row["windows"]["7d"]
            assert window["sent"] >= row["windows"]["24h"]["sent"] >= row["windows"]["1h"]["sent"]
            if window["sent"]:
                assert window["bounce_rate"] == round(window["bounced"] / window["sent"], 6)


def test_production_with_weak_secrets_still_stores_records(
    tmp_path: Path, run_pipe: Any, session: Session
) -> None:
    """Production refuses weak secrets everywhere else; the pipe uses none, and stopping it would stop
    PowerMTA's records reaching the spool."""
    start = hour_of(utcnow() - timedelta(hours=3))
    path = tmp_path / "acct.csv"
    expected = write_file(path, records=50, base=start + timedelta(minutes=5))

    done = run_pipe(path, "--json", ENVIRONMENT="production", API_KEY="short", JWT_SECRET_KEY="change-me")
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert session.scalar(select(func.count()).select_from(AccountingRow)) == len(expected.valid)
