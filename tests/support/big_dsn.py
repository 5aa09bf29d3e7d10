"""Writers of 25 MiB bounce messages: one listing hundreds of thousands of recipient groups (the probe's
hostile report), one carrying a huge returned original (a real bounce of a big mailing)."""

from __future__ import annotations

import base64
import os
from pathlib import Path

HEAD = (
    b"From: MAILER-DAEMON@mx.example.net\r\nTo: bounces@news.example.com\r\nSubject: Undelivered Mail\r\n"
    b"Date: Tue, 24 Nov 2026 10:00:05 +0100\r\nMIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n\r\n'
    b"--B1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
    b"--B1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n"
)
GROUP = b"Final-Recipient: rfc822; user%d@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
SIZE = 25 * 1024 * 1024 - 4096


def many_groups(path: Path) -> Path:
    """~25 MiB with one recipient group after another (about 370,000)."""
    with path.open("wb") as handle:
        handle.write(HEAD)
        index = 0
        while handle.tell() < SIZE:
            handle.write(GROUP % index)
            index += 1
        handle.write(b"--B1--\r\n")
    return path


def huge_original(path: Path) -> Path:
    """~25 MiB: one failed recipient, then the returned original with a 24 MiB base64 attachment."""
    with path.open("wb") as handle:
        handle.write(HEAD)
        handle.write(GROUP % 1)
        handle.write(
            b"--B1\r\nContent-Type: message/rfc822\r\n\r\nFrom: news@example.com\r\nTo: user1@example.org\r\n"
            b"Subject: Catalogue\r\nX-Job: spring-2026\r\n"
            b'Content-Type: multipart/mixed; boundary="IN"\r\n\r\n--IN\r\nContent-Type: text/plain\r\n\r\nHi\r\n'
            b"--IN\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        )
        chunk = base64.encodebytes(os.urandom(57 * 1000)).replace(b"\n", b"\r\n")
        while handle.tell() + len(chunk) < SIZE:
            handle.write(chunk)
        handle.write(b"--IN--\r\n\r\n--B1--\r\n")
    return path
