"""Pure rules for what the engine may write to a MailWizz delivery server (no I/O).

MailWizz reads ``0`` in ``hourly_quota`` / ``daily_quota`` as *unlimited*, so the engine never writes
0: to stop a server it sets its status to ``inactive``, and it never leaves a server ``active`` (or
makes it so) while a quota column holds 0 (:class:`UnlimitedQuotaRefused`): an active server always
has explicit non-zero quotas. Quotas are ``INT(11)`` columns; anything
above :data:`MAX_QUOTA` is refused as a typo rather than clipped.

What MailWizz itself does to those columns (its source, ``apps/common/models/DeliveryServer.php`` and
``apps/common/components/helpers/DeliveryServerWarmupPlanHelper.php``, MailWizz 2.x):

- ``setIsNotInUse()`` runs ``saveStatus('active')`` whenever the server object it loaded was
  ``in-use``: an unconditional ``UPDATE … SET status='active'`` by primary key, so a pause written
  while the server was ``in-use`` is undone when that send ends. The engine records such a pause and
  checks it again on its next run (:func:`pause_written_while_in_use`).
- A server with ``warmup_plan_id`` (MailWizz 2.1.10+ native warmup plans) has its hourly, daily and
  monthly quotas rewritten from the plan by the ``delivery-servers-warmup-handler`` command every
  run; writing quotas there would fight MailWizz, so it is refused (:class:`NativeWarmupConflict`)
  unless the operator lets the engine take the server over (``warmup_plan_id`` is then cleared).
- The quota left is cached for ``QUOTA_CACHE_SECONDS = 300`` per server and per period, so a new
  quota takes effect within 300 s of the write (:func:`quota_effective_by`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from email_engine.errors import Conflict, InvalidInput

__all__ = [
    "MAX_QUOTA",
    "QUOTA_CACHE_SECONDS",
    "DesiredServer",
    "NativeWarmupConflict",
    "ServerStatus",
    "UnlimitedQuotaRefused",
    "actuation_notes",
    "check_quota",
    "pause_written_while_in_use",
    "plan_server_update",
    "quota_effective_by",
]

MAX_QUOTA = 100_000_000
ServerStatus = Literal["active", "inactive"]

# Statuses MailWizz itself uses (ActiveRecord + DeliveryServer constants).
RUNNING_STATUSES = frozenset({"active", "in-use"})
# Set by a MailWizz admin on purpose; the engine never turns these back on.
OPERATOR_STATUSES = frozenset({"disabled", "pending-delete", "hidden"})
# DeliveryServer::QUOTA_CACHE_SECONDS: how long MailWizz caches a server's quota left.
QUOTA_CACHE_SECONDS = 300


class UnlimitedQuotaRefused(Conflict):
    """The write would leave a sending server with a quota of 0, which MailWizz reads as unlimited."""


class NativeWarmupConflict(Conflict):
    """The delivery server follows a MailWizz warmup plan, which rewrites the quotas the engine would set."""


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


def plan_server_update(
    current: dict[str, Any], desired: DesiredServer, *, take_over_warmup: bool = False
) -> dict[str, Any]:
    """The columns to write (column -> new value); empty when the row already matches.

    ``current`` holds at least ``server_id``, ``status``, ``hourly_quota``, ``daily_quota`` (and
    ``warmup_plan_id`` on MailWizz 2.1.10+). An ``in-use`` server counts as active. A server an admin
    disabled, hid or queued for deletion is never reactivated (``Conflict``); pausing it is a no-op
    because it does not send anyway. A server on a MailWizz warmup plan gets no quota and is not
    activated (:class:`NativeWarmupConflict`) unless ``take_over_warmup``, which detaches the plan.
    Pausing is always allowed: MailWizz's warmup handler skips inactive servers too.
    """
    changes: dict[str, Any] = {}
    plan_id = current.get("warmup_plan_id")
    drives_volume = (
        desired.hourly_quota is not None or desired.daily_quota is not None or desired.status == "active"
    )
    if plan_id and drives_volume:
        if not take_over_warmup:
            raise NativeWarmupConflict(
                f"MailWizz delivery server {current['server_id']} follows MailWizz's own warmup plan "
                f"#{plan_id} (warmup_plan_id), which rewrites its quotas every hour; the engine will not "
                "fight it. Keep one warmup: detach the plan in MailWizz (Servers > edit > Warmup plan: "
                "none) to let the engine's warmup drive this IP, or keep MailWizz's plan and take the IP "
                "out of the engine's warmup. MAILWIZZ_TAKE_OVER_WARMUP_PLANS=true lets the engine detach "
                "it for you."
            )
        changes["warmup_plan_id"] = None
    for column in ("hourly_quota", "daily_quota"):
        value = getattr(desired, column)
        if value is not None and int(current[column]) != value:
            changes[column] = value
    status = str(current["status"])
    runs_after = desired.status == "active" or (desired.status is None and status in RUNNING_STATUSES)
    if runs_after:
        for column in ("hourly_quota", "daily_quota"):
            value = changes.get(column, current[column])
            if int(value) == 0:
                raise UnlimitedQuotaRefused(
                    f"MailWizz delivery server {current['server_id']} would send with {column} 0, which "
                    "MailWizz reads as unlimited; the engine makes a server active only with explicit "
                    "non-zero hourly and daily quotas."
                )
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


def quota_effective_by(changed: dict[str, Any], now: datetime) -> datetime | None:
    """When MailWizz applies a quota change: after its cached quota left expires (300 s)."""
    if "hourly_quota" in changed or "daily_quota" in changed:
        return now + timedelta(seconds=QUOTA_CACHE_SECONDS)
    return None


def pause_written_while_in_use(previous_status: str, new_status: str | None) -> bool:
    """A pause written over ``in-use``: MailWizz's ``setIsNotInUse()`` will set it ``active`` again."""
    return previous_status == "in-use" and new_status == "inactive"


def actuation_notes(previous_status: str, changed: dict[str, list[Any]], now: datetime) -> dict[str, Any]:
    """What the actuation record should say about how MailWizz will treat this write (``changed``:
    column -> [old, new], as :class:`~email_engine.integrations.mailwizz.database.ServerUpdate` has it)."""
    notes: dict[str, Any] = {}
    effective = quota_effective_by(changed, now)
    if effective is not None:
        notes["quota_cache_seconds"] = QUOTA_CACHE_SECONDS
        notes["quotas_effective_by"] = effective.isoformat()
    if pause_written_while_in_use(previous_status, changed.get("status", [None, None])[1]):
        notes["paused_while_in_use"] = True
        notes["verify"] = (
            "MailWizz sets an in-use server back to active when its send ends (setIsNotInUse); "
            "the next mailwizz-retry run checks the pause and writes it again if needed."
        )
    if "warmup_plan_id" in changed:
        notes["took_over_warmup_plan"] = True
    return notes
