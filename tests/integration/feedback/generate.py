"""Generated PowerMTA accounting files for the pipe tests and the end-to-end benchmark.

Every record type, quoted commas and doubled quotes, CRLF line ends, unicode, a quoted field that
spans two lines, garbage lines and exact duplicates. The generator knows what it wrote: the valid
records (each once), and the physical line number of every garbage line.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

HEADER = [
    "type",
    "timeLogged",
    "timeQueued",
    "orig",
    "rcpt",
    "orcpt",
    "dsnAction",
    "dsnStatus",
    "dsnDiag",
    "dsnMta",
    "bounceCat",
    "srcType",
    "srcMta",
    "dlvType",
    "dlvSourceIp",
    "dlvDestinationIp",
    "dlvEsmtpAvailable",
    "dlvSize",
    "vmta",
    "jobId",
    "envId",
    "queue",
    "vmtaPool",
    "feedbackType",
    "header_Subject",
]

DOMAINS = ("example.com", "example.org", "example.net", "inbox.test", "mailer.test", "bounce-heavy.test")
IPS = ("192.0.2.10", "192.0.2.11", "192.0.2.12", "198.51.100.7")
VMTAS = ("vmta-a", "vmta-b", "vmta-c", "vmta-d")
SUBJECTS = (
    "Weekly news",
    'Offer: "50% off", today only',
    "Grüße, «Freunde» — 日本語のテスト ✓",
    "Commas, commas, and more commas",
)
BOUNCES = (
    (
        "5.1.1 (bad destination mailbox address)",
        "smtp;550 5.1.1 <{rcpt}>: Recipient address rejected: "
        'User unknown in virtual mailbox table, "no such user"',
        "bad-mailbox",
    ),
    (
        "5.7.1",
        "smtp;550 5.7.1 Service unavailable, Client host [{ip}] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/{ip}",
        "spam-related",
    ),
    (
        "4.2.2",
        "smtp;452 4.2.2 The email account that you tried to reach is over quota, try later",
        "quota-issues",
    ),
    ("5.4.4", "smtp;550 5.4.4 Unable to route: no MX for domain", "bad-domain"),
    (
        "5.7.606",
        "smtp;550 5.7.606 Access denied, banned sending IP [{ip}]. To request removal from this list "
        "please visit https://sender.office.com/",
        "bad-mailbox",
    ),
)
GARBAGE = (
    "this line is not a record at all",
    "zz,2026-11-24 10:00:00+0000,,a@example.com,b@example.com",
    "<html><body>502 Bad Gateway</body></html>",
    "d,yesterday at noon" + "," * (len(HEADER) - 2),
    '"an unterminated, quoted field that never closes',
)


@dataclass(frozen=True)
class Written:
    type: str
    rcpt: str
    dsn_status: str
    dsn_diag: str
    bounce_cat: str
    source_ip: str
    vmta: str


@dataclass
class Expected:
    valid: list[Written] = field(default_factory=list)
    garbage_lines: list[int] = field(default_factory=list)
    duplicate_lines: int = 0
    physical_lines: int = 0

    def by_type(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for record in self.valid:
            counts[record.type] = counts.get(record.type, 0) + 1
        return counts


def _pick_type(rng: random.Random) -> str:
    roll = rng.random()
    for kind, edge in (
        ("d", 0.68),
        ("b", 0.82),
        ("t", 0.89),
        ("tq", 0.91),
        ("f", 0.93),
        ("rb", 0.96),
        ("rs", 0.98),
        ("r", 1.0),
    ):
        if roll < edge:
            return kind
    return "d"


def _row(index: int, kind: str, rng: random.Random, base: datetime) -> tuple[list[str], Written]:
    logged = base + timedelta(milliseconds=index * 7)
    queued = logged - timedelta(seconds=rng.randint(1, 600))
    domain = DOMAINS[index % len(DOMAINS)]
    rcpt = f"user.{index}@{domain}" if index % 97 else f"jürgen.{index}@{domain}"
    ip = IPS[index % len(IPS)]
    vmta = VMTAS[index % len(VMTAS)]
    status = diag = bounce_cat = dsn_action = feedback_type = ""
    if kind in ("b", "rb", "t", "tq"):
        status_text, diag_template, bounce_cat = BOUNCES[rng.randrange(len(BOUNCES))]
        if kind in ("t", "tq"):
            status_text, diag_template, bounce_cat = BOUNCES[2]
        status, diag = status_text, diag_template.format(rcpt=rcpt, ip=ip)
        dsn_action = "failed" if kind in ("b", "rb") else "delayed"
    elif kind == "d":
        status, diag, dsn_action = "2.0.0 (success)", "smtp;250 2.0.0 OK queued as A1B2C3", "relayed"
    elif kind == "f":
        feedback_type = "abuse"
    if index % 5000 == 17:
        diag += "\nsecond line of a multi-line response"  # a quoted field spanning two physical lines
    fields = {
        "type": kind,
        "timeLogged": logged.strftime("%Y-%m-%d %H:%M:%S%z"),
        "timeQueued": queued.strftime("%Y-%m-%d %H:%M:%S%z"),
        "orig": "news@sender.example.com",
        "rcpt": "" if kind == "tq" else rcpt,
        "orcpt": "",
        "dsnAction": dsn_action,
        "dsnStatus": status,
        "dsnDiag": diag,
        "dsnMta": f"mx{index % 3}.{domain} (192.0.2.200)",
        "bounceCat": bounce_cat,
        "srcType": "smtp",
        "srcMta": "mailwizz.example.com (192.0.2.1)",
        "dlvType": "smtp",
        "dlvSourceIp": ip,
        "dlvDestinationIp": "192.0.2.200",
        "dlvEsmtpAvailable": "PIPELINING,8BITMIME,SIZE",
        "dlvSize": str(1000 + index % 5000),
        "vmta": vmta,
        "jobId": f"job-{index // 1000}",
        "envId": f"env-{index}",
        "queue": f"{domain}/{vmta}",
        "vmtaPool": "pool-main",
        "feedbackType": feedback_type,
        "header_Subject": SUBJECTS[index % len(SUBJECTS)],
    }
    written = Written(kind, fields["rcpt"], status, diag, bounce_cat, ip, vmta)
    return [fields[name] for name in HEADER], written


def write_accounting(
    out: IO[bytes],
    *,
    records: int,
    seed: int = 7,
    base: datetime | None = None,
    garbage_every: int = 2500,
    duplicate_every: int = 400,
) -> Expected:
    """Write ``records`` valid records plus garbage and duplicates; return what a reader must find."""
    rng = random.Random(seed)
    base = base or datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    expected = Expected()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    line = 0

    def emit(text: str) -> None:
        nonlocal line
        line += text.count("\n")
        out.write(text.encode("utf-8"))

    writer.writerow(HEADER)
    emit(buffer.getvalue())
    recent: list[str] = []
    for index in range(records):
        buffer.seek(0)
        buffer.truncate()
        kind = _pick_type(rng)
        row, written = _row(index, kind, rng, base)
        writer.writerow(row)
        text = buffer.getvalue()
        emit(text)
        expected.valid.append(written)
        recent.append(text)
        if len(recent) > 50:
            recent.pop(0)
        if index % duplicate_every == duplicate_every - 1:
            emit(rng.choice(recent))
            expected.duplicate_lines += 1
        if index % garbage_every == garbage_every - 1:
            garbage = GARBAGE[(index // garbage_every) % len(GARBAGE)]
            expected.garbage_lines.append(line + 1)
            emit(garbage + "\r\n")
    expected.physical_lines = line
    return expected


def write_file(path: Path, **kwargs: object) -> Expected:
    with open(path, "wb") as handle:
        return write_accounting(handle, **kwargs)  # type: ignore[arg-type]


def chunks(path: Path, size: int = 1 << 16) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(size):
            yield chunk
