"""The console's pure pieces: warmup chart days from a plan's detail, SVG drawing (escaped text), and the
signed CSRF token."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from email_engine.config import Settings
from email_engine.console.charts import ChartDay, ListingSpan, listings_timeline, sparkline, warmup_chart
from email_engine.console.session import csrf_token, same_token
from email_engine.console.warmup_view import MAX_CHART_DAYS, chart_days, plan_span

START = date(2026, 11, 1)


def _detail(days: list[dict], curve: list[int]) -> dict:
    return {"curve": curve, "days": days}


def _row(offset: int, limit: int, decision: str, gates: list[dict] | None = None) -> dict:
    return {
        "day": START + timedelta(days=offset),
        "daily_limit": limit,
        "decision": decision,
        "reasons": [f"reason {offset}"],
        "gates": gates or [],
    }


def test_chart_days_follow_the_calendar_and_name_the_failing_gate() -> None:
    held = [
        {"name": "hard_bounce_rate", "passed": False, "reason": "3.1 % over 2 %"},
        {"name": "x", "passed": True},
    ]
    detail = _detail(
        [_row(0, 20, "start"), _row(1, 30, "advance"), _row(2, 30, "hold", held)], curve=[20, 30, 45, 70]
    )
    today = START + timedelta(days=2)
    days = chart_days(detail, {START: 18, START + timedelta(days=1): 29}, today)
    assert [d.planned for d in days] == [20, 30, 45, 70]  # the whole curve from the start day
    assert [d.limit for d in days] == [20, 30, 30, None]
    assert [d.sent for d in days] == [18, 29, 0, None]  # today counts so far; the future is unknown
    assert days[2].decision == "hold" and days[2].note == "hard_bounce_rate: 3.1 % over 2 %"
    assert days[1].note == "reason 1"


def test_span_is_bounded_and_empty_before_the_start() -> None:
    assert plan_span(_detail([], [1, 2]), START) is None
    assert chart_days(_detail([], [1, 2]), {}, START) == []
    first, last = plan_span(_detail([_row(0, 1, "start")], list(range(1, 400))), START) or (None, None)
    assert first == START and last == START + timedelta(days=MAX_CHART_DAYS - 1)


def test_svg_text_is_escaped_and_marks_carry_their_reason() -> None:
    svg = str(
        warmup_chart(
            [
                ChartDay("d1", 10, 10, 9, "start"),
                ChartDay("d2", 20, 10, 10, "hold", note="<script>alert(1)</script>"),
            ],
            title='plan "1" <b>',
        )
    )
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "&lt;b&gt;" in svg
    assert svg.count('class="mark-hold"') == 1 and svg.count('class="bar-sent"') == 2
    assert "hold — &lt;script&gt;" in svg
    spark = str(sparkline([0, 5, 10], label="gmail <x>"))
    assert 'aria-label="gmail &lt;x&gt;"' in spark and "polyline" in spark
    assert "no data" in str(sparkline([], label="empty"))


def test_csrf_token_is_bound_to_the_cookie_and_the_secret() -> None:
    one = Settings(_env_file=None, JWT_SECRET_KEY="a" * 40)  # type: ignore[call-arg]
    two = Settings(_env_file=None, JWT_SECRET_KEY="b" * 40)  # type: ignore[call-arg]
    token = csrf_token(one, "cookie-value-0123456789")
    assert same_token(one, "cookie-value-0123456789", token)
    assert not same_token(one, "another-cookie-value-0123", token)
    assert not same_token(two, "cookie-value-0123456789", token)
    assert not same_token(one, None, token) and not same_token(one, "cookie-value-0123456789", None)


def test_listings_timeline_rows_per_zone_open_episodes_reach_now_and_text_is_escaped() -> None:
    now = datetime(2026, 12, 5, 12, tzinfo=UTC)
    spans = [
        ListingSpan(
            "zen.spamhaus.org", datetime(2026, 11, 25, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC)
        ),
        ListingSpan("zen.spamhaus.org", datetime(2026, 12, 3, tzinfo=UTC), None),
        ListingSpan("<b>.example", datetime(2026, 12, 1, tzinfo=UTC), None),
    ]
    svg = str(listings_timeline(spans, now=now, title="Listings of 192.0.2.1"))
    assert svg.count("<rect") == 3 and svg.count("still listed") == 2
    assert "delisted 2026-11-30 00:00 UTC" in svg
    assert "<b>" not in svg and "&lt;b&gt;.example" in svg
    # The first episode starts at the left edge of the plot; an open one ends at its right edge (720 - 8).
    first_bar = svg.split('<rect class="bar-sent" x="', 1)[1]
    assert first_bar.startswith("170.0")
    open_bar = svg.split('<rect class="mark-pause" x="', 2)[2]
    x, width = float(open_bar.split('"')[0]), float(open_bar.split('width="', 1)[1].split('"')[0])
    assert abs(x + width - 712) < 0.5
    assert "Never seen" in str(listings_timeline([], now=now, title="none"))
