"""The preflight contract: the record a domain's ``preflight.py`` lists, and what its checks answer.

A check runs with the context, the preflight settings and the time, and yields checklist
:class:`Item`\\ s: pass, fail (with the fix in one sentence) or skip (not configured — "not configured"
is never reported as "down"). ``email_engine.preflight`` runs every domain's ``CHECKS`` by ``order``
and adds up the GO/NO-GO verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG
from email_engine.context import AppContext

__all__ = ["Item", "ItemStatus", "PreflightCheck", "PreflightSettings"]

ItemStatus = Literal["pass", "fail", "skip"]


@dataclass(frozen=True, slots=True)
class Item:
    """One checklist line. ``fix`` is one sentence saying what to do when it is not a pass."""

    name: str
    status: ItemStatus
    detail: str
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PreflightSettings(BaseSettings):
    """Where preflight looks for the parts of a deployment the engine does not own, and how long a
    peer may take to answer (``PREFLIGHT_TIMEOUT``, for every check that calls one)."""

    model_config = SETTINGS_CONFIG

    prometheus_url: str | None = Field(default=None, validation_alias="PROMETHEUS_URL")
    alertmanager_url: str | None = Field(default=None, validation_alias="ALERTMANAGER_URL")
    public_url: str | None = Field(default=None, validation_alias="PUBLIC_URL")
    ca_bundle: str | None = Field(default=None, validation_alias="PREFLIGHT_CA_BUNDLE")
    logrotate_file: Path = Field(
        default=Path("/etc/logrotate.d/email-engine"), validation_alias="LOGROTATE_FILE"
    )
    backup_root: Path = Field(default=Path("/backups"), validation_alias="BACKUP_ROOT")
    backup_max_age_hours: float = Field(default=26, gt=0, validation_alias="BACKUP_MAX_AGE_HOURS")
    cron_file: Path = Field(default=Path("/etc/cron.d/email-engine"), validation_alias="BACKUP_CRON_FILE")
    timeout: float = Field(default=5.0, gt=0, le=60, validation_alias="PREFLIGHT_TIMEOUT")


@dataclass(frozen=True, slots=True)
class PreflightCheck:
    """``name``: the item reported when the check itself crashes (its usual first item).
    ``order``: its line in the report, lowest first; the report reads from the engine's own
    configuration through its database, peers and host to what sending needs (see
    ``tests/unit/preflight`` for the whole order)."""

    name: str
    run: Callable[[AppContext, PreflightSettings, datetime], Iterable[Item]]
    order: int
