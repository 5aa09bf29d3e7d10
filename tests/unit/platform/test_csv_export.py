"""The shared CSV writer neutralises every formula start (OWASP CSV Injection) and nothing else."""

from __future__ import annotations

import csv
import io

import pytest

from email_engine.csv_export import SafeCsvWriter, csv_chunks, neutralise_cell
from tests.support.csv_payloads import PAYLOADS, formula_cells


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_payload_is_neutralised(payload: str) -> None:
    if payload.startswith("a;"):
        # Not a formula start: it is the quoting of every field that keeps ";=1+1" in one cell.
        assert neutralise_cell(payload) == payload
        return
    assert neutralise_cell(payload) == "'" + payload
    assert formula_cells(next(csv_chunks(["cell"], [[payload]]))) == []


@pytest.mark.parametrize(
    "text",
    ["jane@example.org", "", "O'Brien", "'=already quoted", "a=b", "1-2", "mail@host", "中文", " plain"],
)
def test_ordinary_text_is_unchanged(text: str) -> None:
    assert neutralise_cell(text) == text


def test_numbers_stay_numbers_and_every_field_is_quoted() -> None:
    buffer = io.StringIO()
    writer = SafeCsvWriter(buffer)
    writer.writerow(["-5", -5, 0.25, None, True, "a;=1+1"])
    assert buffer.getvalue() == '"\'-5","-5","0.25","","true","a;=1+1"\r\n'


def test_chunks_cover_every_row() -> None:
    rows = [[f"=row{i}", i] for i in range(2500)]
    text = "".join(csv_chunks(["name", "n"], rows, rows_per_chunk=1000))
    parsed = list(csv.reader(io.StringIO(text)))
    assert len(parsed) == 2501
    assert parsed[1] == ["'=row0", "0"]
    assert formula_cells(text) == []
