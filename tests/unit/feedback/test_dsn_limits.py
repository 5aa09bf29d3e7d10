"""Bounded DSN reading: hostile reports are refused with the limit named, big bounces parse from a stream."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from email_engine.errors import PayloadTooLarge
from email_engine.feedback.dsn import parse_dsn, parse_dsn_stream
from email_engine.feedback.dsn_stream import MAX_RECIPIENT_GROUPS, MAX_TEXT_BYTES, reduce_message
from tests.support.big_dsn import GROUP, HEAD, huge_original, many_groups


def _report(groups: int) -> bytes:
    return HEAD + b"".join(GROUP % index for index in range(groups)) + b"--B1--\r\n"


def test_up_to_the_recipient_cap_parses() -> None:
    records = parse_dsn(_report(MAX_RECIPIENT_GROUPS))
    assert len(records) == MAX_RECIPIENT_GROUPS
    assert records[-1].rcpt == f"user{MAX_RECIPIENT_GROUPS - 1}@example.org"


def test_past_the_recipient_cap_is_refused_with_the_limit_named() -> None:
    with pytest.raises(PayloadTooLarge, match=f"more than {MAX_RECIPIENT_GROUPS} recipients"):
        parse_dsn(_report(MAX_RECIPIENT_GROUPS + 1))


def test_the_probes_25_mib_report_is_refused(tmp_path: Path) -> None:
    with (
        many_groups(tmp_path / "many.eml").open("rb") as handle,
        pytest.raises(PayloadTooLarge, match="recipients"),
    ):
        parse_dsn_stream(handle)


def test_a_25_mib_bounce_with_its_original_parses_and_keeps_only_what_it_reads(tmp_path: Path) -> None:
    path = huge_original(tmp_path / "big.eml")
    with path.open("rb") as handle:
        reduced = reduce_message(handle)
    assert len(reduced) < 64 * 1024  # the attachment is not kept
    with path.open("rb") as handle:
        [record] = parse_dsn_stream(handle)
    assert (record.rcpt, record.dsn_status, record.job_id) == ("user1@example.org", "5.1.1", "spring-2026")


def test_long_texts_keep_their_head_and_the_size_limit_holds() -> None:
    text = b"x" * 100 + b"\r\n"
    message = (
        b"From: MAILER-DAEMON@mx.example.net\r\nX-Failed-Recipients: gone@example.org\r\n\r\n"
        b"gone@example.org\r\n    550 mailbox unavailable\r\n\r\n" + text * 20_000
    )
    reduced = reduce_message(io.BytesIO(message))
    assert len(reduced) <= MAX_TEXT_BYTES + 1024
    [record] = parse_dsn(message)
    assert record.dsn_diag == "550 mailbox unavailable"
    with pytest.raises(PayloadTooLarge, match="limited to"):
        reduce_message(io.BytesIO(b"From: a@example.org\r\n\r\n" + text * 270_000))
