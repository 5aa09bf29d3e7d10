"""CSV exports of the feedback data: dead letters and per-dimension stats (``GET ….csv``).

Every cell goes through :mod:`email_engine.csv_export`, like the suppression export: dead letters hold
whatever garbage reached the pipe and stats keys come from recipient addresses, so both may carry
spreadsheet formulas.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from sqlalchemy import select

from email_engine.clock import utcnow
from email_engine.csv_export import csv_chunks
from email_engine.deps import ContextDep
from email_engine.feedback import stats
from email_engine.feedback.aggregate import COUNTERS
from email_engine.feedback.models import DeadLetterRow

__all__ = ["router"]

# Included by feedback/router.py into its /api/v1 router.
router = APIRouter(tags=["feedback"])

_PAGE = 2000
# Counts first, then the rates that stats.rates adds to each window.
_STATS_COLUMNS = (*COUNTERS, "bounce_rate", "hard_bounce_rate", "block_rate", "complaint_rate")


def _csv_response(chunks: Iterator[str], filename: str) -> StreamingResponse:
    return StreamingResponse(
        chunks,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/dead-letters.csv",
    summary="Export dead letters as CSV (spreadsheet-safe)",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}}},
)
def export_dead_letters(
    ctx: ContextDep, source: Annotated[str | None, Query(max_length=64)] = None
) -> StreamingResponse:
    """Newest first. Cells that a spreadsheet would run as a formula are prefixed with `'`."""

    def rows() -> Iterator[tuple[object, ...]]:
        with ctx.session_factory() as session:
            last_id: int | None = None
            while True:
                query = select(DeadLetterRow).order_by(DeadLetterRow.id.desc()).limit(_PAGE)
                if source:
                    query = query.where(DeadLetterRow.source == source)
                if last_id is not None:
                    query = query.where(DeadLetterRow.id < last_id)
                page = session.scalars(query).all()
                for row in page:
                    yield row.id, row.created_at.isoformat(), row.source, row.line_number, row.reason, row.raw
                if len(page) < _PAGE:
                    return
                last_id = page[-1].id

    header = ("id", "created_at", "source", "line_number", "reason", "raw")
    return _csv_response(csv_chunks(header, rows(), rows_per_chunk=_PAGE), "dead-letters.csv")


def _stats_export(dimension: str, filename: str) -> Any:
    def export(ctx: ContextDep) -> StreamingResponse:
        """Every key with its counts and rates per window (1h, 24h, 7d), busiest first."""

        def rows() -> Iterator[list[object]]:
            now = utcnow()
            offset = 0
            with ctx.session_factory() as session:
                while True:
                    _total, page = stats.dimension_rows(
                        session, dimension=dimension, now=now, limit=_PAGE, offset=offset
                    )
                    for item in page:
                        for window, values in item["windows"].items():
                            yield [item["key"], window, *(values[name] for name in _STATS_COLUMNS)]
                    if len(page) < _PAGE:
                        return
                    offset += _PAGE

        return _csv_response(csv_chunks(("key", "window", *_STATS_COLUMNS), rows()), filename)

    return export


for _path, _dimension in stats.PUBLIC_DIMENSIONS.items():
    router.add_api_route(
        f"/stats/{_path}.csv",
        _stats_export(_dimension, f"stats-{_path}.csv"),
        methods=["GET"],
        response_class=StreamingResponse,
        responses={200: {"content": {"text/csv": {}}}},
        summary=f"Export per-{_dimension} stats as CSV (spreadsheet-safe)",
    )
