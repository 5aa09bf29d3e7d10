"""Rates and the domain auto-suppression decision (pure)."""

from __future__ import annotations

from email_engine.feedback.domain_suppression import decide_domains
from email_engine.feedback.stats import rates


def test_rates_are_ratios_and_none_without_volume() -> None:
    counts = {
        "sent": 200,
        "delivered": 150,
        "bounced": 50,
        "hard": 10,
        "soft": 20,
        "block": 20,
        "complaints": 3,
        "deferred": 9,
    }
    assert rates(counts) == {
        "bounce_rate": 0.25,
        "hard_bounce_rate": 0.05,
        "block_rate": 0.1,
        "complaint_rate": 0.02,
    }
    empty = dict.fromkeys(counts, 0)
    assert set(rates(empty).values()) == {None}


def test_domain_decision_threshold_volume_providers_and_already_suppressed() -> None:
    totals = [
        ("dying.test", 100, 11),  # over 10 %
        ("borderline.test", 100, 10),  # exactly 10 %: not over
        ("small.test", 10, 10),  # under the minimum volume
        ("gmail.com", 1000, 500),  # big provider: flagged only
        ("done.test", 100, 90),  # already on the list
    ]
    run = decide_domains(totals, threshold=0.10, min_volume=50, already={"done.test"})
    assert [v.domain for v in run.suppressed] == ["dying.test"]
    assert [v.domain for v in run.flagged] == ["gmail.com"]
