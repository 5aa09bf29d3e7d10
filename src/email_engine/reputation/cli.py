"""``email-engine blacklists …``, ``email-engine auth-check DOMAIN``, ``spf check`` and ``dmarc check-record``.

``auth-check`` is a top-level command rather than ``dns check`` because ``email-engine dns`` belongs
to the PowerMTA integration (``dns records``) and ``domains`` to the inventory.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from email_engine.cli_support import JsonOption, cli_context, cli_session, whole_table
from email_engine.clock import utcnow
from email_engine.db import session_scope
from email_engine.ips.models import SendingDomain, SendingIp
from email_engine.reputation import auth_service, service
from email_engine.reputation.auth_facts import Check, CheckStatus
from email_engine.reputation.compliance import SendingIpFacts
from email_engine.reputation.dmarc import parse_dmarc_record
from email_engine.reputation.dnsbl import catalogue, target_kind
from email_engine.reputation.settings import ReputationSettings

blacklists_app = typer.Typer(
    help="DNSBL checks of sending IPs and domains (RFC 5782 answers; timeouts are 'unknown', never clean).",
    no_args_is_help=True,
)
spf_app = typer.Typer(help="SPF (RFC 7208) as a receiver evaluates it.", no_args_is_help=True)
dmarc_app = typer.Typer(help="DMARC policy records (RFC 7489 with RFC 9989's changes).", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

STATUS_STYLE = {
    "listed": "red",
    "clean": "green",
    "error": "yellow",
    "unknown": "yellow",
    "pass": "green",
    "fail": "red",
    "warn": "yellow",
    "info": "cyan",
    "softfail": "yellow",
    "neutral": "yellow",
    "none": "red",
    "permerror": "red",
    "temperror": "yellow",
}
MAX_RECORD_CHARS = 4096  # a TXT record set larger than this is not a DMARC record anyone publishes


@blacklists_app.command("check")
def check(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="IPs or domains; none means every IP and domain of the inventory."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check now. Exit code 1 when anything is listed, 0 otherwise.

    Results for inventory IPs and domains are stored in the listing history (and alert on changes);
    other targets are only printed.
    """
    with cli_session() as (ctx, session), console.status("querying DNSBL zones…"):
        rep = ctx.settings.section(ReputationSettings)
        if targets:
            # Every target is validated before any query; a bad one stops the command with a sentence.
            cleaned = list(dict.fromkeys(service.normalise_target(t) for t in targets))
            known = set(service.inventory_targets(session))
            stored = [t for t in cleaned if t in known]
            adhoc = [t for t in cleaned if t not in known]
            now = utcnow()
            reports = []
            if stored:
                reports += service.check_targets_now(session, ctx.settings, rep, targets=stored, now=now)
            if adhoc:
                reports += service.check_targets_now(
                    session, ctx.settings, rep, targets=adhoc, now=now, record=False
                )
        else:
            reports = service.check_all(session, ctx.settings, rep, now=utcnow())["results"]
    if as_json:
        typer.echo(json.dumps(reports, indent=2))
    else:
        _print_reports(reports)
    if any(report["listed"] for report in reports):
        raise typer.Exit(1)


def _print_reports(reports: list[dict[str, Any]]) -> None:
    if not reports:
        console.print("Nothing to check: the inventory has no IPs or domains.")
        return
    table = whole_table("target", "zone", "status", "codes", "meaning", whole=("target",))
    for report in reports:
        for result in report["results"]:
            style = STATUS_STYLE[result["status"]]
            table.add_row(
                report["ip"],
                result["zone"],
                f"[{style}]{result['status']}[/]",
                " ".join(result["codes"]),
                result["meaning"],
            )
    console.print(table)


@blacklists_app.command("zones")
def zones(as_json: JsonOption = False) -> None:
    """Show the zones checked and where the selection comes from (database, DNSBL_ZONES or default)."""
    with cli_session() as (ctx, session):
        selection = service.zone_selection(session, ctx.settings.section(ReputationSettings))
    rows = [
        {"name": z.name, "kind": z.kind, "major": z.major, "ipv6": z.ipv6, "custom": z.custom}
        for z in selection.zones
    ]
    if as_json:
        typer.echo(
            json.dumps({"source": selection.source, "zones": rows, "catalogue": list(catalogue())}, indent=2)
        )
        return
    table = Table("zone", "kind", "major", "IPv6", "custom", title=f"source: {selection.source}")
    for row in rows:
        table.add_row(
            str(row["name"]), str(row["kind"]), str(row["major"]), str(row["ipv6"]), str(row["custom"])
        )
    console.print(table)


