"""An accounting record as JSON with PowerMTA's own column names (``timeLogged``, ``dsnStatus``…), for
output that reads like the accounting file it came from (``email-engine bounces``, the DSN endpoint)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from email_engine.feedback.accounting import AccountingRecord, record_key

__all__ = ["record_as_dict"]

# Attribute → PowerMTA column name, in the order of the columns the parser reads.
_COLUMN_NAMES: Final[dict[str, str]] = {
    "type": "type",
    "time_logged": "timeLogged",
    "time_queued": "timeQueued",
    "orig": "orig",
    "rcpt": "rcpt",
    "orcpt": "orcpt",
    "dsn_action": "dsnAction",
    "dsn_status": "dsnStatus",
    "dsn_diag": "dsnDiag",
    "dsn_mta": "dsnMta",
    "bounce_cat": "bounceCat",
    "src_type": "srcType",
    "src_mta": "srcMta",
    "dlv_type": "dlvType",
    "dlv_source_ip": "dlvSourceIp",
    "dlv_destination_ip": "dlvDestinationIp",
    "dlv_size": "dlvSize",
    "vmta": "vmta",
    "vmta_pool": "vmtaPool",
    "job_id": "jobId",
    "env_id": "envId",
    "queue": "queue",
    "feedback_type": "feedbackType",
}


def record_as_dict(record: AccountingRecord) -> dict[str, Any]:
    """JSON-ready dict with PowerMTA's column names (``timeLogged`` …) plus ``dsnStatusText``,
    ``dsnDiagRaw``, ``headers``, ``extra``, ``lineNumber`` and the idempotency ``key``."""
    out: dict[str, Any] = {}
    for attr, name in _COLUMN_NAMES.items():
        value = getattr(record, attr)
        if isinstance(value, datetime):
            value = value.isoformat()
        out[name] = value
    out["dsnStatusText"] = record.dsn_status_text
    out["dsnDiagRaw"] = record.dsn_diag_raw
    out["headers"] = dict(record.headers)
    out["extra"] = dict(record.extra)
    out["lineNumber"] = record.line_number
    out["key"] = record_key(record)
    return out
