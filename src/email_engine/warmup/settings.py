"""Warmup and failover settings (environment variables, with safe defaults).

The gate defaults apply to plans created without their own ``gates``; a plan keeps the values it was
created with. Failover thresholds decide when a listing is the IP's problem and when it is the list's.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG
from email_engine.warmup.gates import Gates

__all__ = ["WarmupSettings"]


class WarmupSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    max_hard_bounce_rate: float = Field(
        default=0.02, gt=0, lt=1, validation_alias="WARMUP_MAX_HARD_BOUNCE_RATE"
    )
    max_complaint_rate: float = Field(default=0.001, gt=0, lt=1, validation_alias="WARMUP_MAX_COMPLAINT_RATE")
    max_block_rate: float = Field(default=0.05, gt=0, lt=1, validation_alias="WARMUP_MAX_BLOCK_RATE")
    max_deferral_rate: float = Field(default=0.30, gt=0, lt=1, validation_alias="WARMUP_MAX_DEFERRAL_RATE")
    min_sent_fraction: float = Field(default=0.5, ge=0, le=1, validation_alias="WARMUP_MIN_SENT_FRACTION")
    failures_before_action: int = Field(
        default=3, ge=1, le=30, validation_alias="WARMUP_FAILURES_BEFORE_ACTION"
    )
    on_repeated_failure: Literal["pause", "step_back"] = Field(
        default="pause", validation_alias="WARMUP_ON_REPEATED_FAILURE"
    )

    failover_max_hard_bounce_rate: float = Field(
        default=0.05, gt=0, lt=1, validation_alias="FAILOVER_MAX_HARD_BOUNCE_RATE"
    )
    failover_max_complaint_rate: float = Field(
        default=0.003, gt=0, lt=1, validation_alias="FAILOVER_MAX_COMPLAINT_RATE"
    )
    failover_block_spike_rate: float = Field(
        default=0.20, gt=0, lt=1, validation_alias="FAILOVER_BLOCK_SPIKE_RATE"
    )
    failover_min_blocks: int = Field(default=20, ge=1, validation_alias="FAILOVER_MIN_BLOCKS")
    quarantine_days: int = Field(default=7, ge=0, le=365, validation_alias="FAILOVER_QUARANTINE_DAYS")
    rest_days: int = Field(default=7, ge=0, le=365, validation_alias="FAILOVER_REST_DAYS")
    standby_max_idle_days: int = Field(
        default=30, ge=1, le=365, validation_alias="FAILOVER_STANDBY_MAX_IDLE_DAYS"
    )
    failover_window_days: int = Field(default=3, ge=1, le=30, validation_alias="FAILOVER_WINDOW_DAYS")
    rotation_cooldown_days: int = Field(
        default=14, ge=0, le=365, validation_alias="FAILOVER_ROTATION_COOLDOWN_DAYS"
    )

    def default_gates(self) -> Gates:
        return Gates(
            max_hard_bounce_rate=self.max_hard_bounce_rate,
            max_complaint_rate=self.max_complaint_rate,
            max_block_rate=self.max_block_rate,
            max_deferral_rate=self.max_deferral_rate,
            min_sent_fraction=self.min_sent_fraction,
            failures_before_action=self.failures_before_action,
            on_repeated_failure=self.on_repeated_failure,
        )