@blacklists_app.command("events")
def events(
    target: Annotated[str | None, typer.Option(help="Only this IP or domain.")] = None,
    open_only: Annotated[bool, typer.Option("--open", help="Only listings not yet delisted.")] = False,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    as_json: JsonOption = False,
) -> None:
    """The listing history, newest first."""
    with cli_session() as (_ctx, session):
        cleaned = service.normalise_target(target) if target else None
        _total, rows = service.list_events(session, target=cleaned, open_only=open_only, limit=limit)
        items = [
            {
                "target": r.target,
                "zone": r.zone,
                "major": r.major,
                "codes": r.codes,
                "meaning": r.meaning,
                "first_seen_at": r.first_seen_at.isoformat(),
                "last_seen_at": r.last_seen_at.isoformat(),
                "delisted_at": r.delisted_at.isoformat() if r.delisted_at else None,
            }
            for r in rows
        ]
    if as_json:
        typer.echo(json.dumps(items, indent=2))
        return
    table = whole_table(
        "target", "zone", "major", "first seen", "last seen", "delisted", "meaning", whole=("target",)
    )
    for item in items:
        table.add_row(
            *(
                str(item[key] if item[key] is not None else "-")
                for key in (
                    "target",
                    "zone",
                    "major",
                    "first_seen_at",
                    "last_seen_at",
                    "delisted_at",
                    "meaning",
                )
            )
        )
    console.print(table)


