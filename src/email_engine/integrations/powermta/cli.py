"""``email-engine pmta …`` (render, diff, deploy, lint), ``dkim generate`` and ``dns records``."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from rich.console import Console
from rich.table import Table

from email_engine.cli_support import JsonOption, cli_session
from email_engine.clock import utcnow
from email_engine.config import get_settings
from email_engine.errors import InvalidInput
from email_engine.integrations.powermta import deploy as deployer
from email_engine.integrations.powermta import dkim, service
from email_engine.integrations.powermta.dns_records import dns_records, to_bind, to_rows
from email_engine.integrations.powermta.inventory import VmtaFacts
from email_engine.integrations.powermta.lint_disk import lint_path
from email_engine.integrations.powermta.lint_findings import LintReport
from email_engine.integrations.powermta.renderer import RenderedConfig
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.integrations.powermta.vmta_plan import vmta_facts
from email_engine.ips.lifecycle import IpState

pmta_app = typer.Typer(
    help="PowerMTA configuration as code: render, diff, deploy, lint.", no_args_is_help=True
)
dkim_app = typer.Typer(help="DKIM keys for sending domains.", no_args_is_help=True)
dns_app = typer.Typer(help="DNS records the operator must publish.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


def _render() -> tuple[RenderedConfig, LintReport]:
    with cli_session() as (ctx, session):
        return service.render_from_db(session, ctx.settings.section(PowerMtaSettings), now=utcnow())


def _print_report(report: LintReport) -> None:
    for issue in report.issues:
        colour = "red" if issue.severity == "error" else "yellow"
        err.print(f"[{colour}]{issue}[/]", highlight=False, markup=True, soft_wrap=True)


def _print_notes(rendered: RenderedConfig) -> None:
    for note in rendered.notes:
        err.print(f"[yellow]note:[/] {note}", highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


@pmta_app.command("render")
def render(
    out: Annotated[
        Path,
        typer.Option("--out", help="Directory to write config, routing-domains, bounce-classifications."),
    ],
    as_json: JsonOption = False,
) -> None:
    """Render the configuration from the inventory and write it to --out (files mode 0640).

    Nothing is written if the linter finds an error in the result.
    """
    rendered, report = _render()
    if not report.ok():
        _print_report(report)
        raise _fail(f"the rendered configuration has {len(report.errors)} lint error(s); nothing was written")
    out.mkdir(parents=True, exist_ok=True)
    for name, text in rendered.files.items():
        deployer.atomic_write(out / name, text.encode("utf-8"))
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "out": str(out),
                    "files": sorted(rendered.files),
                    "lint": report.as_dict(),
                    "notes": list(rendered.notes),
                }
            )
        )
    else:
        _print_notes(rendered)
        typer.echo(f"wrote {', '.join(sorted(rendered.files))} to {out} ({len(report.warnings)} warning(s))")


@pmta_app.command("diff")
def diff(
    config_dir: Annotated[
        Path | None, typer.Option("--dir", help="Deployed directory (default PMTA_CONFIG_DIR).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show what a deploy would change (unified diff, secrets redacted). Exit 1 when files differ."""
    rendered, _report = _render()
    target = config_dir or Path(get_settings().section(PowerMtaSettings).config_dir)
    output = service.redacted_diff(rendered, target)
    if as_json:
        typer.echo(json.dumps({"dir": str(target), "changed": sorted(output), "diffs": output}))
    elif output:
        for text in output.values():
            sys.stdout.write(text)
    else:
        typer.echo(f"{target} is up to date")
    if output:
        raise typer.Exit(1)


