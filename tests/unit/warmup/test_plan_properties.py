"""Properties of the planner over random curves, gates and result sequences."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from email_engine.warmup.gates import DayResult, Gates, Listing, evaluate_gates
from email_engine.warmup.plan import Decision, PlanSpec, PlanState, PlanStatus, next_step, resume_state

START = date(2026, 1, 1)


@st.composite
def curves(draw: st.DrawFn) -> tuple[int, ...]:
    first = draw(st.integers(min_value=1, max_value=5000))
    points = [first]
    for _ in range(draw(st.integers(min_value=0, max_value=40))):
        points.append(draw(st.integers(min_value=1, max_value=points[-1] * 2)))
    return tuple(points)


results = st.builds(
    DayResult,
    sent=st.integers(min_value=0, max_value=20_000),
    delivered=st.integers(min_value=0, max_value=20_000),
    hard_bounces=st.integers(min_value=0, max_value=500),
    soft_bounces=st.integers(min_value=0, max_value=500),
    blocks=st.integers(min_value=0, max_value=500),
    complaints=st.integers(min_value=0, max_value=50),
    deferred=st.integers(min_value=0, max_value=2000),
    new_listings=st.lists(
        st.builds(
            Listing, zone=st.sampled_from(["zen.example.test", "bl.example.test"]), major=st.booleans()
        ),
        max_size=1,
    ).map(tuple),
)
gate_settings = st.builds(
    Gates,
    failures_before_action=st.integers(min_value=1, max_value=5),
    on_repeated_failure=st.sampled_from(["pause", "step_back"]),
    step_back_days=st.integers(min_value=1, max_value=5),
)


@settings(max_examples=150, deadline=None)
@given(
    curve=curves(), gates=gate_settings, days=st.lists(st.one_of(st.none(), results), min_size=1, max_size=60)
)
def test_plan_walk_properties(curve: tuple[int, ...], gates: Gates, days: list[DayResult | None]) -> None:
    spec = PlanSpec(curve=curve, gates=gates)
    state = PlanState()
    day = START
    previous_index: int | None = None
    for yesterday in days:
        if state.status is not PlanStatus.RUNNING and state.status is not PlanStatus.PAUSED:
            break
        was_paused = state.status is PlanStatus.PAUSED
        step = next_step(spec, state, yesterday, day)
        # Never above the curve point earned, and that point is on the curve.
        if step.day_index is not None:
            assert step.daily == curve[step.day_index]
        assert step.daily <= max(curve)
        assert step.hourly <= max(step.daily, 0) and all(
            v <= step.daily for v in step.provider_limits.values()
        )
        # At most one point up per day.
        if previous_index is not None and step.state.day_index is not None:
            assert step.state.day_index <= previous_index + 1
        # Never advances on a failing gate.
        if yesterday is not None and not all(o.passed for o in evaluate_gates(gates, yesterday)):
            assert step.decision not in (Decision.ADVANCE, Decision.COMPLETE)
        # A pause is never lifted by the planner.
        if was_paused:
            assert step.decision is Decision.PAUSE and step.daily == 0
        if step.decision is Decision.PAUSE:
            assert step.state.status is PlanStatus.PAUSED and step.daily == 0 and step.hourly == 0
        previous_index = step.state.day_index
        state = step.state
        day += timedelta(days=1)


@settings(max_examples=100, deadline=None)
@given(
    curve=curves(), index=st.integers(min_value=0, max_value=40), back=st.integers(min_value=0, max_value=10)
)
def test_resume_never_returns_above_where_it_paused(curve: tuple[int, ...], index: int, back: int) -> None:
    spec = PlanSpec(curve=curve, gates=Gates(resume_step_back_days=back))
    index = min(index, len(curve) - 1)
    paused = PlanState(status=PlanStatus.PAUSED, day_index=index, consecutive_failures=3, last_day=START)
    resumed = resume_state(spec, paused)
    assert resumed.day_index is not None and resumed.day_index <= index
    assert resumed.status is PlanStatus.RUNNING


@settings(max_examples=100, deadline=None)
@given(curve=curves(), sent=st.integers(min_value=0, max_value=20_000))
def test_a_clean_day_with_enough_volume_always_advances(curve: tuple[int, ...], sent: int) -> None:
    spec = PlanSpec(curve=curve)
    state = PlanState(day_index=0, last_day=START)
    step = next_step(spec, state, DayResult(sent=sent, delivered=sent), START + timedelta(days=1))
    if sent > curve[0] * (1 + spec.gates.max_over_cap):
        assert step.decision is Decision.HOLD  # over the cap: the cap is not holding
    elif sent >= curve[0] * spec.gates.min_sent_fraction:
        assert step.decision is (Decision.COMPLETE if len(curve) == 1 else Decision.ADVANCE)
    else:
        assert step.decision is Decision.HOLD
