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
