"""Feedback page: bounce series from the stat buckets, top diagnostics with their rule and dead letters
from the stored accounting data, the suppression list through the API's service (search, add, remove,
spreadsheet-safe export), refusals as the service's sentences."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.auth.models import AuditEntry
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.ingest import ForwardPolicy, ingest_batch
from email_engine.feedback.models import StatBucket, Suppression
from email_engine.feedback.records import IngestRecord
from email_engine.feedback.webhook import batch_items
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


def test_top_diagnostics_with_their_rule_and_dead_letters(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    """Accounting CSV through the real parser and ingest: the page lists the bounce diagnostics most
    seen with the rule the classifier chose (as stored in the outcome dictionary) and the dead letter."""
    logged = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S+0000")
    unknown = "smtp;550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
    banned = "smtp;550 5.7.606 Access denied, banned sending IP [192.0.2.10]"
    body = "type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat,dlvSourceIp,vmta\r\n" + "".join(
        f'b,{logged},{name}@example.com,5.1.1,"{unknown}",bad-mailbox,192.0.2.10,vmta-a\r\n'
        for name in ("one", "two", "three")
    )
    body += f'b,{logged},four@example.org,5.7.606,"{banned}",bad-mailbox,192.0.2.10,vmta-a\r\n'
    quoted = "smtp;550 5.1.1 <six@example.com>: Recipient address rejected: User unknown"
    body += f'b,{logged},six@example.com,5.1.1,"{quoted}",bad-mailbox,192.0.2.10,vmta-a\r\n'
    body += f"d,{logged},five@example.net,2.0.0,smtp;250 ok,,192.0.2.10,vmta-a\r\n"
    body += "this line is <b>garbage</b>\r\n"
    items = list(batch_items(body.encode(), stream="webhook"))
    records = [item for item in items if isinstance(item, IngestRecord)]
    letters = [item for item in items if not isinstance(item, IngestRecord)]
    with ctx.session_factory() as session:
        ingest_batch(session, records, letters, source="webhook", now=utcnow(), forward=ForwardPolicy())
        session.commit()
    user_unknown = classify_bounce("5.1.1", unknown.removeprefix("smtp;"), bounce_cat="bad-mailbox")
    ip_banned = classify_bounce("5.7.606", banned.removeprefix("smtp;"), bounce_cat="bad-mailbox")
    assert user_unknown.rule != ip_banned.rule  # two different rules decided
    # The quoted-recipient text is the same cause: the same rule, another text.
    assert classify_bounce("5.1.1", quoted.removeprefix("smtp;"), bounce_cat="bad-mailbox") == user_unknown

    page = login(Role.VIEWER).get("/ui/feedback")
    assert page.status_code == 200
    rows = re.findall(
        r"<tr><td>(\d+)</td><td>([^<]*)</td><td><code>([^<]*)</code></td>"
        r"<td>([^<]*)</td><td>([^<]*)</td><th scope=\"row\"><code>([^<]*)</code></th>",
        page.text,
    )
    found = [(n, status, category, kind, rule) for n, status, _, category, kind, rule in rows]
    assert found[0] == ("3", "5.1.1", user_unknown.category, user_unknown.type, user_unknown.rule)
    assert sorted(found[1:]) == [
        ("1", "5.1.1", user_unknown.category, user_unknown.type, user_unknown.rule),
        ("1", "5.7.606", ip_banned.category, ip_banned.type, ip_banned.rule),
    ]
    assert "User unknown in virtual mailbox table" in rows[0][2]
    # By rule: the two user-unknown texts counted together.
    by_rule = re.findall(
        r'<tr><td>(\d+)</td><th scope="row"><code>([^<]*)</code></th><td>([^<]*)</td><td>([^<]*)</td>'
        r"<td>(\d+)</td><td><code>([^<]*)</code></td></tr>",
        page.text,
    )
    assert [row[:5] for row in by_rule] == [
        ("4", user_unknown.rule, user_unknown.category, user_unknown.type, "2"),
        ("1", ip_banned.rule, ip_banned.category, ip_banned.type, "1"),
    ]
    # The dead letter: its line number, the reason, the raw line escaped.
    section = page.text.split('id="dead-letters"', 1)[1].split("</section>", 1)[0]
    assert "1 line that was not an accounting record" in section
    assert "<td>8</td>" in section
    assert "this line is &lt;b&gt;garbage&lt;/b&gt;" in section


def test_feedback_page_without_bounces_or_dead_letters_says_so(login: Callable[[Role], TestClient]) -> None:
    page = login(Role.VIEWER).get("/ui/feedback").text
    assert "No bounces in the last 24 hours." in page
    assert "No dead letters: every accounting line received so far was a valid record." in page
