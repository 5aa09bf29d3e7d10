"""Tables of real SMTP replies with what each means: the shared corpus and the provider references.

A row says which categories count as agreement (Sisimai's reasons are coarser than PowerMTA's categories for
network and system errors, see sisimai_corpus.py) and the contact-level type the reply must get:

- a permanent (5xx) reply: hard for a dead address, block for a refusal of our IP, domain, authentication or
  content, soft otherwise;
- a transient (4xx) reply: never hard; block only when it names the sender's reputation, volume or
  authentication (Sisimai: blocked, badreputation, spamdetected, authfailure, requireptr, rejected), else soft.

Used by tests/unit/feedback/test_reply_tables.py and bench/feedback_reply_tables.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from email_engine.feedback.bounce import BLOCK_CATEGORIES, HARD_CATEGORIES, BounceType
from tests.unit.feedback.sisimai_corpus import corpus_rows

__all__ = ["REFERENCES_FILE", "ReplyRow", "corpus_table", "expected_type", "reference_table"]

REFERENCES_FILE = Path(__file__).resolve().parents[2] / "data" / "bounces" / "provider-references.jsonl"
#: Sisimai's reasons for a refusal that names the sender (its IP, reputation, authentication or volume).
SENDER_REASONS = frozenset(
    {"blocked", "badreputation", "spamdetected", "authfailure", "requireptr", "rejected"}
)


@dataclass(frozen=True, slots=True)
class ReplyRow:
    provider: str
    status: str
    diag: str
    categories: frozenset[str]
    type: BounceType
    source: str


def expected_type(reason: str, categories: Iterable[str], status: str) -> BounceType:
    if status.startswith("4"):
        return BounceType.BLOCK if reason in SENDER_REASONS else BounceType.SOFT
    kinds = {
        BounceType.HARD
        if category in HARD_CATEGORIES
        else BounceType.BLOCK
        if category in BLOCK_CATEGORIES
        else BounceType.SOFT
        for category in categories
    }
    if len(kinds) != 1:
        raise ValueError(f"categories {sorted(categories)} of reason {reason} imply several types")
    return kinds.pop()


def corpus_table(folder: Path) -> list[ReplyRow]:
    return [
        ReplyRow(
            f"{row.file}#{row.idx}",
            row.status,
            row.diag,
            row.expected,
            expected_type(row.reason, row.expected, row.status),
            "shared bounce corpus",
        )
        for row in corpus_rows(folder)
    ]


def reference_table(path: Path = REFERENCES_FILE) -> list[ReplyRow]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            data = json.loads(line)
            rows.append(
                ReplyRow(
                    data["provider"],
                    data["status"],
                    data["diag"],
                    frozenset(data["categories"]),
                    BounceType(data["type"]),
                    data["source"],
                )
            )
    return rows
