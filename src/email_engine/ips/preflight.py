"""The preflight items of the inventory: there are sending IPs and domains to check, and every active or
warming IP is linked to a delivery server that is active in MailWizz's database (its quotas and status
reach MailWizz through it)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from email_engine.context import AppContext
from email_engine.errors import EmailEngineError, NotFound
from email_engine.integrations.mailwizz.database import MailwizzDatabase
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.ips.lifecycle import IpState
from email_engine.ips.models import SendingIp
from email_engine.ips.service import sending_inventory
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = ["CHECKS", "check_inventory", "check_mailwizz_servers"]


def check_inventory(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    with ctx.session_factory() as session:
        ips, domains = sending_inventory(session)
    if not ips:
        yield Item(
            "inventory", "fail", "no sending IPs", "Add your IPs: `email-engine ips add` or POST /api/v1/ips."
        )
    elif not domains:
        yield Item(
            "inventory",
            "fail",
            f"{len(ips)} IPs but no sending domain",
            "Add your sending domains: `email-engine domains add NAME --dkim-selector S` or POST /api/v1/domains.",
        )
    else:
        yield Item("inventory", "pass", f"{len(ips)} IPs, {len(domains)} domains")


def check_mailwizz_servers(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    mailwizz = ctx.settings.section(MailwizzSettings)
    if not (mailwizz.db_host and mailwizz.db_name):
        yield Item(
            "mailwizz delivery servers",
            "skip",
            "MAILWIZZ_DB_* not set",
            "Set MAILWIZZ_DB_HOST/USER/PASSWORD/NAME so quotas reach MailWizz.",
        )
        return
    with ctx.session_factory() as session:
        sending = list(
            session.execute(
                select(SendingIp.id, SendingIp.address, SendingIp.mailwizz_server_id)
                .where(SendingIp.state.in_((IpState.ACTIVE, IpState.WARMING)))
                .order_by(SendingIp.id)
            )
        )
    if not sending:
        yield Item(
            "mailwizz delivery servers",
            "skip",
            "no active or warming IP yet",
            "Start a warmup plan for each new IP; its delivery server is checked then.",
        )
        return
    unlinked = [f"{address} (id {ip_id})" for ip_id, address, server_id in sending if server_id is None]
    if unlinked:  # their quotas and status cannot reach MailWizz
        yield Item(
            "mailwizz delivery servers",
            "fail",
            f"no MailWizz delivery-server id: {', '.join(unlinked)}",
            "Link each sending IP to its delivery server: `email-engine ips update ID --mailwizz-server-id N`.",
        )
        return
    wanted = [(address, server_id) for _ip_id, address, server_id in sending]
    inactive = []
    try:
        database = MailwizzDatabase.from_settings(mailwizz)
        for address, server_id in wanted:
            if server_id is None:  # excluded by the query; narrows the type
                continue
            try:
                status = database.read_server(server_id).status
            except NotFound:
                status = "missing"
            if status != "active":
                inactive.append(f"{address} (server {server_id}: {status})")
    except EmailEngineError as exc:
        yield Item(
            "mailwizz delivery servers",
            "fail",
            exc.detail,
            "Check MAILWIZZ_DB_* and that the engine's MariaDB user may read the delivery-server table "
            "(docs/mailwizz.md).",
        )
        return
    if inactive:
        yield Item(
            "mailwizz delivery servers",
            "fail",
            "not active: " + ", ".join(inactive),
            "Activate them in MailWizz (Backend → Servers → Delivery servers) or run the warmup job.",
        )
    else:
        yield Item("mailwizz delivery servers", "pass", f"{len(wanted)} delivery servers active")


CHECKS = [
    PreflightCheck("inventory", check_inventory, order=50),
    PreflightCheck("mailwizz delivery servers", check_mailwizz_servers, order=90),
]
