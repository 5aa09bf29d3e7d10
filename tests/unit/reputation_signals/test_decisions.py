"""Decisions from the providers' signals, as tables (issue 19, item 5)."""

from __future__ import annotations

from datetime import date

import pytest

from email_engine.reputation_signals.decisions import (
    AlignmentRow,
    GmailView,
    SignalAction,
    SignalRules,
    SndsView,
    SourceCount,
    alignment_problems,
    gmail_alert,
    list_causes,
    snds_alert,
    unknown_source_alert,
    warmup_signals,
)
from email_engine.warmup.gates import DayResult
from email_engine.warmup.plan import Decision, PlanSpec, PlanState, PlanStatus, next_step

DAY = date(2026, 3, 4)
RULES = SignalRules()
H, P = SignalAction.HOLD, SignalAction.PAUSE


def snds(
    filter_result: str | None = "GREEN",
    traps: int | None = 0,
    *,
    rate: float | None = 0.001,
    below: bool = True,
    blocked: bool = False,
) -> SndsView:
    return SndsView(
        "192.0.2.10",
        DAY,
        filter_result,
        rate,
        below,
        traps,
        blocked,
        "Blocked due to user complaints" if blocked else "",
    )


def gmail(rate: float | None) -> list[GmailView]:
    return [GmailView("example.com", DAY, rate)]


@pytest.mark.parametrize(
    ("view", "spam", "expected"),
    [
        (None, None, []),
        (snds(), None, []),
        (snds("YELLOW"), None, [("snds_yellow", H)]),
        (snds("RED"), None, [("snds_red", P)]),
        (snds("GREEN", 1), None, [("snds_traps", H)]),
        (snds("RED", 4), None, [("snds_red", P), ("snds_traps", H)]),
        (snds(None, None), None, []),  # a day without a verdict
        (snds(blocked=True), None, [("snds_blocked", P)]),
        (None, 0.0009, []),
        (None, 0.001, [("gmail_spam_rate", H)]),  # "reaches 0.1 %": at the line holds
        (None, 0.0029, [("gmail_spam_rate", H)]),
        (None, 0.003, [("gmail_spam_rate", P)]),
        (None, 0.0035, [("gmail_spam_rate", P)]),
        (snds("YELLOW"), 0.0035, [("snds_yellow", H), ("gmail_spam_rate", P)]),
    ],
)
def test_warmup_signals(
    view: SndsView | None, spam: float | None, expected: list[tuple[str, SignalAction]]
) -> None:
    signals = warmup_signals(view, gmail(spam) if spam is not None else [], RULES)
    assert [(s.name, s.action) for s in signals] == expected
    assert all(s.reason for s in signals)


def test_reasons_say_what_and_when() -> None:
    (signal,) = warmup_signals(None, gmail(0.0035), RULES)
    assert signal.reason == "Gmail 2026-03-04: spam rate of example.com is 0.35%, at or over 0.30%"
    (red,) = warmup_signals(snds("RED"), [], RULES)
    assert red.reason == "SNDS 2026-03-04: Outlook.com filtered 192.0.2.10 RED (most of its mail is spam)"


@pytest.mark.parametrize(
    ("view", "spam", "blamed"),
    [
        (snds(), None, 0),
        (snds("RED"), None, 0),  # a RED day alone is the IP's verdict, not proof about the list
        (snds(traps=2), None, 1),
        (snds(rate=0.003, below=False), None, 1),
        (snds(rate=0.001, below=True), None, 0),  # "< 0.1%"
        (None, 0.0029, 0),
        (None, 0.003, 1),
        (snds(traps=1, rate=0.004, below=False), 0.004, 3),
    ],
)
def test_list_causes(view: SndsView | None, spam: float | None, blamed: int) -> None:
    assert len(list_causes(view, gmail(spam) if spam is not None else [], RULES)) == blamed