def auth_check(
    domain: Annotated[str, typer.Argument(help="The sending domain (From domain) to validate.")],
    ip: Annotated[
        list[str] | None,
        typer.Option(
            "--ip", help="Sending IP to evaluate SPF and PTR for (repeatable); default: the inventory's IPs."
        ),
    ] = None,
    selector: Annotated[str | None, typer.Option(help="DKIM selector; default: the inventory's.")] = None,
    bounce_domain: Annotated[
        str | None, typer.Option(help="Envelope (Return-Path) domain; default: the inventory's.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Validate SPF (evaluated for each IP), DKIM, DMARC, PTR, bounce MX, MTA-STS and TLS-RPT of DOMAIN.

    Prints each check with a sentence to act on and the Gmail/Yahoo bulk-sender summary; nothing is
    stored (the dns-auth job and POST /api/v1/domains/{id}/validate store results). With --json the report
    also has "spf" (per IP: result, mechanism, explanation, as `spf check`) and "dmarc" (status, policy,
    tags, problems, as `dmarc check-record`). Exit code 1 when a check fails.
    """
    if target_kind(domain) != "domain":
        raise typer.BadParameter(f"{domain!r} is an IP address; give the sending domain.")
    for address in ip or []:
        if target_kind(address) == "domain":
            raise typer.BadParameter(f"--ip {address!r} is not an IP address.")
    name = domain.strip().lower().rstrip(".")
    with cli_context() as ctx:
        rep = ctx.settings.section(ReputationSettings)
        with session_scope(ctx.session_factory) as session:
            known = session.scalar(select(SendingDomain).where(SendingDomain.name == name))
            hostnames = {row.address: row.hostname for row in session.scalars(select(SendingIp))}
            ips = (
                [
                    SendingIpFacts(service.normalise_target(a), hostnames.get(service.normalise_target(a)))
                    for a in ip
                ]
                if ip
                else auth_service.sending_ip_facts(session)
            )
            selector = selector or (known.dkim_selector if known else None)
            bounce_domain = bounce_domain or (known.bounce_domain if known else None)
        with console.status(f"checking DNS of {name}…"):
            report = auth_service.check_domain(
                ctx.settings, rep, domain=name, dkim_selector=selector, bounce_domain=bounce_domain, ips=ips
            )
    if as_json:
        typer.echo(json.dumps(_auth_check_json(report.as_dict(), report.checks), indent=2))
    else:
        table = Table("check", "status", "what to do", title=f"{report.domain}: {report.status}")
        for item in report.checks:
            table.add_row(item.name, f"[{STATUS_STYLE[item.status]}]{item.status}[/]", item.sentence)
        console.print(table)
        summary = Table(
            "requirement", "status", "detail", title=f"Gmail/Yahoo: {report.compliance['status']}"
        )
        for requirement in report.compliance["requirements"]:
            summary.add_row(requirement["name"], requirement["status"], requirement["sentence"])
        console.print(summary)
    if report.status == CheckStatus.FAIL:
        raise typer.Exit(1)


def _auth_check_json(report: dict[str, Any], checks: tuple[Check, ...]) -> dict[str, Any]:
    """The stored report's shape, plus the `spf check` and `dmarc check-record` contracts per check."""
    spf = [
        {key: check.data.get(key) for key in ("ip", "result", "mechanism", "explanation")}
        for check in checks
        if check.name.startswith("spf:")
    ]
    dmarc = next((check for check in checks if check.name == "dmarc"), None)
    dmarc_json: dict[str, Any] | None = None
    if dmarc is not None:
        if "tags" in dmarc.data:  # a record was found and read
            dmarc_json = {key: dmarc.data[key] for key in ("status", "policy", "tags", "problems")}
            if (
                dmarc.status == CheckStatus.UNKNOWN
            ):  # read, but an external destination's authorisation was not
                dmarc_json["status"] = CheckStatus.UNKNOWN
        else:
            status = CheckStatus.UNKNOWN if dmarc.status == CheckStatus.UNKNOWN else CheckStatus.FAIL
            problems = [{"severity": "error", "tag": None, "text": dmarc.sentence}]
            dmarc_json = {"status": status, "policy": None, "tags": {}, "problems": problems}
    return {**report, "spf": spf, "dmarc": dmarc_json}


@spf_app.command("check")
def spf_check(
    ip: Annotated[str, typer.Option("--ip", help="The connecting client's IP address (IPv4 or IPv6).")],
    sender: Annotated[
        str | None,
        typer.Option(
            "--sender",
            help="Envelope sender (MAIL FROM). A bare domain or '@domain' is checked as postmaster@domain; "
            "empty or left out: the HELO name is checked (RFC 7208 2.3).",
        ),
    ] = None,
    helo: Annotated[str | None, typer.Option("--helo", help="The HELO/EHLO name the client gave.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Evaluate SPF for IP sending as SENDER (or as the HELO name) the way a receiver does (RFC 7208 check_host).

    Uses DNS_NAMESERVERS, DNSBL_TIMEOUT per lookup and DNSBL_DEADLINE for the whole evaluation. --json prints
    {"result": pass|fail|softfail|neutral|none|permerror|temperror, "mechanism": the deciding term or null,
    "explanation": the domain's exp= text or the standard one}. temperror means DNS did not answer: unknown,
    not a fail. Exit code 0 whenever SPF was evaluated (read the result), 2 for bad input.
    """
    try:
        address = str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        raise typer.BadParameter(f"{ip!r} is not an IP address.", param_hint="--ip") from None
    sender = (sender or "").strip()
    helo = (helo or "").strip()
    if len(sender) > 320 or len(helo) > 255:
        raise typer.BadParameter("--sender is at most 320 characters and --helo at most 255.")
    if sender and "@" not in sender:
        sender = f"postmaster@{sender}"
    if not sender and not helo:
        raise typer.BadParameter("Give --sender (the envelope sender) or --helo (the HELO name), or both.")
    with cli_context() as ctx:
        rep = ctx.settings.section(ReputationSettings)
        evaluation = auth_service.check_spf_now(ctx.settings, rep, ip=address, sender=sender, helo=helo)
    if as_json:
        typer.echo(json.dumps(evaluation.as_dict(), indent=2))
        return
    style = STATUS_STYLE.get(evaluation.result, "white")
    console.print(f"SPF for {evaluation.domain} and {address}: [{style}]{evaluation.result}[/]")
    console.print(f"deciding mechanism: {evaluation.mechanism or '-'}")
    console.print(f"explanation: {evaluation.explanation or '-'}")
    if evaluation.record:
        console.print(f"record: {evaluation.record}", highlight=False)
    console.print(f"DNS lookups: {evaluation.lookups} (void: {evaluation.void_lookups})")


@dmarc_app.command("check-record")
def dmarc_check_record(
    record: Annotated[
        str, typer.Argument(help="The DMARC record text, e.g. 'v=DMARC1; p=none; rua=mailto:…'.")
    ],
    as_json: JsonOption = False,
) -> None:
    """Read one DMARC record without any DNS lookup (RFC 7489 with RFC 9989's changes).

    --json prints {"status": pass|warn|fail, "policy": the effective p= (none when absent) or null when the
    record is invalid, "tags": every tag with defaults filled in, "problems": [{"severity", "tag", "text"}]}.
    Reports to another organisation's address also need that destination's authorisation record
    (<domain>._report._dmarc.<destination>), which `auth-check` verifies in DNS. Exit code 1 when the record
    is invalid (status fail).
    """
    if len(record) > MAX_RECORD_CHARS:
        raise typer.BadParameter(f"The record is longer than {MAX_RECORD_CHARS} characters.")
    checked = parse_dmarc_record(record)
    if as_json:
        typer.echo(json.dumps(checked.as_dict(), indent=2))
    else:
        console.print(f"DMARC record: [{STATUS_STYLE[checked.status]}]{checked.status}[/]", highlight=False)
        console.print(f"policy: {checked.policy or '-'}")
        for problem in checked.problems:
            console.print(f"{problem.severity}: {problem.text}", highlight=False)
    if checked.status == CheckStatus.FAIL:
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    root.add_typer(blacklists_app, name="blacklists")
    root.add_typer(spf_app, name="spf")
    root.add_typer(dmarc_app, name="dmarc")
    root.command("auth-check")(auth_check)
