"""Where the pipe may cut its raw input: every piece parses on its own exactly as inside the whole stream."""

from __future__ import annotations

import random
from collections.abc import Iterable
from itertools import cycle

import pytest

from email_engine.feedback.accounting import MAX_RECORD_LINES
from email_engine.feedback.raw_segment import RawCutter, RawPreamble, SegmentStart, header_cells
from email_engine.feedback.records import DeadLetterItem, IngestRecord
from tests.unit.feedback.raw_streams import (
    HEADER,
    OTHER_HEADER,
    SPECIAL_LINES,
    STRAY_QUOTE,
    other_row,
    parse,
    row,
    stream,
)


def _cut(
    data: bytes, *, batch_lines: int, reads: Iterable[int], max_bytes: int = 1 << 40
) -> list[tuple[SegmentStart, bytes]]:
    """Feed ``data`` to a cutter in reads of the given sizes, the way the reader's read path does."""
    cutter = RawCutter(batch_lines=batch_lines, max_bytes=max_bytes)
    pieces: list[tuple[SegmentStart, bytes]] = []
    start, current = cutter.start, bytearray()
    position = 0
    for size in cycle(reads):
        if position >= len(data):
            break
        chunk = data[position : position + size]
        position += len(chunk)
        while chunk:
            cut = cutter.advance(chunk)
            if cut is None:
                current += chunk
                break
            current += chunk[:cut]
            pieces.append((start, bytes(current)))
            start, current = cutter.cut(), bytearray()
            chunk = chunk[cut:]
    if current:
        pieces.append((start, bytes(current)))
    return pieces


def _assert_pieces_parse_like_thestream(data: bytes, pieces: list[tuple[SegmentStart, bytes]]) -> None:
    assert b"".join(piece for _, piece in pieces) == data
    offset = 0
    for start, piece in pieces:
        assert start.first_line == data[:offset].count(b"\n") + 1  # physical line numbers of the input
        offset += len(piece)
    whole = parse(data)
    assert [item for start, piece in pieces for item in parse(piece, start)] == whole


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("batch_lines", [1, 2, 7, 50])
def test_every_piece_parses_as_inside_the_wholestream(seed: int, batch_lines: int) -> None:
    data = stream(seed)
    rng = random.Random(seed * 31 + batch_lines)
    reads = [rng.choice([1, 2, 3, 5, 17, 64, 333, 4096]) for _ in range(50)]  # lines split across reads
    pieces = _cut(data, batch_lines=batch_lines, reads=reads)
    assert len(pieces) > 5
    _assert_pieces_parse_like_thestream(data, pieces)


def test_stream_items_cover_records_dead_letters_and_both_headers() -> None:
    """The stream used above really holds what the equality is meant to check."""
    items = parse(stream(0))
    letters = [item for item in items if isinstance(item, DeadLetterItem)]
    records = [item for item in items if isinstance(item, IngestRecord)]
    assert any(
        record.rcpt.startswith("multi@") and "last line" in (record.dsn_diag or "") for record in records
    )
    assert any(
        record.rcpt.startswith("b.950@") for record in records
    )  # read under the header after the stray quote
    assert any("\ufffd" in (record.dsn_diag or "") for record in records)
    assert any("never closed" in letter.reason for letter in letters)
    assert any("\ufffd" in letter.raw for letter in letters)


def test_a_quoted_field_spanning_lines_is_never_cut() -> None:
    data = stream(3, stray_quote=False)
    pieces = _cut(data, batch_lines=1, reads=[4096])
    assert all(piece.count(b'"') % 2 == 0 for _, piece in pieces)
    multi = SPECIAL_LINES[0]
    assert multi in data and all(
        multi in piece for _, piece in pieces if b"multi@example.com" in piece
    )  # the whole record sits in one piece
    _assert_pieces_parse_like_thestream(data, pieces)


def test_a_stray_quote_holds_cuts_back_only_as_long_as_the_parser_would_join_lines() -> None:
    data = HEADER + STRAY_QUOTE + b"".join(row(n) for n in range(100))
    pieces = _cut(data, batch_lines=1, reads=[1 << 20])
    first_lines = [start.first_line for start, _ in pieces]
    # Line 2 opens the field; the parser joins at most MAX_RECORD_LINES lines to it, then gives up.
    assert first_lines[:3] == [1, 2, 2 + MAX_RECORD_LINES]
    assert first_lines[3:] == list(range(3 + MAX_RECORD_LINES, 3 + MAX_RECORD_LINES + len(first_lines) - 3))
    _assert_pieces_parse_like_thestream(data, pieces)


def test_header_in_effect_is_carried_to_each_piece() -> None:
    data = HEADER + row(1) + row(2) + OTHER_HEADER + other_row(3) + other_row(4)
    pieces = _cut(data, batch_lines=1, reads=[7])
    headers = [start.header for start, _ in pieces]
    assert headers == [
        None,
        HEADER.decode().rstrip(),
        HEADER.decode().rstrip(),
        HEADER.decode().rstrip(),
        OTHER_HEADER.decode().rstrip(),
        OTHER_HEADER.decode().rstrip(),
    ]
    _assert_pieces_parse_like_thestream(data, pieces)


