"""Bounce typing on every table of real replies: agreement, type agreement and default-rule share per table.

    .venv/bin/python bench/feedback_reply_tables.py [--corpus DIR] [--show TABLE] [--defaults]

Tables:
  corpus      the shared bounce corpus (629 messages; Sisimai's reading of each recipient)
  providers   tests/unit/feedback/provider_responses.py (204 replies written from providers' explanations)
  references  tests/data/bounces/provider-references.jsonl (replies as providers publish them, each with its
              source; transcribed by Sisimai's rhost tables)

For each: rows, category agreement, type agreement (hard / block / soft), replies landing on the default rule
(no rule understood them), blocks typed hard and 4xx typed hard (both must be 0). docs/bounces.md quotes it.
--show TABLE lists that table's disagreements; --defaults lists the replies that land on the default rule.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.feedback.provider_responses import RESPONSES, expected_type  # noqa: E402
from tests.unit.feedback.reply_tables import REFERENCES_FILE, ReplyRow, corpus_table, reference_table  # noqa: E402

from email_engine.feedback.bounce import BounceType, classify_bounce  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "data" / "bounce-corpus"


@dataclass
class Score:
    rows: int = 0
    category: int = 0
    type: int = 0
    default: int = 0
    block_as_hard: list[ReplyRow] = field(default_factory=list)
    transient_hard: list[ReplyRow] = field(default_factory=list)
    wrong: list[tuple[ReplyRow, str, str, str]] = field(default_factory=list)
    defaults: list[ReplyRow] = field(default_factory=list)


def score(rows: Iterable[ReplyRow]) -> Score:
    result = Score()
    for row in rows:
        verdict = classify_bounce(row.status, row.diag)
        result.rows += 1
        result.category += verdict.category in row.categories
        result.type += verdict.type == row.type
        if verdict.rule == "default":
            result.default += 1
            result.defaults.append(row)
        if row.type == BounceType.BLOCK and verdict.type is BounceType.HARD:
            result.block_as_hard.append(row)
        if row.status.startswith("4") and verdict.type is BounceType.HARD:
            result.transient_hard.append(row)
        if verdict.category not in row.categories or verdict.type != row.type:
            result.wrong.append((row, verdict.category, str(verdict.type), verdict.rule))
    return result


def _share(part: int, whole: int) -> str:
    return f"{part}/{whole} {100 * part / whole:5.1f}%"


def provider_table() -> list[ReplyRow]:
    return [
        ReplyRow(
            provider,
            status,
            diag,
            frozenset({category}),
            expected_type(status, diag, category),
            "provider_responses.py",
        )
        for provider, status, diag, category in RESPONSES
    ]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--show", choices=("corpus", "providers", "references"))
    parser.add_argument("--defaults", action="store_true")
    args = parser.parse_args()
    tables = {
        "corpus": corpus_table(args.corpus),
        "providers": provider_table(),
        "references": reference_table(REFERENCES_FILE),
    }
    print(
        f"{'table':11s} {'rows':>5s} {'category':>16s} {'type':>16s} {'default rule':>15s} block->hard 4xx->hard"
    )
    for name, rows in tables.items():
        s = score(rows)
        print(
            f"{name:11s} {s.rows:5d} {_share(s.category, s.rows):>16s} {_share(s.type, s.rows):>16s} {_share(s.default, s.rows):>15s} "
            f"{len(s.block_as_hard):11d} {len(s.transient_hard):9d}"
        )
        if args.show == name:
            for row, category, kind, rule in s.wrong:
                print(
                    f"   {row.provider:10s} {row.status:8s} want {'|'.join(sorted(row.categories))}/{row.type} "
                    f"got {category}/{kind} ({rule}): {row.diag[:150]!r}"
                )
        if args.defaults:
            for row in s.defaults:
                print(f"   default {name} {row.provider} {row.status}: {row.diag[:150]!r}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
