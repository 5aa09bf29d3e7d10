"""What the engine may write to a MailWizz delivery server (pure rules)."""

from __future__ import annotations

from typing import Any

import pytest

from email_engine.errors import Conflict, InvalidInput
from email_engine.integrations.mailwizz.quota import MAX_QUOTA, DesiredServer, plan_server_update


def row(status: str = "active", hourly: int = 10, daily: int = 100) -> dict[str, Any]:
    return {"server_id": 3, "status": status, "hourly_quota": hourly, "daily_quota": daily}


@pytest.mark.parametrize(
    ("current", "desired", "changes"),
    [
        (row(), DesiredServer(hourly_quota=10, daily_quota=100, status="active"), {}),
        (row(), DesiredServer(hourly_quota=20), {"hourly_quota": 20}),
        (
            row(),
            DesiredServer(daily_quota=200, status="inactive"),
            {"daily_quota": 200, "status": "inactive"},
        ),
        (row("inactive"), DesiredServer(status="active"), {"status": "active"}),
        (row("in-use"), DesiredServer(status="active"), {}),
        (row("in-use"), DesiredServer(status="inactive"), {"status": "inactive"}),
        (row("disabled"), DesiredServer(status="inactive"), {}),
        (row("pending-delete"), DesiredServer(status="inactive"), {}),
        (row("hidden"), DesiredServer(status="inactive"), {}),
        (row("some-new-status"), DesiredServer(status="inactive"), {"status": "inactive"}),
        (
            row(hourly=0, daily=0),
            DesiredServer(hourly_quota=1, daily_quota=1),
            {"hourly_quota": 1, "daily_quota": 1},
        ),
        (row(), DesiredServer(), {}),
    ],
)
def test_plan(current: dict[str, Any], desired: DesiredServer, changes: dict[str, Any]) -> None:
    assert plan_server_update(current, desired) == changes


@pytest.mark.parametrize("status", ["disabled", "pending-delete", "hidden", "some-new-status"])
def test_never_reactivates_what_mailwizz_switched_off(status: str) -> None:
    with pytest.raises(Conflict, match="Change it in MailWizz"):
        plan_server_update(row(status), DesiredServer(status="active"))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hourly_quota": -1},
        {"hourly_quota": 0},
        {"daily_quota": 0},
        {"daily_quota": 10**12},
        {"hourly_quota": MAX_QUOTA + 1},
        {"hourly_quota": 11, "daily_quota": 10},
        {"hourly_quota": True},
        {"hourly_quota": 1.5},
        {"status": "deleted"},
        {"status": "active'; --"},
    ],
)
def test_refused_values(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        DesiredServer(**kwargs)


def test_as_dict_names_only_what_is_wanted() -> None:
    assert DesiredServer(daily_quota=5, status="inactive").as_dict() == {
        "daily_quota": 5,
        "status": "inactive",
    }


def test_a_mailwizz_warmup_plan_refuses_quotas_and_activation_but_not_a_pause() -> None:
    from email_engine.integrations.mailwizz.quota import NativeWarmupConflict

    current = {"server_id": 3, "status": "active", "hourly_quota": 7, "daily_quota": 70, "warmup_plan_id": 2}
    with pytest.raises(NativeWarmupConflict, match="warmup plan #2"):
        plan_server_update(current, DesiredServer(hourly_quota=5, daily_quota=50))
    with pytest.raises(NativeWarmupConflict):
        plan_server_update({**current, "status": "inactive"}, DesiredServer(status="active"))
    assert plan_server_update(current, DesiredServer(status="inactive")) == {"status": "inactive"}
    taken = plan_server_update(current, DesiredServer(hourly_quota=5, daily_quota=50), take_over_warmup=True)
    assert taken == {"warmup_plan_id": None, "hourly_quota": 5, "daily_quota": 50}
    # no plan (NULL) or no column at all (MailWizz before 2.1.10): nothing to respect
    assert plan_server_update({**current, "warmup_plan_id": None}, DesiredServer(hourly_quota=5)) == {
        "hourly_quota": 5
    }
    no_column = {key: value for key, value in current.items() if key != "warmup_plan_id"}
    assert plan_server_update(no_column, DesiredServer(hourly_quota=5)) == {"hourly_quota": 5}


def test_actuation_notes_say_what_mailwizz_will_do() -> None:
    from datetime import UTC, datetime

    from email_engine.integrations.mailwizz.quota import actuation_notes

    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    quotas = actuation_notes("active", {"hourly_quota": [1, 2]}, now)
    assert quotas == {"quota_cache_seconds": 300, "quotas_effective_by": "2026-01-01T12:05:00+00:00"}
    paused = actuation_notes("in-use", {"status": ["in-use", "inactive"]}, now)
    assert paused["paused_while_in_use"] is True and "setIsNotInUse" in paused["verify"]
    assert actuation_notes("active", {"status": ["active", "inactive"]}, now) == {}
