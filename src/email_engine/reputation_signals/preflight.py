"""The preflight item this domain contributes: our own IPs must pass DMARC alignment at receivers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from email_engine.context import AppContext
from email_engine.dmarc.settings import DmarcSettings
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings
from email_engine.reputation_signals.decisions import alignment_problems
from email_engine.reputation_signals.service import alignment_rows

__all__ = ["CHECKS", "check_dmarc_alignment"]


def check_dmarc_alignment(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    """NO-GO when DMARC aggregate reports show our own IPs failing alignment (DKIM d= and SPF domain
    both unaligned with the From domain) on more than DMARC_ALIGNMENT_MAX_FAIL_RATE of their mail."""
    options = ctx.settings.section(DmarcSettings)
    until = now.date()
    since = until - timedelta(days=options.alignment_days - 1)
    with ctx.session_factory() as session:
        rows = alignment_rows(session, since=since, until=until)
    if not rows:
        yield Item(
            "dmarc alignment",
            "skip",
            f"no DMARC aggregate report shows our IPs in the last {options.alignment_days} days",
            "Publish rua=mailto:… in your DMARC record and import the reports (DMARC_IMAP_* or "
            "`email-engine dmarc import`).",
        )
        return
    problems = alignment_problems(
        rows, max_fail_rate=options.alignment_max_fail_rate, min_messages=options.alignment_min_messages
    )
    if problems:
        yield Item(
            "dmarc alignment",
            "fail",
            "; ".join(problems)[:500],
            "Sign with DKIM using your From domain (d=) and send with a Return-Path under it, then check "
            "`email-engine auth-check DOMAIN`; receivers quarantine or reject unaligned mail.",
        )
        return
    messages = sum(row.messages for row in rows)
    reporters = {reporter for row in rows for reporter in row.reporters}
    yield Item(
        "dmarc alignment",
        "pass",
        f"{messages} messages from our IPs, reported by {len(reporters)} receivers, pass DMARC alignment",
    )


CHECKS = [PreflightCheck("dmarc alignment", check_dmarc_alignment, order=180)]
