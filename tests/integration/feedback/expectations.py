"""What the stats must say about a generated file (computed from what the generator wrote)."""

from __future__ import annotations

from collections import Counter

from email_engine.feedback.accounting import clean_diagnostic, split_status
from email_engine.feedback.aggregate import counters_for
from email_engine.feedback.bounce import classify_bounce
from email_engine.feedback.classified import CLASSIFIED_TYPES
from tests.integration.feedback.generate import Expected, Written


def verdict(record: Written) -> tuple[str | None, str | None]:
    """(category, type) the classifier gives this record, or (None, None) when it is not classified."""
    if record.type not in CLASSIFIED_TYPES:
        return None, None
    status, _text = split_status(record.dsn_status)
    domain = record.rcpt.rpartition("@")[2]
    result = classify_bounce(
        status, clean_diagnostic(record.dsn_diag), bounce_cat=record.bounce_cat, recipient_domain=domain
    )
    return result.category, result.type


def expected_summary(expected: Expected) -> dict[str, object]:
    totals: Counter[str] = Counter()
    categories: Counter[str] = Counter()
    for record in expected.valid:
        category, bounce_type = verdict(record)
        counters = counters_for(record.type, bounce_type)
        totals.update(counters)
        if "bounced" in counters and category:
            categories[category] += 1
    return {
        "sent": totals["sent"],
        "delivered": totals["delivered"],
        "bounced": totals["bounced"],
        "complaints": totals["complaints"],
        "deferred": totals["deferred"],
        "by_type": {"hard": totals["hard"], "soft": totals["soft"], "block": totals["block"]},
        "by_category": dict(categories),
    }


def forwardable(expected: Expected) -> list[Written]:
    """Records scraper-pro must hear about as bounces: hard bounces (b, rb) and complaints (f)."""
    return [
        record
        for record in expected.valid
        if record.type == "f" or (record.type in ("b", "rb") and verdict(record)[1] == "hard")
    ]
