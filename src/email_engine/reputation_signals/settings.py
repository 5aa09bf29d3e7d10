"""Thresholds for decisions drawn from provider signals (defaults from the issue and Gmail's guidance)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG
from email_engine.reputation_signals.decisions import SignalRules

__all__ = ["SignalSettings"]


class SignalSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    # Gmail's sender guidelines: keep the spam rate below 0.10 % and never reach 0.30 %
    # (https://support.google.com/a/answer/81126).
    gmail_spam_hold: float = Field(default=0.001, gt=0, lt=1, validation_alias="SIGNALS_GMAIL_SPAM_HOLD")
    gmail_spam_pause: float = Field(default=0.003, gt=0, lt=1, validation_alias="SIGNALS_GMAIL_SPAM_PAUSE")
    trap_hits_hold: int = Field(default=1, ge=1, validation_alias="SIGNALS_TRAP_HITS_HOLD")
    snds_complaint_list_cause: float = Field(
        default=0.003, gt=0, lt=1, validation_alias="SIGNALS_SNDS_COMPLAINT_LIST_CAUSE"
    )
    # Providers publish a day during the next one: a decision reads the newest day at most this old.
    freshness_days: int = Field(default=2, ge=1, le=14, validation_alias="SIGNALS_FRESHNESS_DAYS")
    interval: int = Field(default=3600, ge=300, validation_alias="SIGNALS_INTERVAL")

    @property
    def rules(self) -> SignalRules:
        return SignalRules(
            gmail_spam_hold=self.gmail_spam_hold,
            gmail_spam_pause=self.gmail_spam_pause,
            trap_hits_hold=self.trap_hits_hold,
            snds_complaint_list_cause=self.snds_complaint_list_cause,
        )
