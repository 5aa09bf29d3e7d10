"""Accounting byte streams with everything that makes cutting them hard, and how the pipe parses them."""

from __future__ import annotations

import random

from email_engine.feedback.raw_segment import SegmentStart, header_cells
from email_engine.feedback.records import DeadLetterItem, IngestRecord, ingest_items

HEADER = b"type,timeLogged,rcpt,dsnStatus,dsnDiag\r\n"
# Another column order, quoted names, one more column: a PowerMTA restart with changed record-fields.
OTHER_HEADER = b'"type","timeLogged","rcpt","dsnDiag","dsnStatus",header_Subject\n'


def row(index: int) -> bytes:
    return f"d,2026-11-24 10:00:{index % 60:02d}+0000,user.{index}@example.com,2.0.0,smtp;250 ok\r\n".encode()


def other_row(index: int) -> bytes:
    return (
        f'b,2026-11-24 11:00:{index % 60:02d}+0000,b.{index}@example.org,"smtp;550 no, ""really"" no",'
        f"5.1.1,Hello {index}\n".encode()
    )


SPECIAL_LINES = (
    # A quoted field over three lines, one of which looks like a header line: it is field text.
    b'b,2026-11-24 10:01:00+0000,multi@example.com,5.1.1,"smtp;550 first line\r\n'
    b"type,timeLogged,rcpt\r\n"
    b'last line, still quoted"\r\n',
    # Invalid UTF-8 in a record and in a garbage line.
    b"d,2026-11-24 10:02:00+0000,caf\xc3\xa9@example.com,2.0.0,smtp;250 \xff\xfe broken\r\n",
    b"\xff\xfe no colon here, type, either\n",
    b"this line is not a record at all\n",
    b"\n",
)

STRAY_QUOTE = b'"an unterminated, quoted field that never closes\r\n'


def stream(seed: int, *, records: int = 400, stray_quote: bool = True) -> bytes:
    """Records under two header lines, multi-line quoted fields, CRLF and LF, invalid UTF-8, garbage, and
    (optionally) a stray quote followed closely by a header change that the parser reads once it gives up."""
    rng = random.Random(seed)
    out = [HEADER]
    other = False
    for index in range(records):
        roll = rng.random()
        if roll < 0.03:
            other = not other
            out.append(OTHER_HEADER if other else HEADER)
        elif roll < 0.08:
            out.append(rng.choice(SPECIAL_LINES))
        out.append(other_row(index) if other else row(index))
    if stray_quote:
        at = len(out) // 2
        out[at:at] = [STRAY_QUOTE, *(row(900 + n) for n in range(5)), OTHER_HEADER, other_row(950)]
    return b"".join(out)


def physical_lines(data: bytes) -> list[str]:
    parts = data.split(b"\n")
    lines = [part + b"\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return [line.decode("utf-8", "replace") for line in lines]


def parse(data: bytes, start: SegmentStart | None = None) -> list[IngestRecord | DeadLetterItem]:
    if start is None:
        return list(ingest_items(physical_lines(data), stream="t"))
    header = header_cells(start.header) if start.header is not None else None
    return list(
        ingest_items(physical_lines(data), stream="t", header=header, first_line_number=start.first_line)
    )
