"""Postmaster Tools API v2 requests and answers, pure (no I/O).

Shapes from the v2 reference (https://developers.google.com/workspace/gmail/postmaster/reference/rest/v2/)
and its discovery document (gmailpostmastertools v2, revision 20260512, as shipped in
google-api-python-client's discovery cache):

- ``POST v2/domains/{domain}/domainStats:query`` takes ``metricDefinitions`` (each a ``name`` of our
  choosing, a ``baseMetric.standardMetric`` and an optional ``filter``), a ``timeQuery`` of
  ``dateRanges`` and ``aggregationGranularity: DAILY``, and answers ``domainStats``: one entry per day
  with data and metric, ``{"date": {year, month, day}, "metric": name, "value": StatisticValue}``,
  plus ``nextPageToken`` while more remain. Only dates with data are returned.
- ``StatisticValue`` holds one of ``doubleValue``, ``floatValue``, ``intValue`` (a string),
  ``stringValue`` or ``stringList.values``.
- ``GET v2/domains/{domain}/complianceStatus`` answers ``complianceData`` with ``rowData`` (a
  ``requirement`` such as SPF, DKIM, DMARC_ALIGNMENT, USER_REPORTED_SPAM_RATE… and its
  ``status.status``: COMPLIANT or NEEDS_WORK) and the one-click / honour-unsubscribe verdicts.

Rates are fractions (0.001 is 0.1 %); a rate outside 0..1, a value of the wrong type or a day
without a date is reported as a problem and left out, never stored as a number it is not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "METRICS",
    "RATE_FIELDS",
    "Compliance",
    "DomainDay",
    "fbl_metrics",
    "parse_compliance",
    "parse_domain_stats",
    "query_body",
]

# name → (standard metric, filter). Filter syntax from the BaseMetric enum descriptions.
METRICS: dict[str, tuple[str, str]] = {
    "spam_rate": ("SPAM_RATE", ""),
    "dkim_success_rate": ("AUTH_SUCCESS_RATE", 'auth_type = "dkim"'),
    "spf_success_rate": ("AUTH_SUCCESS_RATE", 'auth_type = "spf"'),
    "dmarc_success_rate": ("AUTH_SUCCESS_RATE", 'auth_type = "dmarc"'),
    "tls_inbound_rate": ("TLS_ENCRYPTION_RATE", 'traffic_direction = "inbound"'),
    "delivery_error_rate": ("DELIVERY_ERROR_RATE", ""),
    "delivery_reject_rate": ("DELIVERY_ERROR_RATE", 'error_type = "reject"'),
    "delivery_temp_fail_rate": ("DELIVERY_ERROR_RATE", 'error_type = "temp_fail"'),
    "feedback_loop_ids": ("FEEDBACK_LOOP_ID", ""),
}
RATE_FIELDS = tuple(name for name in METRICS if name.endswith("_rate"))
_FBL_PREFIX = "fbl_spam_rate:"


@dataclass(slots=True)
class DomainDay:
    day: date
    rates: dict[str, float] = field(default_factory=dict)
    feedback_loop_ids: list[str] = field(default_factory=list)
    fbl_spam_rates: dict[str, float] = field(default_factory=dict)

    @property
    def fbl_spam_rate(self) -> float | None:
        return max(self.fbl_spam_rates.values()) if self.fbl_spam_rates else None


@dataclass(frozen=True, slots=True)
class Compliance:
    requirements: dict[str, str]  # requirement → COMPLIANT / NEEDS_WORK / STATE_UNSPECIFIED
    one_click_unsubscribe: str | None
    one_click_reason: str | None
    honor_unsubscribe: str | None
    honor_reason: str | None

    @property
    def compliant(self) -> bool | None:
        statuses = [*self.requirements.values(), self.one_click_unsubscribe, self.honor_unsubscribe]
        known = [status for status in statuses if status in ("COMPLIANT", "NEEDS_WORK")]
        if not known:
            return None
        return all(status == "COMPLIANT" for status in known)

    def needs_work(self) -> list[str]:
        names = [name for name, status in self.requirements.items() if status == "NEEDS_WORK"]
        if self.one_click_unsubscribe == "NEEDS_WORK":
            names.append("ONE_CLICK_UNSUBSCRIBE")
        if self.honor_unsubscribe == "NEEDS_WORK":
            names.append("HONOR_UNSUBSCRIBE")
        return sorted(set(names))


def _definitions(metrics: Mapping[str, tuple[str, str]]) -> list[dict[str, Any]]:
    definitions = []
    for name, (standard, condition) in metrics.items():
        item: dict[str, Any] = {"name": name, "baseMetric": {"standardMetric": standard}}
        if condition:
            item["filter"] = condition
        definitions.append(item)
    return definitions


def _date(value: date) -> dict[str, int]:
    return {"year": value.year, "month": value.month, "day": value.day}


def query_body(
    start: date, end: date, *, metrics: Mapping[str, tuple[str, str]] = METRICS, page_token: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "metricDefinitions": _definitions(metrics),
        "timeQuery": {"dateRanges": {"dateRanges": [{"start": _date(start), "end": _date(end)}]}},
        "aggregationGranularity": "DAILY",
        "pageSize": 200,
    }
    if page_token:
        body["pageToken"] = page_token
    return body


def fbl_metrics(ids: Iterable[str]) -> dict[str, tuple[str, str]]:
    """FEEDBACK_LOOP_SPAM_RATE needs one definition per feedback-loop id (``feedback_loop_id = "…"``)."""
    return {
        f"{_FBL_PREFIX}{fbl}": ("FEEDBACK_LOOP_SPAM_RATE", f'feedback_loop_id = "{fbl.replace(chr(34), "")}"')
        for fbl in ids
    }


def _parse_date(raw: object) -> date | None:
    if not isinstance(raw, dict):
        return None
    try:
        return date(int(raw["year"]), int(raw["month"]), int(raw["day"]))
    except (KeyError, TypeError, ValueError):
        return None


def _number(value: Mapping[str, Any]) -> float | None:
    for key in ("doubleValue", "floatValue", "intValue"):
        if key in value:
            raw = value[key]
            if isinstance(raw, bool):
                return None
            try:
                number = float(raw)
            except (TypeError, ValueError):
                return None
            return number if math.isfinite(number) else None
    return None


def parse_domain_stats(
    stats: Iterable[object], into: dict[date, DomainDay] | None = None
) -> tuple[dict[date, DomainDay], list[str]]:
    """Fold ``domainStats`` entries into one :class:`DomainDay` per date; unreadable entries are problems."""
    days: dict[date, DomainDay] = into if into is not None else {}
    problems: list[str] = []
    for index, entry in enumerate(stats):
        if not isinstance(entry, dict):
            problems.append(f"entry {index}: not an object")
            continue
        metric = str(entry.get("metric", ""))
        when = _parse_date(entry.get("date"))
        value = entry.get("value")
        if when is None:
            problems.append(f"entry {index} ({metric or 'no metric'}): no valid date")
            continue
        if not isinstance(value, dict):
            problems.append(f"{when.isoformat()} {metric}: no value")
            continue
        day = days.setdefault(when, DomainDay(when))
        if metric == "feedback_loop_ids":
            raw_list = value.get("stringList", {})
            items = raw_list.get("values", []) if isinstance(raw_list, dict) else []
            if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
                problems.append(f"{when.isoformat()} feedback_loop_ids: not a list of strings")
                continue
            day.feedback_loop_ids = sorted(set(day.feedback_loop_ids) | {item[:255] for item in items})
            continue
        if metric not in RATE_FIELDS and not metric.startswith(_FBL_PREFIX):
            problems.append(f"{when.isoformat()}: unknown metric {metric[:60]!r}")
            continue
        number = _number(value)
        if number is None or not 0.0 <= number <= 1.0:
            problems.append(f"{when.isoformat()} {metric}: {str(value)[:80]} is not a rate between 0 and 1")
            continue
        if metric.startswith(_FBL_PREFIX):
            day.fbl_spam_rates[metric.removeprefix(_FBL_PREFIX)[:255]] = number
        else:
            day.rates[metric] = number
    return days, problems


def _verdict(raw: object) -> tuple[str | None, str | None]:
    if not isinstance(raw, dict):
        return None, None
    status = raw.get("status")
    state = status.get("status") if isinstance(status, dict) else None
    reason = raw.get("reason")
    return (str(state)[:32] if state else None), (str(reason)[:64] if reason else None)


def parse_compliance(answer: object) -> Compliance:
    """The registrable domain's compliance (``complianceData``); unknown when the answer lacks it."""
    data = answer.get("complianceData") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        return Compliance({}, None, None, None, None)
    requirements: dict[str, str] = {}
    rows = data.get("rowData", [])
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and isinstance(row.get("requirement"), str):
            status = row.get("status")
            state = status.get("status") if isinstance(status, dict) else None
            requirements[row["requirement"][:40]] = str(state or "STATE_UNSPECIFIED")[:32]
    one_click, one_click_reason = _verdict(data.get("oneClickUnsubscribeVerdict"))
    honor, honor_reason = _verdict(data.get("honorUnsubscribeVerdict"))
    return Compliance(requirements, one_click, one_click_reason, honor, honor_reason)
