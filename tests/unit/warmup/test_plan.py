"""The pure warmup planner: presets, schedule validation, gates, decisions."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import date, timedelta

import pytest

from email_engine.warmup.gates import DayResult, Gates, Listing, evaluate_gates, wilson_lower_bound
from email_engine.warmup.plan import (
    PRESETS,
    Decision,
    PlanSpec,
    PlanState,
    PlanStatus,
    next_step,
    paused_state,
    resume_state,
)
from email_engine.warmup.schedule import (
    MAX_DAILY_VOLUME,
    ScheduleError,
    hourly_limit,
    provider_limits,
    validate_schedule,
)

TODAY = date(2026, 11, 24)
SPEC = PlanSpec(curve=(100, 150, 200, 300, 400), active_hours=10)


def good(sent: int) -> DayResult:
    return DayResult(sent=sent, delivered=sent)


def at(index: int, failures: int = 0) -> PlanState:
    return PlanState(
        status=PlanStatus.RUNNING,
        day_index=index,
        consecutive_failures=failures,
        last_day=TODAY - timedelta(days=1),
    )


# --- presets -------------------------------------------------------------------------------------


def test_cold_preset_is_six_to_eight_weeks_starting_in_the_tens() -> None:
    curve = PRESETS["cold"].spec.curve
    assert 42 <= len(curve) <= 56
    assert 10 <= curve[0] < 100
    assert list(curve) == sorted(curve) and len(set(curve)) == len(curve)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_rises_gradually(name: str) -> None:
    curve = PRESETS[name].spec.curve
    assert validate_schedule(curve) == curve
    assert all(later > earlier for earlier, later in itertools.pairwise(curve))
    assert all(later <= earlier * 1.5 for earlier, later in itertools.pairwise(curve))


def test_transactional_starts_higher_and_is_shorter_than_cold() -> None:
    assert PRESETS["transactional"].spec.curve[0] > PRESETS["cold"].spec.curve[0]
    assert len(PRESETS["transactional"].spec.curve) < len(PRESETS["cold"].spec.curve)


# --- schedule validation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ([], "1 to 365 days"),
        ([10] * 366, "1 to 365 days"),
        ([-1], "between 1 and 10,000,000"),
        ([0], "between 1 and 10,000,000"),
        ([10, 10**12], "between 1 and 10,000,000"),
        ([10, 10.5], "whole number"),
        ([10, "20"], "whole number"),
        ([True], "whole number"),
        ([100_000], "may not open above"),
        ([100, 201], "more than 2×"),
        ("100,200", "list of daily volumes"),
    ],
)
def test_bad_schedules_are_refused_with_the_reason(schedule: object, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        validate_schedule(schedule)  # type: ignore[arg-type]


def test_good_schedule_is_accepted() -> None:
    assert validate_schedule([1, 2, 4, 4, 3, 6]) == (1, 2, 4, 4, 3, 6)
    assert len(validate_schedule([5000] * 365)) == 365
    assert validate_schedule([1]) == (1,)


def test_the_largest_allowed_volume_is_reachable() -> None:
    curve = [5000]
    while curve[-1] < MAX_DAILY_VOLUME:
        curve.append(min(MAX_DAILY_VOLUME, curve[-1] * 2))
    assert validate_schedule(curve)[-1] == MAX_DAILY_VOLUME


@pytest.mark.parametrize(
    "kwargs",
    [
        {"max_hard_bounce_rate": 0},
        {"max_complaint_rate": 1.5},
        {"min_complaints": 0},
        {"failures_before_action": 0},
        {"on_repeated_failure": "explode"},
        {"confidence_z": -1},
        {"min_sent_fraction": 2},
    ],
)
def test_bad_gate_settings_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ScheduleError):
        Gates(**kwargs)  # type: ignore[arg-type]


def test_bad_plan_settings_are_refused() -> None:
    with pytest.raises(ScheduleError, match="active_hours"):
        PlanSpec(curve=(10,), active_hours=0)
    with pytest.raises(ScheduleError, match="share"):
        PlanSpec(curve=(10,), provider_shares={"gmail": 1.5})
    with pytest.raises(ScheduleError, match="Provider name"):
        PlanSpec(curve=(10,), provider_shares={"gm ail}": 0.5})


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        DayResult(sent=-1)


# --- limits ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("daily", "hours", "hourly"), [(0, 12, 0), (1, 12, 1), (20, 12, 2), (120, 12, 10), (5000, 24, 209)]
)
def test_hourly_limit_spreads_the_day(daily: int, hours: int, hourly: int) -> None:
    assert hourly_limit(daily, hours) == hourly


def test_provider_limits_are_shares_of_the_day() -> None:
    assert provider_limits(1000, {"gmail": 0.4, "yahoo": 0.2}) == {"gmail": 400, "yahoo": 200}
    assert provider_limits(2, {"gmail": 0.1}) == {"gmail": 1}
    assert provider_limits(0, {"gmail": 0.4}) == {"gmail": 0}


# --- Wilson and the small-sample rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("events", "trials", "low", "high"),
    [(0, 100, 0.0, 0.0), (1, 5, 0.05, 0.07), (50, 100, 0.43, 0.44), (100, 100, 0.96, 0.99), (0, 0, 0.0, 0.0)],
)
def test_wilson_lower_bound(events: int, trials: int, low: float, high: float) -> None:
    assert low <= wilson_lower_bound(events, trials, 1.2816) <= high


@pytest.mark.parametrize(
    ("result", "failing"),
    [
        # One complaint in five is 20 %: the Wilson bound (5.5 %) is far over 0.1 %, so it holds.
        (DayResult(sent=5, complaints=1), {"complaint"}),
        (DayResult(sent=22, hard_bounces=1), set()),  # 1 of 22: the bound (1.4 %) is under 2 %
        (DayResult(sent=28, hard_bounces=2), {"hard_bounce"}),  # 2 of 28 (7 %): the bound is 3 %
        (DayResult(sent=200, hard_bounces=1), set()),
        (DayResult(sent=40, complaints=3), {"complaint"}),  # three in forty is a real problem
        (DayResult(sent=5, complaints=2), {"complaint"}),
        (DayResult(sent=100, hard_bounces=6), {"hard_bounce"}),  # 6 % hard bounces
        (DayResult(sent=1000, hard_bounces=15), set()),  # 1.5 % under the 2 % limit
        (DayResult(sent=1000, hard_bounces=40), {"hard_bounce"}),
        (DayResult(sent=10_000, complaints=5), set()),  # 0.05 %
        (DayResult(sent=10_000, complaints=30), {"complaint"}),  # 0.3 %
        (DayResult(sent=200, blocks=30), {"block"}),
        (DayResult(sent=200, deferred=120), {"deferral"}),
        (DayResult(sent=200, new_listings=(Listing("bl.example.test", major=False),)), {"listing"}),
        (DayResult(sent=0, complaints=3), {"complaint"}),  # events with nothing counted as sent still count
    ],
)
def test_gates_table(result: DayResult, failing: set[str]) -> None:
    outcomes = evaluate_gates(Gates(), result)
    assert {outcome.name for outcome in outcomes if not outcome.passed} == failing
    assert {outcome.name for outcome in outcomes} == {
        "hard_bounce",
        "complaint",
        "block",
        "deferral",
        "volume_cap",
        "listing",
    }


def test_listing_gate_can_be_switched_off() -> None:
    result = DayResult(sent=200, new_listings=(Listing("bl.example.test", major=False),))
    assert all(outcome.passed for outcome in evaluate_gates(Gates(fail_on_new_listing=False), result))


# --- decisions -------------------------------------------------------------------------------------


def test_first_day_starts_at_the_first_point() -> None:
    step = next_step(SPEC, PlanState(), None, TODAY)
    assert step.decision is Decision.START
    assert (step.day_index, step.daily, step.hourly) == (0, 100, 10)
    assert step.state.last_day == TODAY and step.state.status is PlanStatus.RUNNING


@pytest.mark.parametrize(
    ("state", "yesterday", "decision", "index", "failures", "status", "reason"),
    [
        (at(0), good(100), Decision.ADVANCE, 1, 0, PlanStatus.RUNNING, "advancing to day 2"),
        (at(2, failures=2), good(200), Decision.ADVANCE, 3, 0, PlanStatus.RUNNING, "every gate passed"),
        (at(1), None, Decision.HOLD, 1, 0, PlanStatus.RUNNING, "no results recorded"),
        (at(1), good(10), Decision.HOLD, 1, 0, PlanStatus.RUNNING, "only 10 of 150 sent"),
        (at(1, failures=1), good(10), Decision.HOLD, 1, 1, PlanStatus.RUNNING, "need 75 to judge"),
        (
            at(1),
            DayResult(sent=150, hard_bounces=9),
            Decision.HOLD,
            1,
            1,
            PlanStatus.RUNNING,
            "hard bounces rate 6.0%",
        ),
        (
            at(1, failures=1),
            DayResult(sent=150, hard_bounces=9),
            Decision.HOLD,
            1,
            2,
            PlanStatus.RUNNING,
            "failure 2 of 3",
        ),
        (
            at(1, failures=2),
            DayResult(sent=150, hard_bounces=9),
            Decision.PAUSE,
            1,
            3,
            PlanStatus.PAUSED,
            "3 failing days in a row",
        ),
        (
            at(3),
            DayResult(sent=300, new_listings=(Listing("zen.spamhaus.org", major=True),)),
            Decision.PAUSE,
            3,
            1,
            PlanStatus.PAUSED,
            "major list",
        ),
        (
            at(3),
            DayResult(sent=300, new_listings=(Listing("bl.example.test", major=False),)),
            Decision.HOLD,
            3,
            1,
            PlanStatus.RUNNING,
            "newly listed on bl.example.test",
        ),
        (at(4), good(400), Decision.COMPLETE, 4, 0, PlanStatus.COMPLETED, "the IP is warm"),
        (
            at(1),
            DayResult(sent=20, complaints=1),
            Decision.HOLD,
            1,
            1,
            PlanStatus.RUNNING,
            "complaints rate 5.0% (1 of 20)",
        ),
        (
            at(1),
            DayResult(sent=1400, complaints=6),
            Decision.PAUSE,
            1,
            1,
            PlanStatus.PAUSED,
            "complaint rate 0.43% (6 of 1400) is at or over 0.3%",
        ),
        (at(1), good(300), Decision.HOLD, 1, 1, PlanStatus.RUNNING, "sent 300 against a limit of 150"),
        (at(1), good(165), Decision.ADVANCE, 2, 0, PlanStatus.RUNNING, "every gate passed"),
    ],
)
def test_decision_table(
    state: PlanState,
    yesterday: DayResult | None,
    decision: Decision,
    index: int,
    failures: int,
    status: PlanStatus,
    reason: str,
) -> None:
    step = next_step(SPEC, state, yesterday, TODAY)
    assert step.decision is decision
    assert step.state.day_index == index
    assert step.state.consecutive_failures == failures
    assert step.state.status is status
    assert any(reason in text for text in step.reasons), step.reasons
    if status is PlanStatus.PAUSED:
        assert (step.daily, step.hourly, step.day_index) == (0, 0, None)
    else:
        assert step.daily == SPEC.curve[index]


def test_step_back_after_repeated_failures_when_configured() -> None:
    spec = replace(SPEC, gates=Gates(on_repeated_failure="step_back", step_back_days=2))
    step = next_step(spec, at(3, failures=2), DayResult(sent=300, hard_bounces=30), TODAY)
    assert step.decision is Decision.STEP_BACK
    assert (step.state.day_index, step.daily, step.state.consecutive_failures) == (1, 150, 0)
    # On the first point there is nowhere to step back to: pause instead.
    step = next_step(spec, at(0, failures=2), DayResult(sent=100, hard_bounces=10), TODAY)
    assert step.decision is Decision.PAUSE


def test_paused_plan_stays_paused_whatever_the_results() -> None:
    state = replace(at(3), status=PlanStatus.PAUSED)
    step = next_step(SPEC, state, good(10_000), TODAY)
    assert step.decision is Decision.PAUSE and step.daily == 0 and step.state.status is PlanStatus.PAUSED


def test_a_day_is_never_decided_twice_and_ended_plans_take_no_steps() -> None:
    with pytest.raises(ValueError, match="already decided"):
        next_step(SPEC, replace(at(1), last_day=TODAY), good(150), TODAY)
    with pytest.raises(ValueError, match="completed"):
        next_step(SPEC, replace(at(4), status=PlanStatus.COMPLETED), good(400), TODAY)
    with pytest.raises(ValueError, match="outside its curve"):
        next_step(SPEC, at(9), good(400), TODAY)
    # A created plan is not started yet: its first step is taken when it starts, never by the job.
    with pytest.raises(ValueError, match="not been started"):
        next_step(SPEC, PlanState(status=PlanStatus.CREATED), None, TODAY)
    with pytest.raises(ValueError, match="Only a running plan"):
        paused_state(PlanState(status=PlanStatus.CREATED))


def test_pause_and_resume_restart_lower_on_the_curve() -> None:
    paused = paused_state(at(4))
    assert paused.status is PlanStatus.PAUSED
    resumed = resume_state(SPEC, paused)
    assert (
        resumed.status is PlanStatus.RUNNING and resumed.day_index == 2 and resumed.consecutive_failures == 0
    )
    assert resume_state(SPEC, paused_state(at(1))).day_index == 0
    with pytest.raises(ValueError, match="Only a paused plan"):
        resume_state(SPEC, at(1))
    with pytest.raises(ValueError, match="Only a running plan"):
        paused_state(paused)


def test_cold_preset_reaches_full_volume_only_after_every_day() -> None:
    spec = PRESETS["cold"].spec
    state = PlanState()
    day = TODAY
    yesterday: DayResult | None = None
    decisions = []
    while state.status is PlanStatus.RUNNING:
        step = next_step(spec, state, yesterday, day)
        decisions.append(step.decision)
        state = step.state
        yesterday = good(step.daily)
        day += timedelta(days=1)
    assert decisions[0] is Decision.START and decisions[-1] is Decision.COMPLETE
    assert decisions.count(Decision.ADVANCE) == len(spec.curve) - 1


# --- the providers' lines and small samples (issue 20) ---------------------------------------------


def test_two_hard_bounces_in_28_sends_do_not_advance_the_cold_preset() -> None:
    spec = PRESETS["cold"].spec
    index = next(i for i, volume in enumerate(spec.curve) if volume >= 28)
    state = PlanState(day_index=index, last_day=TODAY - timedelta(days=1))
    step = next_step(spec, state, DayResult(sent=28, delivered=26, hard_bounces=2), TODAY)
    assert step.decision is Decision.HOLD and step.state.day_index == index
    assert any("hard bounces rate 7.1% (2 of 28)" in reason for reason in step.reasons), step.reasons


@pytest.mark.parametrize(
    ("sent", "complaints", "decision"),
    [
        (10_000, 43, Decision.PAUSE),  # 0.43 %: over Gmail's 0.3 % line
        (1_000, 3, Decision.PAUSE),  # exactly 0.3 %
        (10_000, 15, Decision.HOLD),  # 0.15 %: over 0.1 %, under 0.3 %
        (10_000, 5, Decision.ADVANCE),  # 0.05 %
        (200, 1, Decision.HOLD),  # 0.5 %, but one complaint is never a pause: it holds
        (300, 1, Decision.ADVANCE),  # 1 in 300: the bound (0.0998 %) is under 0.1 %
    ],
)
def test_complaint_lines_follow_gmail_and_yahoo(sent: int, complaints: int, decision: Decision) -> None:
    spec = PlanSpec(curve=(10, 20, 40, 80, 160, 320, 640, 1280, 2560, 5120, 10_240, 20_480))
    index = next(i for i, volume in enumerate(spec.curve) if volume >= sent)
    state = PlanState(day_index=index, last_day=TODAY - timedelta(days=1))
    step = next_step(spec, state, DayResult(sent=sent, delivered=sent, complaints=complaints), TODAY)
    assert step.decision is decision, step.reasons


def test_pause_complaint_rate_cannot_be_under_the_hold_rate() -> None:
    with pytest.raises(ScheduleError, match="pause_complaint_rate"):
        Gates(max_complaint_rate=0.005, pause_complaint_rate=0.003)
