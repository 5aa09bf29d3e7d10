"""A warmup plan as chart days (pure): the plan's detail (``warmup.service.plan_detail``) and the
IP's accounting per day in, :class:`~email_engine.console.charts.ChartDay` rows out."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from email_engine.console.charts import ChartDay

__all__ = ["MAX_CHART_DAYS", "chart_days", "plan_span"]

MAX_CHART_DAYS = 120


def plan_span(detail: Mapping[str, Any], today: date) -> tuple[date, date] | None:
    """First and last calendar day the chart shows (None before the plan started): the whole curve
    from the start day, and any day past it the plan has really taken (held days push it later)."""
    days = detail["days"]
    if not days:
        return None
    first = days[0]["day"]
    last = max(first + timedelta(days=len(detail["curve"]) - 1), days[-1]["day"], today)
    return first, min(last, first + timedelta(days=MAX_CHART_DAYS - 1))


def _note(row: Mapping[str, Any]) -> str:
    failed = [gate for gate in row.get("gates") or [] if not gate.get("passed", True)]
    if failed:
        return "; ".join(f"{gate['name']}: {gate['reason']}" for gate in failed)
    return "; ".join(str(reason) for reason in row.get("reasons") or [])


def chart_days(detail: Mapping[str, Any], sent_by_day: Mapping[date, int], today: date) -> list[ChartDay]:
    """One entry per calendar day since the plan started: the curve's point (as if every day had
    advanced), the limit the plan decided, the IP's sends (accounting), and held/paused days with the
    gate that decided and why."""
    span = plan_span(detail, today)
    if span is None:
        return []
    first, last = span
    curve: list[int] = list(detail["curve"])
    rows = {row["day"]: row for row in detail["days"]}
    result = []
    for offset in range((last - first).days + 1):
        day = first + timedelta(days=offset)
        row = rows.get(day)
        result.append(
            ChartDay(
                label=day.isoformat(),
                planned=curve[offset] if offset < len(curve) else None,
                limit=row["daily_limit"] if row else None,
                sent=sent_by_day.get(day, 0) if day <= today else None,
                decision=row["decision"] if row else None,
                note=_note(row) if row else "",
            )
        )
    return result
