"""Bounce classifier against Sisimai's labels on the shared corpus (../shared/data/bounce-corpus).

    .venv/bin/python bench/feedback_corpus_agreement.py [--corpus DIR] [--all]

Prints category agreement, the number of rows Sisimai calls a block that we call hard (must be 0), the
agreement of types, and the disagreements (all of them with --all, else the first 60).
"""

from __future__ import annotations

import argparse
import collections
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.unit.feedback.sisimai_corpus import NOT_BOUNCES, corpus_rows  # noqa: E402

from email_engine.feedback.bounce import BLOCK_CATEGORIES, BounceType, classify_bounce  # noqa: E402

DEFAULT_CORPUS = ROOT.parent / "shared" / "data" / "bounce-corpus"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--all", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    rows = list(corpus_rows(args.corpus))
    agree = 0
    block_as_hard = []
    disagreements = []
    confusion: collections.Counter[tuple[str, str]] = collections.Counter()
    for row in rows:
        result = classify_bounce(row.status, row.diag)
        sisimai_block = bool(row.expected & BLOCK_CATEGORIES) and row.expected <= BLOCK_CATEGORIES
        if result.category in row.expected:
            agree += 1
        else:
            disagreements.append((row, result))
            confusion[("|".join(sorted(row.expected)), result.category)] += 1
        if sisimai_block and result.type is BounceType.HARD:
            block_as_hard.append((row, result))
    total = len(rows)
    print(f"corpus: {args.corpus}")
    print(f"rows counted: {total} (excluded non-bounce reasons: {', '.join(sorted(NOT_BOUNCES))})")
    print(f"category agreement: {agree}/{total} = {100 * agree / total:.1f}%")
    print(f"Sisimai block-type rows typed hard by us: {len(block_as_hard)}")
    for row, result in block_as_hard:
        print(f"  BLOCK->HARD {row.file}#{row.idx} {row.reason} {row.status} {row.diag[:120]!r} -> {result}")
    print("\nmost frequent disagreements (expected -> ours: count):")
    for (expected, ours), count in confusion.most_common(15):
        print(f"  {expected} -> {ours}: {count}")
    shown = disagreements if args.all else disagreements[:60]
    print(f"\ndisagreements ({len(disagreements)}; showing {len(shown)}):")
    for row, result in shown:
        print(
            f"  {row.file}#{row.idx} sisimai={row.reason} expected={'|'.join(sorted(row.expected))} "
            f"ours={result.category}/{result.type} rule={result.rule} status={row.status or '-'} "
            f"diag={row.diag[:160]!r}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
