"""The checklist. Each check returns :class:`Item`s: pass, fail (with the fix in one sentence) or skip
(not configured — "not configured" is never reported as "down")."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.config import check_secrets
from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, NotFound
from email_engine.migrate import alembic_config
from email_engine.preflight.report import Item
from email_engine.preflight.settings import PreflightSettings

__all__ = ["CHECKS", "run_preflight"]

Check = Callable[[AppContext, PreflightSettings, datetime], Iterable[Item]]


def check_secrets_strength(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    production = ctx.settings.model_copy(update={"environment": "production"})
    try:
        check_secrets(production)
    except ConfigurationError as exc:
        yield Item(
            "secrets", "fail", exc.detail, "Run `email-engine secrets rotate` and put the values in .env."
        )
        return
    yield Item("secrets", "pass", "API_KEY and JWT_SECRET_KEY are set and strong")


def check_migrations(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    script = ScriptDirectory.from_config(alembic_config(ctx.settings.database_url))
    with ctx.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    missing = set(script.get_heads()) - current
    if missing:
        yield Item(
            "database schema",
            "fail",
            f"{len(missing)} migration branch(es) not applied",
            "Run `email-engine db upgrade`.",
        )
    else:
        yield Item("database schema", "pass", f"up to date ({ctx.engine.dialect.name})")


def check_components(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """The health checks (database, Redis, PowerMTA, MailWizz, scraper-pro, outbox, disk, jobs)."""
    from email_engine.ops.router import run_checks

    report = asyncio.run(run_checks(ctx))
    checks: dict[str, dict[str, str]] = report["checks"]  # type: ignore[assignment]
    for name, check in sorted(checks.items()):
        status = check["status"]
        if status == "not_configured":
            yield Item(name, "skip", check["detail"], "Configure it in .env if this deployment uses it.")
        elif status == "fail":
            yield Item(
                name, "fail", check["detail"], f"See GET /health: the {name} check must pass before sending."
            )
        else:
            yield Item(name, "pass", check["detail"])


def _inventory(session: Session) -> tuple[list[str], list[tuple[str, str]]]:
    from email_engine.ips.models import SendingDomain, SendingIp

    ips = [
        address
        for (address,) in session.execute(select(SendingIp.address).where(SendingIp.state != "retired"))
    ]
    domains = [
        (name, selector or "")
        for name, selector in session.execute(select(SendingDomain.name, SendingDomain.dkim_selector))
    ]
    return ips, domains


def check_inventory(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    with ctx.session_factory() as session:
        ips, domains = _inventory(session)
    if not ips:
        yield Item(
            "inventory", "fail", "no sending IPs", "Add your IPs: `email-engine ips add` or POST /api/v1/ips."
        )
    elif not domains:
        yield Item(
            "inventory",
            "fail",
            f"{len(ips)} IPs but no sending domain",
            "Add your sending domains: POST /api/v1/domains.",
        )
    else:
        yield Item("inventory", "pass", f"{len(ips)} IPs, {len(domains)} domains")


def check_blacklists(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    from email_engine.reputation.service import last_checks, listed_ips

    with ctx.session_factory() as session:
        ips, _domains = _inventory(session)
        listed = listed_ips(session)
        checked = {check.target: check.checked_at for check in last_checks(session)}
    if not ips:
        yield Item("blacklists", "skip", "no sending IPs to check", "Add IPs first.")
        return
    stale = [ip for ip in ips if ip not in checked or checked[ip] < now - timedelta(hours=24)]
    on_lists = {ip: [listing.zone for listing in listed[ip]] for ip in ips if ip in listed}
    if on_lists:
        detail = "; ".join(f"{ip} on {', '.join(zones)}" for ip, zones in on_lists.items())
        yield Item(
            "blacklists",
            "fail",
            detail,
            "Find and fix the cause, then request delisting; the listed IPs stay quarantined meanwhile.",
        )
    elif stale:
        yield Item(
            "blacklists",
            "fail",
            f"not checked in the last 24 h: {', '.join(stale)}",
            "Run `email-engine jobs run blacklists`.",
        )
    else:
        yield Item("blacklists", "pass", f"0 of {len(ips)} IPs listed (checked within 24 h)")


def check_dns_auth(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    from email_engine.reputation import auth_service

    with ctx.session_factory() as session:
        _ips, domains = _inventory(session)
        if not domains:
            yield Item("dns records", "skip", "no sending domains", "Add sending domains first.")
            return
        for name, _selector in domains:
            report = auth_service.latest_domain_report(session, name)
            if report is None or report.checked_at < now - timedelta(hours=36):
                yield Item(
                    f"dns {name}",
                    "fail",
                    "SPF/DKIM/DMARC/PTR not checked in the last 36 h",
                    "Run `email-engine jobs run dns-auth` (or POST /api/v1/domains/validate-all).",
                )
                continue
            failing = [f"{check.name}: {check.message}" for check in report.checks if check.status == "fail"]
            if failing:
                yield Item(
                    f"dns {name}",
                    "fail",
                    "; ".join(failing),
                    f"Create the records from `email-engine dns records {name}` and re-run the dns-auth job.",
                )
            else:
                yield Item(f"dns {name}", "pass", "SPF, DKIM, DMARC and PTR pass")


def _deployed_config(ctx: AppContext) -> Path:
    from email_engine.integrations.powermta.settings import PowerMtaSettings
    from email_engine.ops.domain_settings import domain_settings

    return Path(domain_settings(ctx, PowerMtaSettings).config_dir) / "config"


def check_powermta_config(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    from email_engine.integrations.powermta.linter import lint_path

    path = _deployed_config(ctx)
    if not path.exists():
        yield Item(
            "powermta config",
            "fail",
            f"{path} does not exist",
            "Render and deploy it: `email-engine pmta deploy` (PMTA_CONFIG_DIR).",
        )
        return
    with ctx.session_factory() as session:
        ips, _domains = _inventory(session)
    report = lint_path(path, expected_ips=ips)
    if report.errors:
        first = report.errors[0]
        yield Item(
            "powermta config",
            "fail",
            f"{len(report.errors)} lint errors, first: {first}",
            f"Run `email-engine pmta lint {path}` and fix, or redeploy with `email-engine pmta deploy`.",
        )
    else:
        yield Item("powermta config", "pass", f"lints clean ({len(report.files)} files)")
    text = "\n".join(Path(name).read_text(errors="replace") for name in report.files if Path(name).is_file())
    patterns = "<bounce-category-patterns>" in text
    yield Item(
        "powermta bounce patterns",
        "pass" if patterns else "fail",
        "bounce-category-patterns loaded" if patterns else "no <bounce-category-patterns> block",
        "" if patterns else "Redeploy with `email-engine pmta deploy` (patterns come from the classifier).",
    )
    pipes = {
        kind: bool(re.search(rf"<acct-file\s+\|[^>]*{kind}-pipe", text)) for kind in ("bounce", "delivery")
    }
    wired = all(pipes.values())
    yield Item(
        "powermta pipes",
        "pass" if wired else "fail",
        "bounce and delivery accounting pipes wired"
        if wired
        else f"missing pipes: {', '.join(k for k, v in pipes.items() if not v)}",
        "" if wired else "Redeploy with `email-engine pmta deploy`; the pipes feed bounces to the engine.",
    )


def check_mailwizz_servers(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    from email_engine.integrations.mailwizz.database import MailwizzDatabase
    from email_engine.ips.models import SendingIp

    if not (ctx.settings.mailwizz_db_host and ctx.settings.mailwizz_db_name):
        yield Item(
            "mailwizz delivery servers",
            "skip",
            "MAILWIZZ_DB_* not set",
            "Set MAILWIZZ_DB_HOST/USER/PASSWORD/NAME so quotas reach MailWizz.",
        )
        return
    with ctx.session_factory() as session:
        wanted = list(
            session.execute(
                select(SendingIp.address, SendingIp.mailwizz_server_id).where(
                    SendingIp.state.in_(("active", "warming")), SendingIp.mailwizz_server_id.is_not(None)
                )
            )
        )
    if not wanted:
        yield Item(
            "mailwizz delivery servers",
            "fail",
            "no active or warming IP has a MailWizz delivery-server id",
            "Set mailwizz_server_id on each sending IP (PATCH /api/v1/ips/{id}).",
        )
        return
    database = MailwizzDatabase.from_settings(ctx.settings)
    inactive = []
    for address, server_id in wanted:
        if server_id is None:  # excluded by the query; narrows the type
            continue
        try:
            status = database.read_server(server_id).status
        except NotFound:
            status = "missing"
        if status != "active":
            inactive.append(f"{address} (server {server_id}: {status})")
    if inactive:
        yield Item(
            "mailwizz delivery servers",
            "fail",
            "not active: " + ", ".join(inactive),
            "Activate them in MailWizz (Backend → Servers → Delivery servers) or run the warmup job.",
        )
    else:
        yield Item("mailwizz delivery servers", "pass", f"{len(wanted)} delivery servers active")


def check_scraper_pro(ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    from email_engine.integrations.scraper_pro.signing import signed_headers

    settings = ctx.settings
    if not settings.scraper_pro_bounce_url:
        yield Item(
            "scraper-pro signed call",
            "skip",
            "SCRAPER_PRO_BOUNCE_URL not set",
            "Set SCRAPER_PRO_BOUNCE_URL and SCRAPER_PRO_HMAC_SECRET to feed bounces back.",
        )
        return
    if settings.scraper_pro_hmac_secret is None:
        yield Item(
            "scraper-pro signed call",
            "fail",
            "SCRAPER_PRO_HMAC_SECRET not set",
            "Set SCRAPER_PRO_HMAC_SECRET (the same value scraper-pro verifies with).",
        )
        return
    body = json.dumps({"kind": "preflight", "test": True, "events": []}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Email-Engine-Test": "1",
        **signed_headers(settings.scraper_pro_hmac_secret.get_secret_value(), body, now=time.time()),
    }
    try:
        response = httpx.post(
            settings.scraper_pro_bounce_url, content=body, headers=headers, timeout=pf.timeout
        )
    except httpx.HTTPError as exc:
        yield Item(
            "scraper-pro signed call",
            "fail",
            f"unreachable: {type(exc).__name__}",
            "Check SCRAPER_PRO_BOUNCE_URL and that scraper-pro is running.",
        )
        return
    if response.is_success:
        yield Item("scraper-pro signed call", "pass", f"signed test call accepted ({response.status_code})")
    else:
        yield Item(
            "scraper-pro signed call",
            "fail",
            f"answered {response.status_code}",
            "Make scraper-pro verify X-Timestamp/X-Signature with the same SCRAPER_PRO_HMAC_SECRET.",
        )


def _get(url: str, pf: PreflightSettings) -> httpx.Response:
    return httpx.get(url, timeout=pf.timeout, verify=pf.ca_bundle or True, follow_redirects=False)


def check_monitoring(_ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    if not pf.prometheus_url:
        yield Item("prometheus rules", "skip", "PROMETHEUS_URL not set", "Set PROMETHEUS_URL (monitoring/).")
    else:
        try:
            groups = _get(f"{pf.prometheus_url.rstrip('/')}/api/v1/rules", pf).json()["data"]["groups"]
            names = {rule["name"] for group in groups for rule in group["rules"]}
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            yield Item(
                "prometheus rules",
                "fail",
                f"cannot read rules: {type(exc).__name__}",
                "Start the monitoring stack: `docker compose up -d` in monitoring/.",
            )
        else:
            ok = "EmailEngineDown" in names
            yield Item(
                "prometheus rules",
                "pass" if ok else "fail",
                f"{len(names)} alert rules loaded",
                "" if ok else "Load monitoring/alert-rules.yml in Prometheus (rule_files).",
            )
    if not pf.alertmanager_url:
        yield Item("alertmanager", "skip", "ALERTMANAGER_URL not set", "Set ALERTMANAGER_URL (monitoring/).")
        return
    try:
        healthy = _get(f"{pf.alertmanager_url.rstrip('/')}/-/healthy", pf).is_success
    except httpx.HTTPError:
        healthy = False
    yield Item(
        "alertmanager",
        "pass" if healthy else "fail",
        "healthy" if healthy else "not healthy",
        "" if healthy else "Start Alertmanager (monitoring/docker-compose.yml).",
    )


def check_telegram(ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    token, chat = ctx.settings.telegram_bot_token, ctx.settings.telegram_chat_id
    if token is None or not chat:
        yield Item(
            "telegram",
            "skip",
            "TELEGRAM_BOT_TOKEN / TELEGRAM_CHAT_ID not set",
            "Set them so alerts reach you; `email-engine alerts test` sends a test message.",
        )
        return
    base = f"{ctx.settings.telegram_api_url.rstrip('/')}/bot{token.get_secret_value()}"
    try:
        me = httpx.get(f"{base}/getMe", timeout=pf.timeout).json()
        chat_info = httpx.get(f"{base}/getChat", params={"chat_id": chat}, timeout=pf.timeout).json()
    except (httpx.HTTPError, ValueError):
        yield Item(
            "telegram", "fail", "the Bot API did not answer", "Check network access to TELEGRAM_API_URL."
        )
        return
    if me.get("ok") and chat_info.get("ok"):
        yield Item("telegram", "pass", "bot token valid and chat reachable")
    else:
        yield Item(
            "telegram",
            "fail",
            "token or chat refused by the Bot API",
            "Check TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, and that the bot is a member of the chat.",
        )


def check_tls(_ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    if not pf.public_url:
        yield Item(
            "nginx/tls",
            "skip",
            "PUBLIC_URL not set",
            "Set PUBLIC_URL (https://your-host) to check nginx and TLS.",
        )
        return
    if not pf.public_url.startswith("https://"):
        yield Item("nginx/tls", "fail", "PUBLIC_URL is not https", "Serve the API over TLS (deploy/nginx).")
        return
    try:
        response = _get(f"{pf.public_url.rstrip('/')}/health", pf)
    except httpx.HTTPError as exc:
        yield Item(
            "nginx/tls",
            "fail",
            f"{type(exc).__name__}: {exc}"[:200],
            "Check nginx and the certificate (certbot renew --dry-run).",
        )
        return
    hsts = "strict-transport-security" in response.headers
    ok = response.status_code in (200, 503) and hsts
    yield Item(
        "nginx/tls",
        "pass" if ok else "fail",
        f"valid certificate, HSTS {'on' if hsts else 'missing'}, /health {response.status_code}",
        "" if ok else "Use deploy/nginx/email-engine.conf.in (it sets HSTS and proxies /health).",
    )


def check_logrotate(_ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    path = pf.logrotate_file
    text = path.read_text() if path.is_file() else ""
    ok = "rotate" in text and "compress" in text
    yield Item(
        "log rotation",
        "pass" if ok else "fail",
        f"{path} {'present' if ok else 'missing or incomplete'}",
        "" if ok else "Install deploy/logrotate.in (deploy/install.sh does).",
    )


def check_backups(_ctx: AppContext, pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    root = pf.backup_root
    dated = (
        [p for p in root.iterdir() if p.is_dir() and re.fullmatch(r"\d{8}-\d{6}", p.name)]
        if root.is_dir()
        else []
    )
    newest = max((p.stat().st_mtime for p in dated), default=None)
    fresh = newest is not None and now.timestamp() - newest < pf.backup_max_age_hours * 3600
    yield Item(
        "backups",
        "pass" if fresh else "fail",
        f"newest backup in {root} is {'fresh' if fresh else 'missing or too old'}",
        "" if fresh else "Run scripts/backup-all.sh and check its cron line.",
    )
    cron = pf.cron_file.read_text() if pf.cron_file.is_file() else ""
    scheduled = "backup-all.sh" in cron
    yield Item(
        "backup cron",
        "pass" if scheduled else "fail",
        f"{pf.cron_file} {'schedules' if scheduled else 'does not schedule'} backup-all.sh",
        "" if scheduled else "Add: 30 2 * * * root /opt/email-engine/app/scripts/backup-all.sh",
    )


def check_warmup(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    from email_engine.ips.models import SendingIp
    from email_engine.warmup.models import WarmupPlan

    with ctx.session_factory() as session:
        warming = set(session.scalars(select(SendingIp.address).where(SendingIp.state == "warming")))
        planned = set(
            session.scalars(
                select(SendingIp.address)
                .join(WarmupPlan, WarmupPlan.ip_id == SendingIp.id)
                .where(WarmupPlan.status.in_(("running", "paused", "created")))
            )
        )
        plans = len(session.scalars(select(WarmupPlan.id)).all())
    without = sorted(warming - planned)
    if without:
        yield Item(
            "warmup plans",
            "fail",
            f"warming without a plan: {', '.join(without)}",
            'Create one: POST /api/v1/warmup/plans {"ip_id", "preset": "cold"}.',
        )
    elif plans == 0:
        yield Item(
            "warmup plans",
            "fail",
            "no warmup plan exists",
            "New IPs must warm up: `email-engine warmup create`.",
        )
    else:
        yield Item("warmup plans", "pass", f"{plans} plans; every warming IP has one")


def check_rate_limits(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    if not ctx.settings.rate_limit_enabled:
        yield Item("rate limiting", "fail", "RATE_LIMIT_ENABLED is false", "Set RATE_LIMIT_ENABLED=true.")
    elif ctx.settings.redis_url is None:
        yield Item(
            "rate limiting", "pass", "active, per process (set REDIS_URL when running several workers)"
        )
    else:
        yield Item("rate limiting", "pass", "active, shared through Redis")


CHECKS: tuple[Check, ...] = (
    check_secrets_strength,
    check_migrations,
    check_components,
    check_inventory,
    check_dns_auth,
    check_blacklists,
    check_powermta_config,
    check_mailwizz_servers,
    check_scraper_pro,
    check_monitoring,
    check_telegram,
    check_tls,
    check_logrotate,
    check_backups,
    check_warmup,
    check_rate_limits,
)


def run_preflight(ctx: AppContext, pf: PreflightSettings, now: datetime) -> list[Item]:
    items: list[Item] = []
    for check in CHECKS:
        try:
            items.extend(check(ctx, pf, now))
        except Exception as exc:  # a broken check is a failed check, never a crash of the whole list
            name = check.__name__.removeprefix("check_").replace("_", " ")
            items.append(
                Item(
                    name,
                    "fail",
                    f"the check itself failed: {type(exc).__name__}: {exc}"[:300],
                    "Fix the error above and run preflight again.",
                )
            )
    return items
