from __future__ import annotations

from pathlib import Path

import pytest

from email_engine.errors import InvalidInput
from email_engine.validation.cache import MemoryFactsCache, decode_facts, encode_facts
from email_engine.validation.csvfile import inspect_csv
from email_engine.validation.verdict import DnsStatus, DomainFacts


def test_memory_cache_keeps_only_cacheable_facts_and_stays_bounded() -> None:
    cache = MemoryFactsCache(max_entries=100)
    cache.put_many(
        {
            "ok.example": DomainFacts(DnsStatus.OK, ("mx.example",), 300),
            "slow.example": DomainFacts(DnsStatus.TIMEOUT),
            "zero.example": DomainFacts(DnsStatus.NXDOMAIN, (), 0),
        }
    )
    assert cache.get_many(["ok.example", "slow.example", "zero.example"]) == {
        "ok.example": DomainFacts(DnsStatus.OK, ("mx.example",))
    }
    cache.put_many({f"d{i}.example": DomainFacts(DnsStatus.OK, (), 60) for i in range(250)})
    found = cache.get_many([f"d{i}.example" for i in range(250)])
    assert len(found) == 100
    assert "d249.example" in found and "d0.example" not in found  # oldest go first


def test_encoded_facts_round_trip_and_foreign_entries_are_misses() -> None:
    facts = DomainFacts(DnsStatus.UNROUTABLE, ("mx.example",), 60)
    assert decode_facts(encode_facts(facts)) == DomainFacts(DnsStatus.UNROUTABLE, ("mx.example",))
    assert decode_facts(b"not json") is None
    assert decode_facts('{"s": "weird", "m": []}') is None


@pytest.mark.parametrize(
    ("content", "column"),
    [
        ("id,Email,city\n1,a@example.com,Paris\n", "Email"),
        ("id;E-Mail;city\n1;a@example.com;Paris\n", "E-Mail"),
        ("id\tmail\n1\ta@example.com\n", "mail"),
        ("\ufeffemail_address,name\na@example.com,Jane\n", "email_address"),
        ("id,contact,name\n1,a@example.com,Jane\n2,b@example.org,Bob\n3,,Amy\n", "contact"),
        ('name,"Adresse, courriel"\nJane,a@example.com\n', "Adresse, courriel"),
    ],
)
def test_email_column_is_detected(tmp_path: Path, content: str, column: str) -> None:
    path = tmp_path / "list.csv"
    path.write_text(content, encoding="utf-8")
    assert inspect_csv(path).email_column == column


def test_named_column_by_name_or_number(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("id,work,home\n1,a@example.com,b@example.org\n", encoding="utf-8")
    assert inspect_csv(path, column="HOME").email_column == "home"
    assert inspect_csv(path, column="2").email_column == "work"
    with pytest.raises(InvalidInput, match="no column 'office'"):
        inspect_csv(path, column="office")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"id,name\n1,Jane\n", "No email column"),
        (b"a@example.com,Jane\n", "holds an address"),
        (b"email\n\xc3\x28@example.com\n", "not UTF-8"),
        (b"email\x00\x01\x02", "binary"),
    ],
)
def test_unusable_files_are_refused_with_a_sentence(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "list.csv"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        inspect_csv(path)


def test_progress_line_reads_like_a_status() -> None:
    from email_engine.validation.cli import progress_line

    assert (
        progress_line(2_500, 250, 1_000, 10.0)
        == "validating: 2,500 rows, 25% of the file, 250 rows/s, ETA 0:00:30"
    )
    assert progress_line(10_000, 1_000, 1_000, 40.0).endswith("100% of the file, 250 rows/s, done")
    assert progress_line(0, 0, 1_000, 0.0) == "validating: 0 rows, 0% of the file, 0 rows/s, ETA -"


def test_progress_chunks_aim_at_twenty_steps_within_bounds() -> None:
    from email_engine.validation.cli import progress_chunk_rows

    assert progress_chunk_rows(640_000, 10_000) == 1_000  # 10,000 rows: 10 steps, never under 1,000 rows
    assert progress_chunk_rows(3_200_000, 10_000) == 2_500  # 50,000 rows of ~64 bytes: 20 steps
    assert progress_chunk_rows(12_800_000, 10_000) == 10_000  # never over VALIDATION_JOB_CHUNK_ROWS
