"""Decisions over time, driven as an operator's installation drives them.

:class:`Scenario` holds the real parts of one run: the engine's database (PostgreSQL or SQLite),
MailWizz's ``mw_delivery_server`` on MariaDB (MailWizz's own install DDL), a DNSBL served by rbldnsd
on loopback (listings added and removed by rewriting its zone file and SIGHUP, as list operators
do), and PowerMTA accounting fed through the real ``email-engine pipe`` command. Jobs run through
the job runner *as of* the simulated time (``run_job(…, as_of=…)``, what ``email-engine jobs run
NAME --at …`` does), so every run is recorded like a real one.

Accounting records follow PowerMTA's accounting file format (User's Guide, "Accounting Files":
``type`` d = delivered, b = bounced with ``bounceCat``, t = transient failure, f = feedback-loop
report). Hard bounces are ``bad-mailbox`` 5.1.1 refusals; blocks are ``spam-related`` 5.7.1
refusals of our IP; complaints are ``f`` records of type ``abuse``.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.integrations.alerts.models import AlertState
from email_engine.ips.models import SendingIp
from email_engine.ops.registry import all_jobs, find_job
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.job_runner import run_job
from email_engine.platform.jobspec import JobSpec
from email_engine.warmup.models import TrafficHold, WarmupPlan
from tests.support.mailwizz_db import MailwizzTestDb
from tests.support.rbldnsd import Rbldnsd

EMAIL_ENGINE = str(Path(sys.executable).parent / "email-engine")
ZONE = "zen.spamhaus.org"
# RFC 5782 test point: every check asks for 127.0.0.2 and must find it listed.
TEST_POINT = ":127.0.0.2:Listed on SBL\n127.0.0.2 :127.0.0.2:\n"
HEADER = (
    "type",
    "timeLogged",
    "orig",
    "rcpt",
    "dsnAction",
    "dsnStatus",
    "dsnDiag",
    "bounceCat",
    "dlvSourceIp",
    "vmta",
    "jobId",
    "feedbackType",
)
_serial = itertools.count(1)


def reversed_name(address: str) -> str:
    return ".".join(reversed(address.split("."))) + f".{ZONE}"


@dataclass
class Scenario:
    ctx: AppContext
    session: Session
    mw: MailwizzTestDb
    rbl: Rbldnsd
    workdir: Path
    now: datetime
    listed: set[str] = field(default_factory=set)

    # --- the clock -------------------------------------------------------------------------

    def at(self, moment: datetime) -> Scenario:
        assert moment >= self.now, "time only moves forward"
        self.now = moment
        return self

    def later(self, **delta: float) -> Scenario:
        return self.at(self.now + timedelta(**delta))

    # --- the world ---------------------------------------------------------------------------

    def send(
        self,
        address: str,
        *,
        delivered: int = 0,
        hard: int = 0,
        block: int = 0,
        complaints: int = 0,
        deferred: int = 0,
        hours: float = 1.0,
    ) -> subprocess.CompletedProcess[bytes]:
        """PowerMTA's accounting for ``address`` over the next ``hours`` (records spread evenly),
        through the real ``email-engine pipe``; the clock moves on by ``hours``."""
        rows: list[tuple[str, ...]] = []
        vmta = "vmta-" + address.replace(".", "-")
        kinds = (
            [("d", "relayed", "2.0.0 (success)", "smtp;250 2.0.0 OK", "", "")] * delivered
            + [
                (
                    "b",
                    "failed",
                    "5.1.1 (bad destination mailbox address)",
                    "smtp;550 5.1.1 <rcpt>: Recipient address rejected: User unknown",
                    "bad-mailbox",
                    "",
                )
            ]
            * hard
            + [
                (
                    "b",
                    "failed",
                    "5.7.1",
                    "smtp;550 5.7.1 Our system has detected that this message is likely unsolicited mail",
                    "spam-related",
                    "",
                )
            ]
            * block
            + [("t", "delayed", "4.2.0", "smtp;421 4.7.0 Try again later", "", "")] * deferred
            + [("f", "", "", "", "", "abuse")] * complaints
        )
        # Interleave the kinds so every hour looks like the whole batch.
        order = sorted(range(len(kinds)), key=lambda i: (i * 7919) % max(1, len(kinds)))
        span = timedelta(hours=hours)
        for position, index in enumerate(order):
            kind, action, status, diag, category, feedback = kinds[index]
            logged = self.now + span * (position + 0.5) / max(1, len(order))
            serial = next(_serial)
            rows.append(
                (
                    kind,
                    logged.strftime("%Y-%m-%d %H:%M:%S+0000"),
                    "news@sender.example",
                    f"user{serial}@inbox{serial % 7}.example",
                    action,
                    status,
                    diag,
                    category,
                    address,
                    vmta,
                    f"job{serial % 3}",
                    feedback,
                )
            )
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "PIPE_"))}
        env.update(
            {
                "DATABASE_URL": self.ctx.settings.database_url,
                "PIPE_SPOOL_DIR": str(self.workdir / "spool"),
                "PIPE_FLUSH_SECONDS": "0.5",
                "LOG_LEVEL": "WARNING",
                "ENVIRONMENT": "test",
                "REDIS_URL": "",
            }
        )
        done = subprocess.run(
            [EMAIL_ENGINE, "pipe"],
            input=out.getvalue().encode(),
            capture_output=True,
            env=env,
            timeout=300,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        self.now += span
        self.session.expire_all()
        return done

    def list_ip(self, address: str) -> None:
        self.listed.add(address)
        self._zone(probe=address, listed=True)

    def delist(self, address: str) -> None:
        self.listed.discard(address)
        self._zone(probe=address, listed=False)

    def _zone(self, *, probe: str, listed: bool) -> None:
        text = TEST_POINT + "".join(f"{ip} :127.0.0.2:\n" for ip in sorted(self.listed))
        self.rbl.update(ZONE, text, probe=reversed_name(probe), listed=listed)

    # --- the engine --------------------------------------------------------------------------

    def job(self, name: str) -> dict[str, Any]:
        """Run a job through the job runner as of the scenario's time; its result."""
        self.ctx.settings.install(SchedulerSettings(_env_file=None))  # type: ignore[call-arg]
        spec: JobSpec = find_job(all_jobs(self.ctx.settings, include_disabled=True), name)
        outcome = run_job(self.ctx, spec, trigger="manual", worker="scenario", as_of=self.now)
        assert outcome.status == "ok", outcome.error
        assert outcome.result is not None and outcome.result["as_of"] == self.now.isoformat()
        self.session.expire_all()
        return outcome.result

    def day(self) -> dict[str, dict[str, Any]]:
        """What an installation runs in an hour: the DNSBL check, failover, the warmup push."""
        return {name: self.job(name) for name in ("blacklists", "failover", "warmup")}

    # --- what the world sees ------------------------------------------------------------------

    def ip(self, address: str) -> SendingIp:
        ip = self.session.scalar(select(SendingIp).where(SendingIp.address == address))
        assert ip is not None
        return ip

    def server(self, address: str) -> dict[str, Any]:
        server_id = self.ip(address).mailwizz_server_id
        assert server_id is not None
        return self.mw.row(server_id)

    def pmta_cap(self, address: str) -> int | None:
        """The hourly rate PowerMTA's rendered config gives the IP's VMTA (0: paused; None: no cap)."""
        from email_engine.integrations.powermta.service import render_from_db
        from email_engine.integrations.powermta.settings import PowerMtaSettings

        pmta = PowerMtaSettings(
            _env_file=None,  # type: ignore[call-arg]
            PMTA_POSTMASTER="postmaster@sender.example",
            PMTA_SMTP_PASSWORD=secrets.token_urlsafe(24),
            MAILWIZZ_IPS="192.0.2.250",
        )
        rendered, _lint = render_from_db(self.session, pmta, now=self.now)
        return rendered.vmtas[self.ip(address).vmta_name].hourly_cap

    def open_hold(self, address: str) -> TrafficHold | None:
        return self.session.scalar(
            select(TrafficHold).where(
                TrafficHold.ip_id == self.ip(address).id, TrafficHold.resolved_at.is_(None)
            )
        )

    def plan(self, address: str) -> WarmupPlan | None:
        return self.session.scalar(
            select(WarmupPlan)
            .where(WarmupPlan.ip_id == self.ip(address).id)
            .order_by(WarmupPlan.id.desc())
            .limit(1)
        )

    def alert(self, key: str) -> AlertState | None:
        return self.session.scalar(select(AlertState).where(AlertState.key == key))

    def assert_no_unlimited_active_server(self) -> None:
        """MailWizz reads 0 as unlimited: no active server may ever hold a 0 quota."""
        for row in self.mw.all_rows():
            if row["status"] in ("active", "in-use"):
                assert row["hourly_quota"] > 0 and row["daily_quota"] > 0, row


def start_of(day: datetime) -> datetime:
    return day.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
