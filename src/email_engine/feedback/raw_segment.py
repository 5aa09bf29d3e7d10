"""The pipe's raw segments: where a stream of accounting bytes may be cut, and the preamble of each piece (pure).

The pipe writes stdin into *raw segments* before anything parses it, so each piece must later parse on
its own exactly as it would have inside the whole stream. That holds when a piece starts where the
parser starts a record afresh, under the header line then in effect, with the input's line numbers:

- :class:`RawCutter` follows the stream line by line (complete lines only; a line split across two
  reads is joined) and allows a cut only at a line end outside a quoted field. It tracks quoted fields
  the way ``accounting.parse_accounting`` does: a line with an odd number of ``"`` opens a field that
  the next such line closes, and a field still open after ``MAX_RECORD_LINES`` lines is given up (the
  parser sets its first line aside and reads the rest as lines of their own), so one stray quote holds
  a cut back by at most that many lines. Past ``max_bytes`` a cut is forced at the next line end, or
  mid-line when that line is itself too long for the parser: hostile input cannot grow a segment
  without bound, and the parser sets the broken pieces aside as dead letters as it always does.
- It remembers the last header line (found by the parser's own rule) so each piece names the header
  in effect at its start.
- :class:`RawPreamble` is the one JSON line at the top of every raw segment file: format version, source
  label, first physical line number, header line, and, for a piece whose first bytes were moved out of
  the previous segment when it was cut, where they came from (so recovery after a kill can tell a
  finished move from an unfinished one).

Approximation, on malformed input only: the cutter does not check that the joined lines of a quoted
field form valid CSV, nor the parser's character limit per record, so around broken quoting a cut may
set aside different lines than the whole stream would have. Well-formed records are never split.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from typing import Any, Final

from email_engine.feedback.accounting import MAX_LINE_CHARS, MAX_RECORD_LINES, is_header_row, split_quoted

__all__ = ["FORMAT", "RawCutter", "RawPreamble", "SegmentStart", "header_cells"]

#: Version of the raw segment file format (the ``raw`` key of the preamble).
FORMAT: Final = 1
#: A line longer than this many bytes holds more than MAX_LINE_CHARS characters (UTF-8 uses at most 4
#: bytes per character; an invalid byte decodes to one), so the parser sets it aside whole: the cutter may
#: cut inside it, and never needs to remember it as a possible header line.
_LINE_BYTES_LIMIT: Final = 4 * MAX_LINE_CHARS


def header_cells(line: str) -> list[str] | None:
    """The column names when ``line`` is an accounting header line by the parser's rule, else None."""
    if ":" in line or len(line) > MAX_LINE_CHARS:
        return None  # header names hold no colon, every data row's time does
    body = line.replace("\x00", "\ufffd").rstrip("\r\n")
    if not body or body.isspace():
        return None
    row: list[str] | None = None
    if "\r" not in body and "\n" not in body:
        row = body.split(",") if '"' not in body else split_quoted(body)
    if row is None:
        try:
            row = next(csv.reader([body], strict=True))
        except (csv.Error, StopIteration):
            return None
    return row if is_header_row(row) else None


@dataclass(frozen=True, slots=True)
class SegmentStart:
    """What a raw segment needs to be parsed on its own."""

    #: Physical line number (1-based) of the segment's first byte in the input.
    first_line: int
    #: The last header line seen before the segment (text without line end), or None.
    header: str | None


@dataclass(frozen=True, slots=True)
class RawPreamble:
    source: str
    first_line: int
    header: str | None
    #: Stem of the segment this one's first ``moved_bytes`` were copied from, cut at byte ``moved_at``.
    moved_from: str | None = None
    moved_at: int = 0
    moved_bytes: int = 0

    def encode(self) -> bytes:
        body: dict[str, Any] = {
            "raw": FORMAT,
            "source": self.source,
            "line": self.first_line,
            "header": self.header,
        }
        if self.moved_from is not None:
            body.update(moved_from=self.moved_from, moved_at=self.moved_at, moved_bytes=self.moved_bytes)
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    @classmethod
    def decode(cls, line: bytes) -> RawPreamble:
        """Raises ValueError for anything but a complete preamble line of a known version."""
        if not line.endswith(b"\n"):
            raise ValueError("the raw segment's preamble line is incomplete")
        try:
            body = json.loads(line)
        except ValueError as exc:
            raise ValueError(f"the raw segment's preamble is not JSON: {exc}") from exc
        if not isinstance(body, dict) or body.get("raw") != FORMAT:
            raise ValueError(
                f"unknown raw segment format {body.get('raw') if isinstance(body, dict) else body!r}"
            )
        header = body.get("header")
        moved_from = body.get("moved_from")
        if (
            not isinstance(body.get("source"), str)
            or not isinstance(body.get("line"), int)
            or not (header is None or isinstance(header, str))
            or not (moved_from is None or isinstance(moved_from, str))
        ):
            raise ValueError("the raw segment's preamble lacks its source, line or header")
        return cls(
            source=body["source"],
            first_line=body["line"],
            header=header,
            moved_from=moved_from,
            moved_at=int(body.get("moved_at", 0)),
            moved_bytes=int(body.get("moved_bytes", 0)),
        )