@pytest.mark.parametrize(
    ("messages", "passed", "problems"),
    [(19, 0, 0), (20, 20, 0), (100, 98, 0), (100, 97, 1), (400, 0, 1)],
)
def test_alignment_problems(messages: int, passed: int, problems: int) -> None:
    rows = [AlignmentRow("192.0.2.10", "example.com", messages, passed, ("google.com", "Outlook.com"))]
    found = alignment_problems(rows, max_fail_rate=0.02, min_messages=20)
    assert len(found) == problems
    if found:
        assert found[0].startswith(
            f"192.0.2.10 failed DMARC alignment as example.com on {messages - passed} of {messages}"
        )
        assert "Outlook.com, google.com" in found[0]


def test_unknown_source_alert_threshold_and_top_sources() -> None:
    sources = [
        SourceCount(f"203.0.113.{n}", "x.example" if n == 1 else None, n * 10, 0, ("google.com",))
        for n in range(1, 8)
    ]
    assert unknown_source_alert("example.com", DAY, sources, threshold=280) is None  # 280 messages: not over
    alert = unknown_source_alert("example.com", DAY, sources, threshold=279, top=3)
    assert alert is not None and alert.severity == "warning"
    lines = alert.text.splitlines()[1:]
    assert [line.split(":")[0] for line in lines] == ["203.0.113.7", "203.0.113.6", "203.0.113.5"]
    assert "280 messages with From: example.com from 7 IPs" in alert.text


def test_alert_texts_and_severity() -> None:
    assert snds_alert(snds(), RULES) is None
    yellow = snds_alert(snds("YELLOW"), RULES)
    red = snds_alert(snds("RED", 3), RULES)
    assert yellow is not None and yellow.severity == "warning"
    assert (
        red is not None and red.severity == "critical" and "filter result RED, 3 spam-trap hits" in red.text
    )
    assert gmail_alert(GmailView("example.com", DAY, 0.0005), RULES) is None
    warn = gmail_alert(GmailView("example.com", DAY, 0.0012), RULES)
    crit = gmail_alert(GmailView("example.com", DAY, 0.0035), RULES)
    assert warn is not None and warn.severity == "warning"
    assert (
        crit is not None
        and crit.severity == "critical"
        and crit.title == "Gmail spam rate of example.com is 0.35%"
    )


SPEC = PlanSpec(curve=(100, 200, 400, 800))
RUNNING = PlanState(status=PlanStatus.RUNNING, day_index=1, last_day=date(2026, 3, 4))
GOOD = DayResult(sent=200, delivered=200)


@pytest.mark.parametrize(
    ("signals", "decision", "status"),
    [
        ((), Decision.ADVANCE, PlanStatus.RUNNING),
        (warmup_signals(snds("YELLOW"), [], RULES), Decision.HOLD, PlanStatus.RUNNING),
        (warmup_signals(snds(traps=1), [], RULES), Decision.HOLD, PlanStatus.RUNNING),
        (warmup_signals(snds("RED"), [], RULES), Decision.PAUSE, PlanStatus.PAUSED),
        (warmup_signals(None, gmail(0.0012), RULES), Decision.HOLD, PlanStatus.RUNNING),
        (warmup_signals(None, gmail(0.0035), RULES), Decision.PAUSE, PlanStatus.PAUSED),
    ],
)
def test_the_warmup_plan_obeys_the_signals(signals: tuple, decision: Decision, status: PlanStatus) -> None:  # type: ignore[type-arg]
    step = next_step(
        SPEC, RUNNING, DayResult(sent=200, delivered=200, provider_signals=signals), date(2026, 3, 5)
    )
    assert step.decision is decision and step.state.status is status
    for signal in signals:
        assert signal.reason in step.reasons
    if decision is Decision.PAUSE:
        assert step.daily == 0


def test_three_held_days_in_a_row_pause_as_any_failing_gate_does() -> None:
    state = RUNNING
    yellow = DayResult(sent=200, delivered=200, provider_signals=warmup_signals(snds("YELLOW"), [], RULES))
    decisions = []
    for offset in range(3):
        step = next_step(SPEC, state, yellow, date(2026, 3, 5 + offset))
        decisions.append(step.decision)
        state = step.state
    assert decisions == [Decision.HOLD, Decision.HOLD, Decision.PAUSE]