def test_crlf_lines_keep_their_line_end_and_numbering() -> None:
    data = HEADER + b"".join(row(n) for n in range(10))
    assert b"\r\n" in data
    pieces = _cut(data, batch_lines=3, reads=[5])
    assert all(piece.endswith(b"\r\n") for _, piece in pieces)
    assert [start.first_line for start, _ in pieces] == [1, 4, 7, 10]
    _assert_pieces_parse_like_thestream(data, pieces)


def test_no_cut_before_the_batch_is_full_unless_overdue() -> None:
    cutter = RawCutter(batch_lines=10, max_bytes=1 << 30)
    assert cutter.advance(HEADER + row(1)) is None
    assert not cutter.can_cut_here() or cutter.lines == 2
    assert cutter.advance(row(2) + b"d,2026-11-24 partial", overdue=True) == len(row(2))
    assert cutter.cut() == SegmentStart(4, HEADER.decode().rstrip())


def test_pause_cut_only_at_a_line_end_outside_quotes() -> None:
    cutter = RawCutter(batch_lines=10, max_bytes=1 << 30)
    assert not cutter.can_cut_here()  # nothing in the segment
    cutter.advance(HEADER + b"d,2026-11-24 10:00:00+0000,a@x")
    assert not cutter.can_cut_here()  # inside a line
    cutter.advance(b".example,2.0.0,ok\n")
    assert cutter.can_cut_here()
    cutter.advance(b'b,2026-11-24 10:00:00+0000,a@x.example,5.1.1,"opened\n')
    assert not cutter.can_cut_here()  # inside a quoted field
    cutter.advance(b'closed"\n')
    assert cutter.can_cut_here()


def test_hostile_input_without_line_ends_is_cut_anyway() -> None:
    data = b"x" * (3 << 20)
    pieces = _cut(data, batch_lines=5000, reads=[1 << 16], max_bytes=1 << 20)
    assert len(pieces) > 1 and b"".join(piece for _, piece in pieces) == data
    # Cut inside the line only once it is too long for the parser anyway (a dead letter either way).
    assert max(len(piece) for _, piece in pieces) <= (1 << 20) + (1 << 16)
    assert all(start.first_line == 1 and start.header is None for start, _ in pieces)


def test_hostile_long_lines_inside_an_open_quote_are_cut_at_a_line_end_past_the_cap() -> None:
    long_line = b"y" * 100_000 + b"\n"
    data = HEADER + STRAY_QUOTE + long_line * 20
    pieces = _cut(data, batch_lines=1, reads=[1 << 16], max_bytes=250_000)
    assert len(pieces) > 3
    assert all(piece.endswith(b"\n") for _, piece in pieces)
    assert max(len(piece) for _, piece in pieces) < 250_000 + len(long_line)


def test_lines_with_one_quote_each_still_cut_at_every_other_line() -> None:
    """'Odd quotes forever': each pair of lines is one quoted field, so cuts fall between pairs."""
    pair = b'b,2026-11-24 10:00:00+0000,a@x.example,5.1.1,"first\nsecond"\n'
    data = HEADER + pair * 50
    pieces = _cut(data, batch_lines=1, reads=[100])
    assert all(piece.count(b'"') % 2 == 0 for _, piece in pieces)
    assert len(pieces) == 51
    _assert_pieces_parse_like_thestream(data, pieces)


def test_may_cut_false_only_follows() -> None:
    cutter = RawCutter(batch_lines=1, max_bytes=1)
    assert cutter.advance(HEADER + row(1) + row(2), may_cut=False) is None
    assert cutter.lines == 3 and cutter.line == 4 and cutter.header == HEADER.decode().rstrip()


@pytest.mark.parametrize(
    ("line", "cells"),
    [
        ("type,timeLogged,rcpt\r\n", ["type", "timeLogged", "rcpt"]),
        ('"type","rcpt"', ["type", "rcpt"]),
        ("type,header_Grüße", ["type", "header_Grüße"]),
        ("type", None),  # one cell: not a header line
        ("rcpt,orig", None),  # no type column
        ("type,time: logged", None),
        ("d,2026-11-24 10:00:00+0000", None),
        ("type,a b", None),
        ('type,"unclosed', None),
        ("", None),
    ],
)
def test_header_cells_follow_the_parser_rule(line: str, cells: list[str] | None) -> None:
    assert header_cells(line) == cells


def test_preamble_round_trips_and_refuses_damage() -> None:
    plain = RawPreamble("pmta-bounce", 12, "type,rcpt")
    moved = RawPreamble("pipe", 3, None, moved_from="0001-2-ab", moved_at=120, moved_bytes=40)
    for preamble in (plain, moved):
        encoded = preamble.encode()
        assert encoded.endswith(b"\n") and encoded.count(b"\n") == 1
        assert RawPreamble.decode(encoded) == preamble
    with pytest.raises(ValueError, match="incomplete"):
        RawPreamble.decode(plain.encode()[:-3])
    with pytest.raises(ValueError, match="not JSON"):
        RawPreamble.decode(b"{nope\n")
    with pytest.raises(ValueError, match="format"):
        RawPreamble.decode(b'{"v": 2, "source": "pipe"}\n')
    with pytest.raises(ValueError, match="source"):
        RawPreamble.decode(b'{"raw": 1, "line": "x"}\n')
