"""Pure rules for what the engine may write to a MailWizz delivery server (no I/O).

MailWizz reads ``0`` in ``hourly_quota`` / ``daily_quota`` as *unlimited*, so the engine never writes
0: to stop a server it sets its status to ``inactive``. Quotas are ``INT(11)`` columns; anything
above :data:`MAX_QUOTA` is refused as a typo rather than clipped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from email_engine.errors import Conflict, InvalidInput

__all__ = [
    "MAX_QUOTA",
    "DesiredServer",
    "ServerStatus",
    "check_quota",
    "plan_server_update",
]

MAX_QUOTA = 100_000_000
ServerStatus = Literal["active", "inactive"]

# Statuses MailWizz itself uses (ActiveRecord + DeliveryServer constants).
RUNNING_STATUSES = frozenset({"active", "in-use"})
# Set by a MailWizz admin on purpose; the engine never turns these back on.
OPERATOR_STATUSES = frozenset({"disabled", "pending-delete", "hidden"})


def check_quota(value: int | None, *, what: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"The {what} must be a whole number of messages.")
    if value < 1:
        raise InvalidInput(
            f"The {what} must be at least 1 (MailWizz reads 0 as unlimited); "
            "to stop a server, set it inactive instead."
        )
    if value > MAX_QUOTA:
        raise InvalidInput(f"The {what} {value} is over the maximum of {MAX_QUOTA}; check the number.")
    return value


@dataclass(frozen=True)
class DesiredServer:
    """What the engine wants; ``None`` leaves a field as it is."""

    hourly_quota: int | None = None
    daily_quota: int | None = None
    status: ServerStatus | None = None

    def __post_init__(self) -> None:
        check_quota(self.hourly_quota, what="hourly quota")
        check_quota(self.daily_quota, what="daily quota")
        if self.status not in (None, "active", "inactive"):
            raise InvalidInput("A delivery server's status can only be set to active or inactive.")
        if (
            self.hourly_quota is not None
            and self.daily_quota is not None
            and self.hourly_quota > self.daily_quota
        ):
            raise InvalidInput(
                f"The hourly quota ({self.hourly_quota}) is larger than the daily quota ({self.daily_quota})."
            )

    def as_dict(self) -> dict[str, Any]:
        return {
            key: value
            for key, value in (
                ("hourly_quota", self.hourly_quota),
                ("daily_quota", self.daily_quota),
                ("status", self.status),
            )
            if value is not None
        }


def plan_server_update(current: dict[str, Any], desired: DesiredServer) -> dict[str, Any]:
    """The columns to write (column -> new value); empty when the row already matches.

    ``current`` holds at least ``server_id``, ``status``, ``hourly_quota``, ``daily_quota``. An
    ``in-use`` server counts as active. A server an admin disabled, hid or queued for deletion is
    never reactivated (``Conflict``); pausing it is a no-op because it does not send anyway.
    """
    changes: dict[str, Any] = {}
    for column in ("hourly_quota", "daily_quota"):
        value = getattr(desired, column)
        if value is not None and int(current[column]) != value:
            changes[column] = value
    status = str(current["status"])
    if desired.status == "active" and status not in RUNNING_STATUSES:
        if status != "inactive":
            raise Conflict(
                f"MailWizz delivery server {current['server_id']} is {status!r} in MailWizz; "
                "the engine only turns inactive servers on. Change it in MailWizz first."
            )
        changes["status"] = "active"
    elif desired.status == "inactive" and status not in OPERATOR_STATUSES and status != "inactive":
        # Pausing is always safe, whatever MailWizz status the server is in.
        changes["status"] = "inactive"
    return changes
