"""The classifier against Sisimai's labels on the shared corpus (every bounce row counted)."""

from __future__ import annotations

from pathlib import Path

from email_engine.feedback.bounce import BLOCK_CATEGORIES, BounceType, classify_bounce
from tests.unit.feedback.sisimai_corpus import corpus_rows

# Measured 84.0% (498/593) when this floor was set; see docs/bounces.md and bench/feedback_corpus_agreement.py.
AGREEMENT_FLOOR = 0.82


def test_no_block_is_typed_hard_and_agreement_holds(shared_data: Path) -> None:
    rows = list(corpus_rows(shared_data / "bounce-corpus"))
    assert len(rows) == 593  # 622 rows minus 29 that are not bounces (delivered, feedback, vacation)
    agree = 0
    block_as_hard = []
    for row in rows:
        result = classify_bounce(row.status, row.diag)
        agree += result.category in row.expected
        if row.expected <= BLOCK_CATEGORIES and result.type is BounceType.HARD:
            block_as_hard.append((row.file, row.idx, row.reason, result.rule))
    assert block_as_hard == []
    assert agree / len(rows) >= AGREEMENT_FLOOR, f"agreement {agree}/{len(rows)}"