@pmta_app.command("deploy")
def deploy(
    force: Annotated[bool, typer.Option("--force", help="Write and reload even if nothing changed.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Render, lint, back up the deployed files, write atomically, reload PowerMTA.

    If PMTA_RELOAD_COMMAND fails, the previous files are restored byte for byte and the command exits 1.
    """
    settings = get_settings().section(PowerMtaSettings)
    rendered, report = _render()
    if not report.ok():
        _print_report(report)
        raise _fail(f"refusing to deploy: {len(report.errors)} lint error(s) in the rendered configuration")
    try:
        result = service.deploy_rendered(rendered, report, settings, now=utcnow(), force=force)
    except deployer.ReloadFailed as exc:
        raise _fail(exc.detail) from exc
    if as_json:
        typer.echo(json.dumps({**result.as_dict(), "notes": list(rendered.notes)}))
        return
    _print_notes(rendered)
    if not result.written:
        typer.echo(f"{settings.config_dir} is up to date; nothing to deploy")
    else:
        typer.echo(f"deployed {', '.join(result.written)}; backup in {result.backup_dir}; PowerMTA reloaded")


@pmta_app.command("lint")
def lint(
    path: Annotated[
        Path, typer.Argument(help="Configuration file, e.g. /etc/pmta/config (includes are followed).")
    ],
    strict: Annotated[bool, typer.Option("--strict", help="Fail on warnings too.")] = False,
    inventory: Annotated[
        bool,
        typer.Option(
            "--inventory",
            help="Also check against the inventory: every IP has a VMTA, warming VMTAs stay within their "
            "warmup cap, default-virtual-mta reaches only active IPs.",
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Check a PowerMTA configuration against PowerMTA's User's Guide.

    Unknown directives, directives or blocks where the guide does not allow them, values outside their
    documented form, illegal macro names, unbalanced blocks, undefined VMTAs/pools/lists/macros/sources,
    placeholders, backoff that is not slower than the normal rate, queue-to without smtp-hosts, rb/f
    records without their processors, duplicate IPs, secret files readable by everyone. Each finding
    names the file, the line and the guide section. Exit 1 on errors (and on warnings with --strict).
    """
    expected: list[str] = []
    facts: dict[str, VmtaFacts] = {}
    if inventory:
        with cli_session() as (_ctx, session):
            snapshot = service.snapshot_inventory(session, now=utcnow())
        expected = [ip.address for ip in snapshot.ips if ip.state != IpState.RETIRED]
        facts = vmta_facts(snapshot)
    report = lint_path(path, expected_ips=expected, vmtas=facts)
    if as_json:
        typer.echo(json.dumps({**report.as_dict(), "ok": report.ok(strict=strict)}))
    else:
        _print_report(report)
    if not report.ok(strict=strict):
        if not as_json:
            err.print(
                f"[red]error:[/] {len(report.errors)} error(s), {len(report.warnings)} warning(s) in {path}"
            )
        raise typer.Exit(1)
    if not as_json:
        typer.echo(f"{path}: OK ({len(report.files)} file(s), {len(report.warnings)} warning(s))")


@dkim_app.command("generate")
def dkim_generate(  # noqa: PLR0917 - Typer options
    domain: Annotated[str, typer.Option(help="Sending domain, e.g. example.com.")],
    selector: Annotated[str, typer.Option(help="Selector, e.g. s2026 (letters, digits, '-', '_', '.').")],
    algorithm: Annotated[str, typer.Option(help="rsa (default, verified everywhere) or ed25519.")] = "rsa",
    bits: Annotated[int, typer.Option(help="RSA key size.")] = 2048,
    key_dir: Annotated[
        Path | None, typer.Option(help="Directory for the key (default DKIM_KEY_DIR).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace an existing key for this selector.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Generate a DKIM key (private key written 0600) and print the TXT record to publish."""
    if algorithm not in ("rsa", "ed25519"):
        raise InvalidInput("--algorithm must be rsa or ed25519.")
    directory = key_dir or Path(get_settings().section(PowerMtaSettings).dkim_key_dir)
    path = dkim.key_path(directory, domain=domain, selector=selector)
    pair = dkim.generate_key("rsa" if algorithm == "rsa" else "ed25519", bits=bits)
    dkim.write_private_key(path, pair.private_pem, overwrite=force)
    name = f"{selector}._domainkey.{domain.lower().rstrip('.')}"
    chunks = dkim.split_txt(pair.txt)
    if as_json:
        typer.echo(
            json.dumps(
                {"key_path": str(path), "record": name, "type": "TXT", "value": pair.txt, "strings": chunks}
            )
        )
        return
    typer.echo(f"private key: {path} (mode 0600)")
    typer.echo(f"publish this TXT record at {name}:")
    typer.echo(" ".join(f'"{chunk}"' for chunk in chunks))


@dkim_app.command("generate-missing")
def dkim_generate_missing(
    selector: Annotated[
        str | None,
        typer.Option(help="Selector for domains that have none yet (default s<current year>, e.g. s2026)."),
    ] = None,
    algorithm: Annotated[str, typer.Option(help="rsa (default, verified everywhere) or ed25519.")] = "rsa",
    bits: Annotated[int, typer.Option(help="RSA key size.")] = 2048,
    key_dir: Annotated[
        Path | None, typer.Option(help="Directory for the keys (default DKIM_KEY_DIR).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """A DKIM key for every sending domain in the inventory that has none; the TXT records to publish.

    What scripts/generate-dkim.sh does without arguments (the deployment guide's call). A domain keeps its
    selector; one without a selector gets --selector, stored on the domain so the rendered PowerMTA config
    signs with the new key. Existing keys are never replaced (use `dkim generate --force` for that).
    """
    from sqlalchemy import select

    from email_engine.ips import service as inventory
    from email_engine.ips.models import SendingDomain
    from email_engine.ips.validators import normalise_dkim_selector

    if algorithm not in ("rsa", "ed25519"):
        raise InvalidInput("--algorithm must be rsa or ed25519.")
    directory = key_dir or Path(get_settings().section(PowerMtaSettings).dkim_key_dir)
    try:
        fresh_selector = normalise_dkim_selector(selector or f"s{utcnow().year}")
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    results: list[dict[str, Any]] = []
    with cli_session() as (_ctx, session):
        domains = session.scalars(select(SendingDomain).order_by(SendingDomain.name)).all()
        if not domains:
            raise InvalidInput(
                "There are no sending domains in the inventory yet: add one (email-engine domains add "
                "example.com --dkim-selector s2026, or POST /api/v1/domains), or run "
                "scripts/generate-dkim.sh DOMAIN SELECTOR."
            )
        for domain in domains:
            chosen = domain.dkim_selector or fresh_selector
            path = dkim.key_path(directory, domain=domain.name, selector=chosen)
            row: dict[str, Any] = {"domain": domain.name, "selector": chosen, "key_path": str(path)}
            if path.exists():
                results.append({**row, "generated": False})
                continue
            pair = dkim.generate_key("rsa" if algorithm == "rsa" else "ed25519", bits=bits)
            dkim.write_private_key(path, pair.private_pem)
            if domain.dkim_selector is None:
                inventory.update_domain(session, domain.id, {"dkim_selector": chosen}, now=utcnow())
            record = f"{chosen}._domainkey.{domain.name}"
            chunks = dkim.split_txt(pair.txt)
            results.append({**row, "generated": True, "record": record, "value": pair.txt, "strings": chunks})
    if as_json:
        typer.echo(json.dumps(results))
        return
    for row in results:
        if not row["generated"]:
            typer.echo(f"{row['domain']}: has a key already ({row['key_path']}), left alone")
            continue
        typer.echo(f"{row['domain']}: private key {row['key_path']} (mode 0600)")
        typer.echo(f"  publish this TXT record at {row['record']}:")
        typer.echo("  " + " ".join(f'"{chunk}"' for chunk in row["strings"]))


def _dkim_txt(directory: Path, domain: str, selector: str | None) -> str | None:
    if not selector:
        return None
    path = dkim.key_path(directory, domain=domain, selector=selector)
    try:
        return dkim.public_txt_from_private(path.read_bytes())
    except OSError:
        return None


@dns_app.command("records")
def records(
    domain: Annotated[str, typer.Argument(help="A sending domain from the inventory.")],
    fmt: Annotated[str, typer.Option("--format", help="bind, table or both.")] = "both",
    mx_host: Annotated[
        str | None,
        typer.Option(
            help="Host that receives the domain's bounces (MX of the return-path domain). Default: "
            "PMTA_HOST_NAME when PMTA_INBOUND_LISTENER is set; otherwise none, and a note says it is needed."
        ),
    ] = None,
    pool: Annotated[
        list[str] | None,
        typer.Option(
            "--pool", help="Pools that send for DOMAIN, for this run only (default: `dns senders`)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Print the SPF, DKIM, DMARC, return-path MX, A and PTR records to create for DOMAIN.

    Per domain: SPF lists only the IPs of the pools that send for DOMAIN (see `email-engine dns senders`),
    and no MX is invented for a domain that only sends; the return-path domain's MX is printed when the
    host that takes bounces is known, otherwise a note says it is needed.
    """
    settings = get_settings().section(PowerMtaSettings)
    with cli_session() as (_ctx, session):
        senders = service.domain_senders(session, domain, pools=pool or None)
    name = senders.domain
    inbound_host = settings.host_name if settings.inbound_listener else None
    found, notes = dns_records(
        name,
        hosts=senders.hosts,
        dkim_selector=senders.dkim_selector,
        dkim_txt=_dkim_txt(Path(settings.dkim_key_dir), name, senders.dkim_selector),
        bounce_domain=senders.bounce_domain,
        mx_host=mx_host or inbound_host,
        dmarc_rua=settings.dmarc_rua,
    )
    if as_json:
        payload: dict[str, Any] = {
            "domain": name,
            "pools": list(senders.pools),
            "records": [record.as_dict() for record in found],
            "notes": notes,
        }
        typer.echo(json.dumps(payload, indent=2))
        return
    if fmt not in ("bind", "table", "both"):
        raise InvalidInput("--format must be bind, table or both.")
    if fmt in ("bind", "both"):
        typer.echo(to_bind(found, notes))
    if fmt in ("table", "both"):
        table = Table("type", "name", "value", "where")
        for row_values in to_rows(found):
            table.add_row(*row_values)
        console.print(table)
        for note in notes:
            console.print(f"[yellow]note:[/] {note}", highlight=False)


throttles_app = typer.Typer(
    help="The throttle and backoff tables (defaults or the operator's edit).", no_args_is_help=True
)
pmta_app.add_typer(throttles_app, name="throttles")

MAX_TABLE_FILE_BYTES = 512 * 1024


@throttles_app.command("show")
def throttles_show(as_json: JsonOption = False) -> None:
    """Print the tables in use as YAML (edit, then `pmta throttles set FILE`)."""
    with cli_session() as (_ctx, session):
        stored = service.load_tables(session)
    document = stored.tables.model_dump(mode="json")
    if as_json:
        typer.echo(json.dumps({"source": stored.source, "tables": document}))
        return
    typer.echo(f"# source: {stored.source}")
    typer.echo(yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=200), nl=False)


@throttles_app.command("set")
def throttles_set(
    path: Annotated[Path, typer.Argument(help="YAML or JSON file with the whole tables document.")],
) -> None:
    """Validate a tables document and store it; the next render uses it. Nothing is stored on error."""
    try:
        if path.stat().st_size > MAX_TABLE_FILE_BYTES:
            raise InvalidInput(f"{path} is larger than 512 KiB; a tables document is a few tens of KiB.")
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidInput(f"Cannot read {path}: {exc.strerror}.") from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path} is not valid YAML or JSON: {str(exc).splitlines()[0]}") from exc
    with cli_session() as (_ctx, session):
        stored = service.save_tables(session, document=document, actor="cli", now=utcnow())
    typer.echo(
        f"stored {len(stored.tables.providers)} providers and {len(stored.tables.backoff_patterns)} backoff "
        "patterns; run `email-engine pmta deploy` to apply them"
    )


@throttles_app.command("reset")
def throttles_reset() -> None:
    """Drop the operator's edit and go back to the shipped defaults."""
    with cli_session() as (_ctx, session):
        service.reset_tables(session)
    typer.echo("throttle tables reset to the shipped defaults")


def register(root: typer.Typer) -> None:
    root.add_typer(pmta_app, name="pmta")
    root.add_typer(dkim_app, name="dkim")
    root.add_typer(dns_app, name="dns")


@dns_app.command("senders")
def senders_command(
    domain: Annotated[str, typer.Argument(help="A sending domain from the inventory.")],
    pool: Annotated[
        list[str] | None,
        typer.Option("--pool", help="A pool that sends for DOMAIN (repeat; replaces the list)."),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="No pool sends for DOMAIN any more.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Show or set which pools send for DOMAIN: their IPs, and only theirs, go in its SPF record."""
    with cli_session() as (_ctx, session):
        if pool or clear:
            if pool and clear:
                raise InvalidInput("Give --pool or --clear, not both.")
            result = service.set_domain_pools(session, domain, pool or [], now=utcnow())
        else:
            result = service.domain_senders(session, domain)
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    if not result.pools:
        typer.echo(f"{result.domain}: no pool sends for it (its SPF lists no IP)")
        return
    typer.echo(f"{result.domain}: pools {', '.join(result.pools)}")
    for host in result.hosts:
        typer.echo(f"  {host.address}  {host.hostname}")
