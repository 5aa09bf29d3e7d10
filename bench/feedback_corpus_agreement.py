"""Bounce classifier against Sisimai's labels on the shared corpus (tests/data/bounce-corpus).

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

from tests.unit.feedback.sisimai_corpus import NOT_BOUNCES, CorpusRow, corpus_rows  # noqa: E402

from email_engine.errors import EmailEngineError  # noqa: E402
from email_engine.feedback.bounce import BLOCK_CATEGORIES, BounceType, classify_bounce, type_for  # noqa: E402
from email_engine.feedback.dsn import parse_dsn  # noqa: E402

DEFAULT_CORPUS = ROOT / "tests" / "data" / "bounce-corpus"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--all", action="store_true", help="list every disagreement")
    args = parser.parse_args()
    rows = list(corpus_rows(args.corpus))
    agree = type_agree = 0
    block_as_hard = []
    types: collections.Counter[tuple[str, str]] = collections.Counter()
    disagreements = []
    confusion: collections.Counter[tuple[str, str]] = collections.Counter()
    for row in rows:
        result = classify_bounce(row.status, row.diag)
        sisimai_block = bool(row.expected & BLOCK_CATEGORIES) and row.expected <= BLOCK_CATEGORIES
        expected_types = {type_for(c, row.status) for c in row.expected}
        type_agree += result.type in expected_types
        types[("|".join(sorted(map(str, expected_types))), str(result.type))] += 1
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
    print(f"type agreement (hard/block/soft): {type_agree}/{total} = {100 * type_agree / total:.1f}%")
    print(f"Sisimai block-type rows typed hard by us: {len(block_as_hard)}")
    print("types, Sisimai -> ours: " + ", ".join(f"{e}->{o}: {n}" for (e, o), n in sorted(types.items())))
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
    end_to_end(args.corpus, rows)
    return 0


def end_to_end(folder: Path, rows: list[CorpusRow]) -> None:
    """parse-dsn on each .eml, then classify our own reading; matched to Sisimai's rows by recipient order."""
    by_key = {(row.file, row.idx): row for row in rows}
    files = sorted((folder / "eml").glob("*.eml"))
    parsed = refused = compared = agree = block_as_hard = 0
    for path in files:
        try:
            records = parse_dsn(path.read_bytes())
        except EmailEngineError:
            refused += 1
            continue
        parsed += 1
        for idx, record in enumerate(records, start=1):
            row = by_key.get((path.stem, idx))
            if row is None or record.type == "f":
                continue
            compared += 1
            result = classify_bounce(record.dsn_status, record.dsn_diag)
            agree += result.category in row.expected
            if row.expected <= BLOCK_CATEGORIES and result.type is BounceType.HARD:
                block_as_hard += 1
                print(
                    f"  E2E BLOCK->HARD {path.stem}#{idx} {row.reason} {record.dsn_status} {record.dsn_diag[:100]!r}"
                )
    print(
        f"\nend to end (parse-dsn + classify): {len(files)} messages, {parsed} parsed, {refused} refused as not DSN/ARF"
    )
    print(
        f"  recipients compared with Sisimai: {compared}; category agreement {agree}/{compared} = {100 * agree / max(compared, 1):.1f}%"
    )
    print(f"  Sisimai block-type rows typed hard: {block_as_hard}")


if __name__ == "__main__":
    raise SystemExit(main())
