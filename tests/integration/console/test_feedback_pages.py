"""Feedback page: bounce series from the stat buckets, the suppression list through the API's service
(search, add, remove, spreadsheet-safe export), refusals as the service's sentences."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.auth.models import AuditEntry
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.feedback.models import StatBucket, Suppression
from tests.integration.console.conftest import csrf_of


def test_bounces_per_category_type_and_provider(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    now = utcnow()
    hour = datetime(now.year, now.month, now.day, now.hour, tzinfo=UTC)
    counts = dict(sent=0, delivered=0, hard=0, soft=0, block=0, complaints=0, deferred=0)
    with ctx.session_factory() as session:
        session.add(
            StatBucket(hour=hour, dimension="category", key="spam-related", **{**counts, "bounced": 7})
        )
        session.add(StatBucket(hour=hour, dimension="provider", key="gmail", **{**counts, "bounced": 5}))
        session.add(
            StatBucket(hour=hour, dimension="all", key="*", **{**counts, "bounced": 9, "hard": 4, "block": 3})
        )
        session.commit()
    page = login(Role.VIEWER).get("/ui/feedback").text
    assert "spam-related" in page and "gmail" in page
    assert page.count('<svg class="spark"') == 5  # hard, soft, block, one provider, one category
    assert "The suppression list is empty" in page
    assert 'action="/ui/feedback/suppressions"' not in page  # a viewer gets no form


def test_suppressions_add_search_remove_export(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    client = login(Role.OPERATOR)
    token = csrf_of(client.get("/ui/feedback").text)
    added = client.post(
        "/ui/feedback/suppressions",
        data={"csrf_token": token, "value": "Jane@Example.org", "reason": "manual", "note": "=HYPERLINK(1)"},
    )
    assert added.status_code == 303
    assert "jane@example.org is suppressed (manual)." in client.get("/ui/feedback").text
    bad = client.post(
        "/ui/feedback/suppressions", data={"csrf_token": token, "value": "x@y.org", "reason": "whim"}
    )
    assert bad.status_code == 422 and "Unknown reason &#39;whim&#39;" in bad.text
    assert "jane@example.org" in client.get("/ui/feedback?q=jane").text
    assert "Nothing on the list matches" in client.get("/ui/feedback?q=bob").text
    export = client.get("/ui/feedback/suppressions.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert '"\'=HYPERLINK(1)"' in export.text  # spreadsheet-safe, as the API's export
    removed = client.post(
        "/ui/feedback/suppressions/remove", data={"csrf_token": token, "value": "jane@example.org"}
    )
    assert removed.status_code == 303
    again = client.post(
        "/ui/feedback/suppressions/remove", data={"csrf_token": token, "value": "jane@example.org"}
    )
    assert again.status_code == 404 and "is not on the suppression list" in again.text
    with ctx.session_factory() as session:
        assert session.scalars(select(Suppression)).all() == []
        actions = session.scalars(
            select(AuditEntry.details).where(AuditEntry.target.like("/ui/feedback/%")).order_by(AuditEntry.id)
        ).all()
    assert [a["console"] for a in actions] == [
        "suppressions.add",
        "suppressions.add",
        "suppressions.remove",
        "suppressions.remove",
    ]


def test_viewer_cannot_change_the_list(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    client = login(Role.VIEWER)
    token = csrf_of(client.get("/ui/feedback").text)
    answer = client.post(
        "/ui/feedback/suppressions", data={"csrf_token": token, "value": "a@b.org", "reason": "manual"}
    )
    assert answer.status_code == 403
    with ctx.session_factory() as session:
        assert session.scalars(select(Suppression)).all() == []
