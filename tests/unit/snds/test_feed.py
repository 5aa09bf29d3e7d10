"""The SNDS feeds read defensively: rows as documented, a header if one appears, extra and missing
columns, unreadable lines reported while the others count.

Shapes: SNDS FAQ (https://sendersupport.olc.protection.outlook.com/snds/FAQ.aspx) and automated
access page (…/snds/auto.aspx); the example lines are sndslib's fixtures (undersfx/sndslib,
tests/conftest.py), which are served SNDS answers with TEST-NET-like addresses.
"""

from __future__ import annotations

from datetime import date

import pytest

from email_engine.integrations.snds.feed import (
    BlockedRange,
    FilterResult,
    parse_data_feed,
    parse_ip_status,
    parse_rate,
)

SNDSLIB_DATA = (
    "1.1.1.0,12/31/2019 8:00 AM,9/29/2020 9:00 PM,14129,14129,13025,GREEN,< 0.1%,9/29/2020 8:07 AM,9/29/2020 12:03 PM,41,,,\r\n"
    "1.1.1.1,12/31/2019 9:00 PM,9/29/2020 9:00 PM,47386,47386,47384,YELLOW,< 0.1%,9/28/2020 9:08 PM,9/29/2020 8:09 PM,40,,,\r\n"
    "1.1.1.2,12/31/2019 9:00 PM,9/29/2020 9:00 PM,14121,14121,12960,RED,< 0.1%,9/29/2020 8:07 AM,9/29/2020 11:53 AM,26,,,"
)
SNDSLIB_STATUS = (
    "1.1.1.0,1.1.1.1,Yes,Blocked due to user complaints or other evidence of spamming\r\n"
    "1.1.1.2,1.1.1.3,Yes,Blocked due to user complaints or other evidence of spamming\r\n"
    "1.1.1.4,1.1.1.5,Yes,Blocked due to user complaints or other evidence of spamming"
)


def test_sndslib_fixture_lines() -> None:
    rows, problems = parse_data_feed(SNDSLIB_DATA)
    assert problems == []
    assert [(r.ip, r.day, r.filter_result, r.trap_hits, r.message_recipients) for r in rows] == [
        ("1.1.1.0", date(2020, 9, 29), FilterResult.GREEN, 41, 13025),
        ("1.1.1.1", date(2020, 9, 29), FilterResult.YELLOW, 40, 47384),
        ("1.1.1.2", date(2020, 9, 29), FilterResult.RED, 26, 12960),
    ]
    first = rows[0]
    assert (first.rcpt_commands, first.data_commands) == (14129, 14129)
    assert (first.complaint_rate, first.complaint_below, first.complaint_text) == (0.001, True, "< 0.1%")
    assert (first.trap_message_start, first.trap_message_end) == ("9/29/2020 8:07 AM", "9/29/2020 12:03 PM")
    assert first.extra == {}


def test_asked_date_wins_over_activity_dates() -> None:
    rows, _ = parse_data_feed(SNDSLIB_DATA, day=date(2020, 9, 28))
    assert {row.day for row in rows} == {date(2020, 9, 28)}


def test_unknown_columns_kept_missing_tolerated_bad_lines_reported() -> None:
    text = (
        "192.0.2.1,3/1/2026 8:00 AM,3/1/2026 9:00 PM,100,100,100,GREEN,0.3%,,,0,helo.test,,,NEW-COLUMN,another\r\n"
        "192.0.2.2,3/1/2026 8:00 AM,3/1/2026 9:00 PM,50,50,50,RED\r\n"  # stops after the filter result
        "not-an-ip,3/1/2026 8:00 AM,3/1/2026 9:00 PM,1,1,1,GREEN,< 0.1%,,,0,,,\r\n"
        "192.0.2.3,3/1/2026 8:00 AM,3/1/2026 9:00 PM,lots,1,1,GREEN,< 0.1%,,,0,,,\r\n"
        "192.0.2.4,3/1/2026 8:00 AM,3/1/2026 9:00 PM,1,1,1,PURPLE,< 0.1%,,,0,,,\r\n"
        "192.0.2.5,someday,never,1,1,1,GREEN,< 0.1%,,,0,,,\r\n"
        "\r\n"
    )
    rows, problems = parse_data_feed(text)
    assert [row.ip for row in rows] == ["192.0.2.1", "192.0.2.2"]
    assert rows[0].extra == {"column_15": "NEW-COLUMN", "column_16": "another"}
    assert (rows[0].complaint_rate, rows[0].complaint_below) == (0.003, False)
    assert (
        rows[1].filter_result is FilterResult.RED
        and rows[1].trap_hits is None
        and rows[1].complaint_rate is None
    )
    assert [(p.line, p.reason) for p in problems] == [
        (3, "'not-an-ip' is not an IP address"),
        (4, "RCPT commands 'lots' is not a number"),
        (5, "filter result 'PURPLE' is not GREEN, YELLOW or RED"),
        (6, "the activity period has no readable date (M/D/YYYY h:mm AM)"),
    ]


def test_a_header_line_maps_columns_by_name_in_any_order() -> None:
    text = (
        "Filter Result,IP Address,Activity End,Trap Hits,Complaint Rate,Brand New\r\n"
        "YELLOW,2001:db8::5,3/2/2026 6:00 PM,3,1.5%,x\r\n"
    )
    rows, problems = parse_data_feed(text)
    assert problems == []
    (row,) = rows
    assert (row.ip, row.day, row.filter_result, row.trap_hits, row.complaint_rate) == (
        "2001:db8::5",
        date(2026, 3, 2),
        FilterResult.YELLOW,
        3,
        0.015,
    )
    assert row.extra == {"brand_new": "x"}


def test_empty_feed_is_no_data() -> None:
    assert parse_data_feed("") == ([], [])
    assert parse_ip_status("\r\n") == ([], [])


def test_ip_status_ranges() -> None:
    ranges, problems = parse_ip_status(SNDSLIB_STATUS + "\r\n1.1.1.9,1.1.1.8,Yes,backwards\r\n")
    assert ranges[0] == BlockedRange(
        "1.1.1.0", "1.1.1.1", True, "Blocked due to user complaints or other evidence of spamming"
    )
    assert len(ranges) == 3 and [p.line for p in problems] == [4]
    assert (
        ranges[1].covers("1.1.1.3")
        and not ranges[1].covers("1.1.1.4")
        and not ranges[1].covers("2001:db8::1")
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("< 0.1%", (0.001, True)),
        ("0.3%", (0.003, False)),
        ("12%", (0.12, False)),
        ("&lt; 0.1%", (0.001, True)),
        ("n/a", (None, False)),
    ],
)
def test_rates(text: str, expected: tuple[float | None, bool]) -> None:
    rate, below = parse_rate(text)
    assert below == expected[1]
    assert rate == pytest.approx(expected[0]) if expected[0] is not None else rate is None
