"""The IMAP path against a real Dovecot (Debian's dovecot-imapd, a private instance per test).

Reports arrive as the receivers send them (whole messages from Google and Mimecast, plus a built
one); junk, a message carrying an XXE report and one carrying a zip bomb sit in the same mailbox.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.dmarc.jobs import run_imap
from email_engine.dmarc.mailbox import fetch_reports
from email_engine.dmarc.models import DmarcDeadLetter, DmarcRecord, DmarcReport
from email_engine.dmarc.settings import DmarcSettings
from email_engine.errors import DependencyUnavailable
from tests.support.dovecot import Dovecot, dovecot_available

pytestmark = pytest.mark.skipif(not dovecot_available(), reason="dovecot-imapd is not installed")

DATA = Path(__file__).resolve().parents[2] / "data" / "dmarc-reports"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
OUTLOOK = (DATA / "protection.outlook.com!example.com!1711756800!1711843200.xml").read_bytes()


def message(
    subject: str, attachment: bytes | None, *, filename: str = "report.xml.gz", subtype: str = "gzip"
) -> bytes:
    mail = EmailMessage()
    mail["From"] = "dmarcreport@microsoft.com"
    mail["To"] = "rua@example.com"
    mail["Subject"] = subject
    mail.set_content("This is a DMARC aggregate report.")
    if attachment is not None:
        mail.add_attachment(attachment, maintype="application", subtype=subtype, filename=filename)
    return mail.as_bytes()


def bomb_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("r.xml", b"<feedback>" + b"\0" * (120 * 1024 * 1024))
    return buffer.getvalue()


XXE = OUTLOOK.replace(
    b'<?xml version="1.0"?>', b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
)


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with Dovecot() as server:
        yield server


def options(server: Dovecot, **extra: Any) -> DmarcSettings:
    values: dict[str, Any] = {
        "DMARC_IMAP_HOST": "127.0.0.1",
        "DMARC_IMAP_PORT": server.port,
        "DMARC_IMAP_TLS": "ssl",
        "DMARC_IMAP_CA_FILE": str(server.ca_file),
        "DMARC_IMAP_USER": server.user,
        "DMARC_IMAP_PASSWORD": server.password,
        "DMARC_IMAP_TIMEOUT": 10,
    }
    values.update(extra)
    return DmarcSettings(_env_file=None, **values)  # type: ignore[call-arg]


def fill(server: Dovecot) -> None:
    server.deliver((DATA / "twilight.eml").read_bytes())  # Google, zip attachment
    server.deliver((DATA / "mimecast-weird-gzip.eml").read_bytes())  # Mimecast, gzip + 2 stray bytes
    server.deliver(message("Report domain: example.com Submitter: Outlook.com", gzip.compress(OUTLOOK)))
    server.deliver(message("Report domain: example.com (sent again)", gzip.compress(OUTLOOK)))
    server.deliver(b"From: spam@junk.test\r\nSubject: Cheap pills\r\n\r\nBuy now!\r\n")
    server.deliver(message("XXE", XXE, filename="x.xml", subtype="xml"))
    server.deliver(message("bomb", bomb_zip(), filename="r.zip", subtype="zip"))


def test_imap_imports_moves_and_survives_junk(ctx: AppContext, session: Session, dovecot: Dovecot) -> None:
    fill(dovecot)
    summary = fetch_reports(ctx.session_factory, options(dovecot), now=NOW)
    assert (summary.messages, summary.imported, summary.duplicate, summary.refused) == (7, 3, 1, 3), summary
    assert summary.moved == 7 and summary.deleted == 0 and summary.errors == []

    assert dovecot.folder_messages("INBOX") == []
    processed = dovecot.folder_messages("DMARC.Processed")
    invalid = dovecot.folder_messages("DMARC.Invalid")
    assert len(processed) == 4 and len(invalid) == 3
    assert any(b"Cheap pills" in raw for raw in invalid)

    reporters = sorted(session.scalars(select(DmarcReport.reporter)))
    assert reporters == ["Mimecast", "Outlook.com", "google.com"]
    assert session.scalar(select(func.sum(DmarcRecord.messages))) == 3
    reasons = sorted(row.reason for row in session.scalars(select(DmarcDeadLetter)))
    assert len(reasons) == 3
    assert any("no .xml, .xml.gz or .zip report" in reason for reason in reasons)
    assert any("DTD" in reason for reason in reasons)
    assert any("decompression bomb" in reason for reason in reasons)

    # Nothing left: a second pass changes nothing.
    again = fetch_reports(ctx.session_factory, options(dovecot), now=NOW)
    assert again.messages == 0
    assert session.scalar(select(func.count()).select_from(DmarcReport)) == 3


def test_a_report_seen_again_after_a_crash_before_the_move_counts_once(
    ctx: AppContext, session: Session, dovecot: Dovecot
) -> None:
    dovecot.deliver((DATA / "twilight.eml").read_bytes())
    fetch_reports(ctx.session_factory, options(dovecot), now=NOW)
    # The same message lands in INBOX again (a crash after commit, before the move; or a re-send).
    dovecot.deliver((DATA / "twilight.eml").read_bytes())
    summary = fetch_reports(ctx.session_factory, options(dovecot), now=NOW)
    assert (summary.imported, summary.duplicate) == (0, 1)
    assert session.scalar(select(func.count()).select_from(DmarcRecord)) == 1
    assert len(dovecot.folder_messages("DMARC.Processed")) == 2


def test_delete_only_when_asked(ctx: AppContext, dovecot: Dovecot) -> None:
    dovecot.deliver((DATA / "twilight.eml").read_bytes())
    dovecot.deliver(b"Subject: junk\r\n\r\nnot a report\r\n")
    summary = fetch_reports(ctx.session_factory, options(dovecot, DMARC_IMAP_DELETE=True), now=NOW)
    assert (summary.deleted, summary.moved) == (1, 1)  # the junk is moved, never deleted
    assert dovecot.folder_messages("INBOX") == [] and dovecot.folder_messages("DMARC.Processed") == []
    assert len(dovecot.folder_messages("DMARC.Invalid")) == 1


def test_wrong_password_and_untrusted_certificate_are_clear(ctx: AppContext, dovecot: Dovecot) -> None:
    with pytest.raises(DependencyUnavailable, match="refused the login of DMARC_IMAP_USER"):
        fetch_reports(ctx.session_factory, options(dovecot, DMARC_IMAP_PASSWORD="wrong"), now=NOW)
    with pytest.raises(DependencyUnavailable, match="TLS with the IMAP server"):
        fetch_reports(ctx.session_factory, options(dovecot, DMARC_IMAP_CA_FILE=None), now=NOW)


def test_job_uses_the_context_settings_and_skips_when_unconfigured(ctx: AppContext, dovecot: Dovecot) -> None:
    ctx.settings.install(DmarcSettings(_env_file=None))  # type: ignore[call-arg]
    assert "skipped" in run_imap(ctx, NOW)
    ctx.settings.install(options(dovecot))
    dovecot.deliver((DATA / "mimecast-weird-gzip.eml").read_bytes())
    assert run_imap(ctx, NOW)["imported"] == 1
