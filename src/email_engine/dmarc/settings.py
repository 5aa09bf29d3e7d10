"""DMARC settings: input limits, the IMAP mailbox reports arrive in, classification and alert thresholds."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from email_engine.config import SETTINGS_CONFIG
from email_engine.dmarc.archive import Limits

__all__ = ["DmarcSettings"]


class DmarcSettings(BaseSettings):
    model_config = SETTINGS_CONFIG

    max_input_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, le=1024**3, validation_alias="DMARC_MAX_INPUT_BYTES"
    )
    max_xml_bytes: int = Field(
        default=100 * 1024 * 1024, ge=64 * 1024, le=4 * 1024**3, validation_alias="DMARC_MAX_XML_BYTES"
    )
    max_ratio: int = Field(default=300, ge=10, le=2000, validation_alias="DMARC_MAX_RATIO")

    imap_host: str | None = Field(default=None, validation_alias="DMARC_IMAP_HOST")
    imap_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="DMARC_IMAP_PORT")
    # ssl: TLS from the first byte (port 993); starttls: upgrade a plain connection (port 143);
    # none: no encryption at all, only for a mailbox on the same host.
    imap_tls: Literal["ssl", "starttls", "none"] = Field(default="ssl", validation_alias="DMARC_IMAP_TLS")
    imap_ca_file: Path | None = Field(default=None, validation_alias="DMARC_IMAP_CA_FILE")
    imap_user: str | None = Field(default=None, validation_alias="DMARC_IMAP_USER")
    imap_password: SecretStr | None = Field(default=None, validation_alias="DMARC_IMAP_PASSWORD")
    imap_folder: str = Field(default="INBOX", min_length=1, validation_alias="DMARC_IMAP_FOLDER")
    imap_processed_folder: str = Field(
        default="DMARC/Processed", min_length=1, validation_alias="DMARC_IMAP_PROCESSED_FOLDER"
    )
    imap_invalid_folder: str = Field(
        default="DMARC/Invalid", min_length=1, validation_alias="DMARC_IMAP_INVALID_FOLDER"
    )
    # Processed messages are moved, never deleted, unless this is set.
    imap_delete: bool = Field(default=False, validation_alias="DMARC_IMAP_DELETE")
    imap_timeout: float = Field(default=30.0, gt=0, le=600, validation_alias="DMARC_IMAP_TIMEOUT")
    imap_batch: int = Field(default=500, ge=1, le=100_000, validation_alias="DMARC_IMAP_BATCH")
    imap_interval: int = Field(default=1800, ge=60, validation_alias="DMARC_IMAP_INTERVAL")

    classify_interval: int = Field(default=3600, ge=60, validation_alias="DMARC_CLASSIFY_INTERVAL")
    classify_concurrency: int = Field(default=20, ge=1, le=200, validation_alias="DMARC_CLASSIFY_CONCURRENCY")
    # A source looked up without an answer (timeout) is asked again after this long.
    classify_retry_hours: int = Field(
        default=24, ge=1, le=24 * 90, validation_alias="DMARC_CLASSIFY_RETRY_HOURS"
    )

    # Alert when sources that are neither ours nor a known forwarder send more than this many
    # messages a day as one of our domains (spoofing, or a service nobody told us about).
    unknown_source_threshold: int = Field(
        default=100, ge=1, validation_alias="DMARC_UNKNOWN_SOURCE_THRESHOLD"
    )
    # Preflight NO-GO when our own IPs fail DMARC alignment at receivers on more than this share
    # of at least ``alignment_min_messages`` messages over the last ``alignment_days`` days.
    alignment_max_fail_rate: float = Field(
        default=0.02, gt=0, lt=1, validation_alias="DMARC_ALIGNMENT_MAX_FAIL_RATE"
    )
    alignment_min_messages: int = Field(default=20, ge=1, validation_alias="DMARC_ALIGNMENT_MIN_MESSAGES")
    alignment_days: int = Field(default=7, ge=1, le=90, validation_alias="DMARC_ALIGNMENT_DAYS")

    @property
    def limits(self) -> Limits:
        return Limits(
            max_input_bytes=self.max_input_bytes, max_xml_bytes=self.max_xml_bytes, max_ratio=self.max_ratio
        )

    @property
    def imap_configured(self) -> bool:
        return bool(self.imap_host and self.imap_user and self.imap_password)

    @property
    def imap_effective_port(self) -> int:
        if self.imap_port is not None:
            return self.imap_port
        return 993 if self.imap_tls == "ssl" else 143