@dataclass(slots=True)
class _PartialLine:
    """The end of the data read so far when it is not a line end: the rest comes with the next read."""

    length: int = 0
    odd_quotes: bool = False
    colon: bool = False
    #: Its bytes so far while it may still be a header line (no colon, not too long); None once it cannot.
    text: bytearray | None = field(default_factory=bytearray)

    def add(self, piece: bytes) -> None:
        self.length += len(piece)
        if piece.count(b'"') & 1:
            self.odd_quotes = not self.odd_quotes
        if not self.colon and b":" in piece:
            self.colon = True
        if self.text is not None:
            if self.colon or self.length > _LINE_BYTES_LIMIT:
                self.text = None
            else:
                self.text += piece


class RawCutter:
    """Follows the bytes appended to the current raw segment and says where it may end.

    :meth:`advance` consumes bytes in order and returns an offset into them just past the point where the
    segment must be cut (it consumed only that much), or None when the segment goes on; :meth:`cut` then
    starts the next segment and returns its :class:`SegmentStart`.
    """

    def __init__(
        self, *, batch_lines: int, max_bytes: int, first_line: int = 1, header: str | None = None
    ) -> None:
        self.batch_lines = batch_lines
        self.max_bytes = max_bytes
        #: Physical number of the line the next byte belongs to.
        self.line = first_line
        #: The header line in effect at the current position.
        self.header = header
        self.start = SegmentStart(first_line, header)
        #: Complete lines and bytes in the current segment.
        self.lines = 0
        self.size = 0
        self._partial = _PartialLine()
        #: Line number where the quoted field still open began, if one is.
        self._quote_opened_at: int | None = None
        #: The last header line met inside that field: field text if it closes, a header if the parser gives up.
        self._header_in_quotes: str | None = None

    def advance(self, data: bytes, *, overdue: bool = False, may_cut: bool = True) -> int | None:
        """Consume ``data``; return where the segment must be cut, or None.

        A cut is wanted once the segment holds ``batch_lines`` lines, is ``overdue`` (old enough), or has
        grown past ``max_bytes``; it happens at the first line end allowed from there. With ``may_cut``
        False the data is only followed (it belongs to the current segment whatever it holds).
        """
        position = 0
        end = len(data)
        while position < end:
            newline = data.find(b"\n", position)
            if newline < 0:
                self._partial.add(data[position:] if position else data)
                self.size += end - position
                if may_cut and self.size >= self.max_bytes and self._partial.length > _LINE_BYTES_LIMIT:
                    return end  # a line too long for the parser anyway: cut inside it
                return None
            after = newline + 1
            self.size += after - position
            if self._partial.length:  # the line began in an earlier read
                self._partial.add(data[position:after])
                odd = self._partial.odd_quotes
                text: bytes | bytearray | None = self._partial.text
                self._partial = _PartialLine()
            else:
                odd = bool(data.count(b'"', position, newline) & 1)
                text = (
                    None
                    if after - position > _LINE_BYTES_LIMIT or data.find(b":", position, newline) >= 0
                    else data[position:after]
                )
            position = after
            if odd or text is not None or self._quote_opened_at is not None:
                self._line_done(odd, text)
            else:  # the common case: a complete data row outside quotes
                self.line += 1
            self.lines += 1
            if not may_cut:
                continue
            if self.size >= self.max_bytes:
                return position
            if (overdue or self.lines >= self.batch_lines) and self._outside_quotes():
                return position
        return None

    def can_cut_here(self) -> bool:
        """True when the segment holds something and ends at a line end where it may be cut (for a pause)."""
        return self.size > 0 and self._partial.length == 0 and self._outside_quotes()

    def cut(self) -> SegmentStart:
        """End the current segment where the last :meth:`advance` stopped; returns how the next one starts."""
        if self._quote_opened_at is not None:
            # The parser reaches the end of this segment inside the quoted field: it gives up on it and
            # reads the lines it held as lines of their own.
            self._give_up_quote()
        if self._partial.length:
            self._partial = _PartialLine(text=None)  # the rest of an over-long line: never a header line
        self.start = SegmentStart(self.line, self.header)
        self.lines = 0
        self.size = 0
        return self.start

    def _outside_quotes(self) -> bool:
        opened = self._quote_opened_at
        # A field open for MAX_RECORD_LINES lines is given up by the parser whatever follows the cut.
        return opened is None or self.line - opened >= MAX_RECORD_LINES

    def _give_up_quote(self) -> None:
        if self._header_in_quotes is not None:
            self.header = self._header_in_quotes
        self._header_in_quotes = None
        self._quote_opened_at = None

    def _line_done(self, odd_quotes: bool, text: bytes | bytearray | None) -> None:
        number = self.line
        self.line += 1
        opened = self._quote_opened_at
        if opened is not None and number - opened >= MAX_RECORD_LINES:
            self._give_up_quote()  # this line lies beyond what the parser joins to the opening line
            opened = None
        if odd_quotes:
            if opened is None:
                self._quote_opened_at = number
            else:  # the quoted field closes: the lines in between were its text
                self._quote_opened_at = None
                self._header_in_quotes = None
            return
        if text is None or b"type" not in text.lower():
            return
        line = text.decode("utf-8", "replace").rstrip("\r\n")
        if header_cells(line) is None:
            return
        if opened is None:
            self.header = line
        else:
            self._header_in_quotes = line
