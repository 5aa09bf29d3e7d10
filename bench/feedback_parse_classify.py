"""Accounting parser + bounce classifier throughput on one core.

    .venv/bin/python bench/feedback_parse_classify.py [--records 200000] [--distinct 20000] [--seed 1]

Generates a realistic PowerMTA accounting stream in memory (record types d/b/t/tq/f/rb/rs in production-like
proportions, 27 columns incl. header_* ones, quoted fields with commas and quotes, CRLF, unicode, diagnostics of
60–400 characters that embed the recipient address, so most bounce texts are distinct) and times:
  1. parse only, 2. parse + classify every bounce-like record (b, t, tq, rb, rs), 3. classify alone,
and prints records per CPU-second of this process for each (the machine is shared, so wall time would
measure the neighbours).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import time

from email_engine.feedback.accounting import AccountingRecord, parse_accounting
from email_engine.feedback.bounce import classify_bounce

HEADER = [
    "type", "timeLogged", "timeQueued", "orig", "rcpt", "orcpt", "dsnAction", "dsnStatus", "dsnDiag", "dsnMta",
    "bounceCat", "srcType", "srcMta", "dlvType", "dlvSourceIp", "dlvDestinationIp", "dlvEsmtpAvailable", "dlvSize",
    "vmta", "jobId", "envId", "queue", "vmtaPool", "header_Message-Id", "header_X-Job", "header_Subject",
    "feedbackType",
]  # fmt: skip

TEMPLATES = [  # (dsnStatus, diag template, bounceCat); {r} = recipient, {ip} = our IP, {n} = a number
    (
        "5.1.1 (bad destination mailbox address)",
        "smtp;550-5.1.1 The email account that you tried to reach does not exist. Please try 550-5.1.1 double-checking the recipient's email address for typos or 550-5.1.1 unnecessary spaces. Learn more at 550 5.1.1 https://support.google.com/mail/?p=NoSuchUser {n}si.{n} - gsmtp",
        "bad-mailbox",
    ),
    (
        "5.1.1 (bad destination mailbox address)",
        "smtp;550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table",
        "bad-mailbox",
    ),
    (
        "5.7.606 (delivery not authorized, message refused)",
        "smtp;550 5.7.606 Access denied, banned sending IP [{ip}]. To request removal from this list please visit https://sender.office.com/ and follow the directions. For more information please go to http://go.microsoft.com/fwlink/?LinkID=526655 (AS16012609) [{n}.eurprd0{n}.prod.outlook.com]",
        "bad-mailbox",
    ),
    (
        "4.7.0 (delivery not authorized, message refused)",
        "smtp;421 4.7.0 [TSS04] Messages from {ip} temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes",
        "policy-related",
    ),
    (
        "5.7.1 (delivery not authorized, message refused)",
        "smtp;554 5.7.1 Service unavailable; Client host [{ip}] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/{ip}",
        "spam-related",
    ),
    (
        "4.2.2 (mailbox full)",
        "smtp;452 4.2.2 The email account that you tried to reach is over quota. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp {n} - gsmtp",
        "quota-issues",
    ),
    (
        "4.4.1 (no answer from host)",
        "smtp;connect to mx.example{n}.test[192.0.2.{n}]:25: Connection timed out",
        "no-answer-from-host",
    ),
    (
        "5.7.26 (delivery not authorized, message refused)",
        "smtp;550-5.7.26 Unauthenticated email from example.com is not accepted due to 550-5.7.26 domain's DMARC policy. Please contact the administrator of 550 5.7.26 example.com domain if this was a legitimate mail. {n} - gsmtp",
        "policy-related",
    ),
    (
        "5.2.1 (mailbox disabled)",
        'smtp;550 5.2.1 <{r}>: Recipient address rejected: mailbox disabled, "account closed" by user',
        "inactive-mailbox",
    ),
    (
        "5.0.0 (undefined status)",
        "smtp;554 Message not allowed - [PH01] Email not accepted for policy reasons.  Please visit https://postmaster.yahooinc.com/error-codes",
        "policy-related",
    ),
    (
        "4.7.650 (delivery not authorized)",
        "smtp;451 4.7.650 The mail server [{ip}] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://aka.ms/postmaster (S775) [{n}.namprd0{n}.prod.outlook.com]",
        "",
    ),
    (
        "5.4.4 (unable to route)",
        "smtp;550 5.4.4 Host or domain name not found. Name service error for name=example{n}.test type=A: Host not found",
        "bad-domain",
    ),
]
UNICODE_SUBJECTS = [
    "Ihre Bestellung – Bestätigung",
    "Votre commande, « confirmée »",
    "ご注文の確認",
    'Newsletter #{n}, "special"',
]


def generate(records: int, distinct: int, seed: int, esmtp_quoted: bool = True) -> list[str]:
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    kinds = rng.choices(["d", "b", "t", "tq", "f", "rb", "rs"], weights=[72, 11, 11, 2, 1, 2, 1], k=records)
    for i, kind in enumerate(kinds):
        rcpt = f"user{rng.randrange(distinct)}@example{rng.randrange(50)}.test"
        n = rng.randrange(1000)
        ip = f"198.51.100.{rng.randrange(1, 250)}"
        status, diag, cat = ("2.0.0 (success)", "smtp;250 2.0.0 OK {n} - gsmtp", "")
        if kind != "d":
            status, diag, cat = rng.choice(TEMPLATES)
        second = i // 50
        writer.writerow(
            [
                kind,
                f"2026-11-24 {10 + second // 3600 % 10:02d}:{second // 60 % 60:02d}:{second % 60:02d}-0500",
                f"2026-11-24 09:{second // 60 % 60:02d}:{second % 60:02d}-0500",
                "bounces@news.example.com",
                rcpt if kind != "tq" else "",
                f"rfc822;{rcpt}",
                "failed" if kind in {"b", "rb"} else ("delayed" if kind in {"t", "tq"} else "relayed"),
                status,
                diag.format(r=rcpt, ip=ip, n=n),
                f"mx{n % 7}.example.test (192.0.2.{n % 250})",
                cat,
                "smtp",
                "mailwizz.example.com (192.0.2.10)",
                "smtp",
                ip,
                f"192.0.2.{n % 250}",
                "PIPELINING,8BITMIME,SIZE" if esmtp_quoted else "PIPELINING 8BITMIME SIZE",
                str(2000 + n * 7),
                f"vmta-{n % 16}",
                f"campaign-{n % 40}",
                f"env-{i}",
                f"example{n % 50}.test/vmta-{n % 16}",
                f"pool-{n % 3}",
                f"<{i}.{n}@news.example.com>",
                f"campaign-{n % 40}",
                rng.choice(UNICODE_SUBJECTS).format(n=n),
                "abuse" if kind == "f" else "",
            ]
        )
    return out.getvalue().splitlines(keepends=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--distinct", type=int, default=20_000, help="distinct recipient addresses")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--esmtp-quoted",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write dlvEsmtpAvailable as a comma list, which forces quotes on every line (the slow CSV path)",
    )
    args = parser.parse_args()
    lines = generate(args.records, args.distinct, args.seed, args.esmtp_quoted)
    quoted = sum('"' in line for line in lines)
    size = sum(len(line) for line in lines)
    print(f"load average before the run: {os.getloadavg()[0]:.1f} (machine: 2 shared cores)")
    print(
        "times are CPU seconds of this process (time.process_time), so waiting for a busy core is not counted"
    )
    wall_started = time.perf_counter()
    print(
        f"input: {args.records} records, {size / 1e6:.1f} MB, {size // args.records} chars/record on average, "
        f"{quoted} lines with quoted fields"
    )

    from email_engine.feedback import bounce

    # The rules are compiled once per process (at the first classification); that start-up cost is not
    # part of the per-record figure.
    classify_bounce("5.0.0", "warm-up")

    # Streamed as the pipe does (records are not all kept), so the timing is not the garbage collector
    # walking 200,000 live objects. Both streamed runs come before any list of records exists.
    started = time.process_time()
    count = sum(1 for r in parse_accounting(lines) if isinstance(r, AccountingRecord))
    parse_s = time.process_time() - started
    assert count == args.records

    bounce._cache.clear()
    started = time.process_time()
    total = 0
    for r in parse_accounting(lines):
        if isinstance(r, AccountingRecord):
            total += 1
            if r.type in {"b", "t", "tq", "rb", "rs"}:
                classify_bounce(
                    r.dsn_status,
                    r.dsn_diag,
                    bounce_cat=r.bounce_cat,
                    recipient_domain=r.rcpt.rpartition("@")[2],
                )
    both_s = time.process_time() - started
    assert total == args.records

    parsed = list(parse_accounting(lines))
    records = [r for r in parsed if isinstance(r, AccountingRecord)]
    assert len(records) == args.records, (
        len(records),
        [r for r in parsed if not isinstance(r, AccountingRecord)][:3],
    )
    bouncy = [r for r in records if r.type in {"b", "t", "tq", "rb", "rs"}]
    texts = {(r.dsn_status, r.dsn_diag) for r in bouncy}

    def classify_all() -> float:
        started = time.process_time()
        for r in bouncy:
            classify_bounce(
                r.dsn_status, r.dsn_diag, bounce_cat=r.bounce_cat, recipient_domain=r.rcpt.rpartition("@")[2]
            )
        return time.process_time() - started

    bounce._cache.clear()
    cold_s = classify_all()
    misses = len(bounce._cache)
    warm_s = classify_all()

    print(f"bounce-like records: {len(bouncy)} ({len(texts)} distinct status+diagnostic texts)")
    print(f"parse only:           {args.records / parse_s:>10,.0f} records/s ({parse_s:.2f} s)")
    print(f"classify, cold cache: {len(bouncy) / cold_s:>10,.0f} classifications/s ({cold_s:.2f} s)")
    per_miss = (cold_s - warm_s) / max(misses, 1)
    print(f"  {misses} cache misses (distinct texts), {1e6 * per_miss:.1f} µs per miss beyond a cache hit")
    print(f"classify, warm cache: {len(bouncy) / warm_s:>10,.0f} classifications/s ({warm_s:.2f} s)")
    print(f"parse + classify:     {args.records / both_s:>10,.0f} records/s ({both_s:.2f} s, cold cache)")
    print(f"wall time of the whole run: {time.perf_counter() - wall_started:.1f} s")


if __name__ == "__main__":
    main()
