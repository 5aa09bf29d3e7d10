"""``/ui/feedback``: bounces by category, type and provider over the last two weeks (SVG), the top
bounce diagnostics with the rule that classified them, the newest dead letters, and the suppression
list (search, add, remove, CSV export) — the API's service calls."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session
from starlette.responses import Response

from email_engine.clock import utcnow
from email_engine.console.charts import sparkline
from email_engine.console.web import (
    ConsoleRoute,
    OperatorViewer,
    Viewer,
    ViewerDep,
    audit,
    error_status,
    field,
    redirect,
    show,
)
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import EmailEngineError
from email_engine.feedback import listings, stats, suppression

__all__ = ["DAYS", "DIAGNOSTIC_HOURS", "router"]

router = APIRouter(route_class=ConsoleRoute)

DAYS = 14
PAGE = 100
#: The top diagnostics cover the last day (a scan of that day's records, grouped by outcome).
DIAGNOSTIC_HOURS = 24
TOP_DIAGNOSTICS = 15
DEAD_LETTERS = 20
RAW_SHOWN = 300


def _series(
    daily: dict[str, dict[date, dict[str, int]]], days: list[date], counter: str, what: str
) -> list[dict[str, Any]]:
    rows = []
    for key, per_day in daily.items():
        values = [per_day.get(day, {}).get(counter, 0) for day in days]
        if any(values):
            rows.append(
                {
                    "key": key,
                    "total": sum(values),
                    "today": values[-1],
                    "spark": sparkline(values, label=f"{key}: {what} per day over {len(days)} days"),
                }
            )
    return sorted(rows, key=lambda row: (-row["total"], row["key"]))


def _feedback_page(
    request: Request,
    session: Session,
    viewer: Viewer,
    *,
    q: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    today = utcnow().astimezone(UTC).date()
    days = [today - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]

    def daily(dimension: str) -> dict[str, dict[date, dict[str, int]]]:
        return stats.daily_key_totals(session, dimension=dimension, first_day=days[0], last_day=today)

    totals = daily("all").get("*", {})
    by_type = [
        {
            "key": name,
            "total": sum(totals.get(day, {}).get(name, 0) for day in days),
            "today": totals.get(today, {}).get(name, 0),
            "spark": sparkline(
                [totals.get(day, {}).get(name, 0) for day in days], label=f"{name} bounces per day"
            ),
        }
        for name in ("hard", "soft", "block")
    ]
    total, rows = suppression.list_suppressions(session, limit=PAGE, offset=0, query=q)
    now = utcnow()
    diagnostics = listings.top_diagnostics(
        session, since=now - timedelta(hours=DIAGNOSTIC_HOURS), until=now, limit=TOP_DIAGNOSTICS
    )
    rules = listings.top_rules(
        session, since=now - timedelta(hours=DIAGNOSTIC_HOURS), until=now, limit=TOP_DIAGNOSTICS
    )
    dead_total, dead_letters = listings.list_dead_letters(session, limit=DEAD_LETTERS, offset=0)
    form = getattr(request.state, "form", None)
    return show(
        request,
        "feedback.html",
        viewer,
        {
            "title": "Feedback",
            "days": DAYS,
            "by_category": _series(daily("category"), days, "bounced", "bounces"),
            "by_type": by_type,
            "by_provider": _series(daily("provider"), days, "bounced", "bounces"),
            "diagnostics": diagnostics,
            "rules": rules,
            "diagnostic_hours": DIAGNOSTIC_HOURS,
            "dead_letters": [
                {
                    "created_at": row.created_at,
                    "source": row.source,
                    "line_number": row.line_number,
                    "reason": row.reason,
                    "raw": row.raw[:RAW_SHOWN] + ("…" if len(row.raw) > RAW_SHOWN else ""),
                }
                for row in dead_letters
            ],
            "dead_total": dead_total,
            "suppressions": rows,
            "suppressions_total": total,
            "q": q or "",
            "reasons": suppression.REASONS,
            "form": form or {},
        },
        error=error,
        status=status,
    )


@router.get("/feedback")
def feedback(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    q: Annotated[str | None, Query(max_length=320)] = None,
) -> Response:
    return _feedback_page(request, session, viewer, q=q)


@router.post("/feedback/suppressions")
def add_suppression(request: Request, viewer: OperatorViewer, session: SessionDep) -> Response:
    """``POST /api/v1/suppressions``."""
    audit(request, "suppressions.add", "POST /api/v1/suppressions")
    try:
        row = suppression.add_suppression(
            session,
            value=field(request, "value", max_length=320),
            reason=field(request, "reason", max_length=32),
            source=f"api:{viewer.name}"[:64],
            note=field(request, "note", required=False, max_length=500) or None,
            now=utcnow(),
        )
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _feedback_page(request, session, viewer, error=exc.detail, status=error_status(exc))
    return redirect("/ui/feedback", flash=f"{row.value} is suppressed ({row.reason}).")


@router.post("/feedback/suppressions/remove")
def remove_suppression(request: Request, viewer: OperatorViewer, session: SessionDep) -> Response:
    """``DELETE /api/v1/suppressions/{value}``."""
    audit(request, "suppressions.remove", "DELETE /api/v1/suppressions/{value}")
    try:
        row = suppression.remove_suppression(session, value=field(request, "value", max_length=320))
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _feedback_page(request, session, viewer, error=exc.detail, status=error_status(exc))
    return redirect("/ui/feedback", flash=f"{row.value} is no longer suppressed.")


@router.get("/feedback/suppressions.csv")
def export_suppressions(_viewer: ViewerDep, ctx: ContextDep) -> Response:
    """``GET /api/v1/suppressions.csv``: spreadsheet-safe (``email_engine.csv_export``)."""

    def chunks() -> Iterator[str]:
        with ctx.session_factory() as session:
            yield from suppression.export_csv(session)

    return StreamingResponse(
        chunks(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="suppressions.csv"'},
    )
