"""The checklist. Each check returns :class:`Item`s: pass, fail (with the fix in one sentence) or skip
(not configured — "not configured" is never reported as "down")."""

from __future__ import annotations

import asyncio
import os
import re
import ssl
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.config import check_secrets
from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, EmailEngineError, NotFound
from email_engine.migrate import alembic_config
from email_engine.preflight.report import Item
from email_engine.preflight.settings import PreflightSettings
from email_engine.reputation_signals.preflight import check_dmarc_alignment

if TYPE_CHECKING:
    from email_engine.integrations.powermta.settings import PowerMtaSettings
    from email_engine.reputation.auth_service import StoredDomainReport
    from email_engine.reputation.settings import ReputationSettings

__all__ = ["CHECKS", "run_preflight"]

Check = Callable[[AppContext, PreflightSettings, datetime], Iterable[Item]]


def check_secrets_strength(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    production = ctx.settings.model_copy(update={"environment": "production"})
    try:
        check_secrets(production)
    except ConfigurationError as exc:
        problem = exc.detail.split(" Run `email-engine secrets rotate`")[0]  # the fix has its own column
        yield Item(
            "secrets", "fail", problem, "Run `email-engine secrets rotate` and put the values in .env."
        )
        return
    yield Item("secrets", "pass", "API_KEY and JWT_SECRET_KEY are set and strong")


def check_database_backend(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """Production on SQLite is NO-GO: one writer at a time on one machine (the guide runs PostgreSQL)."""
    settings = ctx.settings
    if settings.environment == "production" and settings.is_sqlite:
        yield Item(
            "database",
            "fail",
            "ENVIRONMENT=production on SQLite (the embedded default: one writer at a time, one machine)",
            "Set DATABASE_URL=postgresql://… in .env (or run deploy/install.sh with DATABASE_URL=…), "
            "then `email-engine db upgrade`; keep SQLite for trials with ENVIRONMENT=development.",
        )
        return
    yield Item("database", "pass", f"{ctx.engine.dialect.name} ({settings.environment})")


def check_migrations(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    script = ScriptDirectory.from_config(alembic_config(ctx.settings.database_url))
    with ctx.engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    # alembic_version keeps only the tips: a branch another depends on (ips_0001) is applied when
    # it is an ancestor of a recorded tip, so compare against everything below the tips.
    applied = {revision.revision for revision in script.iterate_revisions(tuple(current), "base")}
    missing = set(script.get_heads()) - applied
    if missing:
        yield Item(
            "database schema",
            "fail",
            f"not applied: {', '.join(sorted(missing))}",
            "Run `email-engine db upgrade`.",
        )
    else:
        yield Item("database schema", "pass", f"up to date ({ctx.engine.dialect.name})")


def check_components(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """The health checks (database, Redis, PowerMTA, MailWizz, scraper-pro, outbox, disk, jobs)."""
    from email_engine.ops.service import run_checks

    report = asyncio.run(run_checks(ctx))
    checks: dict[str, dict[str, str]] = report["checks"]
    for name, check in sorted(checks.items()):
        label = f"health {name}"  # GET /health's names, kept apart from the checklist's own items
        status = check["status"]
        if status == "not_configured":
            yield Item(label, "skip", check["detail"], "Configure it in .env if this deployment uses it.")
        elif status == "fail":
            yield Item(
                label,
                "fail",
                check["detail"],
                f"Fix what the detail says; GET /health shows the {name} check, which must pass before sending.",
            )
        elif status == "warn":  # degraded, not down: listed so the operator sees it, but not a NO-GO
            yield Item(label, "pass", f"warning: {check['detail']}")
        else:
            yield Item(label, "pass", check["detail"])


def _inventory(session: Session) -> tuple[list[str], list[tuple[int, str]]]:
    """Sending IPs (not retired) and sending domains as (id, name)."""
    from email_engine.ips.models import SendingDomain, SendingIp

    ips = [
        address
        for (address,) in session.execute(
            select(SendingIp.address).where(SendingIp.state != "retired").order_by(SendingIp.id)
        )
    ]
    domains = [
        (domain_id, name)
        for domain_id, name in session.execute(
            select(SendingDomain.id, SendingDomain.name).order_by(SendingDomain.id)
        )
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
            "Add your sending domains: `email-engine domains add NAME --dkim-selector S` or POST /api/v1/domains.",
        )
    else:
        yield Item("inventory", "pass", f"{len(ips)} IPs, {len(domains)} domains")


def _reputation_settings(ctx: AppContext) -> ReputationSettings:
    from email_engine.ops.domain_settings import domain_settings
    from email_engine.reputation.settings import ReputationSettings

    return domain_settings(ctx, ReputationSettings)


def check_blacklists(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    """0 listed IPs, each proven by a recent check in which at least one zone answered "clean"."""
    from email_engine.reputation.dnsbl import RESOLVER_FIX
    from email_engine.reputation.service import last_checks, listed_ips, unusable_zones

    # The same lateness rule as the reputation health check: two missed runs of the blacklists job.
    max_age = timedelta(seconds=2 * _reputation_settings(ctx).dnsbl_interval)
    with ctx.session_factory() as session:
        ips, _domains = _inventory(session)
        listed = listed_ips(session)
        checks = {check.target: check for check in last_checks(session)}
    if not ips:
        yield Item("blacklists", "skip", "no sending IPs to check", "Add IPs first.")
        return
    on_lists = {ip: [listing.zone for listing in listed[ip]] for ip in ips if ip in listed}
    stale = [ip for ip in ips if ip not in checks or checks[ip].checked_at < now - max_age]
    # A timeout or an error answer is "unknown", never "clean": an IP no zone answered for is unproven.
    blind = [
        ip
        for ip in ips
        if ip in checks and not any(result.get("status") == "clean" for result in checks[ip].results)
    ]
    if on_lists:
        detail = "; ".join(f"{ip} on {', '.join(zones)}" for ip, zones in on_lists.items())
        yield Item(
            "blacklists",
            "fail",
            detail,
            "Find and fix the cause, request delisting from each zone, and keep the IP out of sending until "
            "a check is clean (`email-engine ips transition ID quarantined --reason …`).",
        )
    elif stale:
        yield Item(
            "blacklists",
            "fail",
            f"not checked in the last {max_age.total_seconds() / 3600:g} h: {', '.join(stale)}",
            "Run `email-engine jobs run blacklists`.",
        )
    elif blind:
        cannot_see = unusable_zones(checks[ip].results for ip in blind)
        why = f"; zones that failed their RFC 5782 test points: {', '.join(cannot_see)}" if cannot_see else ""
        yield Item(
            "blacklists",
            "fail",
            f"no DNSBL zone gave a usable answer for {', '.join(blind)}{why}",
            f"{RESOLVER_FIX[0].upper()}{RESOLVER_FIX[1:]} (not a public resolver), then run "
            "`email-engine jobs run blacklists`.",
        )
    else:
        unanswered = sum(
            1 for ip in ips for result in checks[ip].results if result.get("status") in ("error", "unknown")
        )
        note = f"; {unanswered} zone answers missing (see GET /health)" if unanswered else ""
        cannot_see = unusable_zones(checks[ip].results for ip in ips)
        if cannot_see:  # listed as a warning, not a NO-GO: other zones did see
            note += f"; warning: {', '.join(cannot_see)} failed their RFC 5782 test points ({RESOLVER_FIX})"
        yield Item("blacklists", "pass", f"0 of {len(ips)} IPs listed (checked within {max_age}){note}")


def check_dns_auth(ctx: AppContext, _pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    """SPF, DKIM, DMARC, PTR and bounce MX per domain, from the last stored dns-auth validation."""
    from email_engine.reputation import auth_service

    max_age = timedelta(seconds=2 * _reputation_settings(ctx).dns_auth_interval)
    with ctx.session_factory() as session:
        _ips, domains = _inventory(session)
        reports = [
            (domain_id, name, auth_service.latest_domain_report(session, name)) for domain_id, name in domains
        ]
    if not domains:
        yield Item("dns records", "skip", "no sending domains", "Add sending domains first.")
        return
    for domain_id, name, report in reports:
        yield dns_auth_item(domain_id, name, report, now=now, max_age=max_age)


def dns_auth_item(
    domain_id: int, name: str, report: StoredDomainReport | None, *, now: datetime, max_age: timedelta
) -> Item:
    """Pure: the checklist line for one domain from reputation's last stored validation."""
    from email_engine.reputation.auth_facts import CheckStatus
    from email_engine.reputation.compliance import ComplianceStatus

    revalidate = f"POST /api/v1/domains/{domain_id}/validate (or `email-engine jobs run dns-auth`)"
    if report is None:
        return Item(
            f"dns {name}", "fail", "SPF/DKIM/DMARC/PTR never validated", f"Validate it: {revalidate}."
        )
    age = now - report.checked_at
    if age > max_age:
        return Item(
            f"dns {name}",
            "fail",
            f"last validated {age.total_seconds() / 3600:.0f} h ago (older than {max_age})",
            f"Validate it again: {revalidate}.",
        )
    failing = [
        f"{check.name}: {check.message}" for check in report.checks if check.status == CheckStatus.FAIL
    ]
    # A record DNS did not answer for (timeout, server failure) is "unknown": neither pass nor fail.
    unread = [
        f"{check.name}: {check.message}" for check in report.checks if check.status == CheckStatus.UNKNOWN
    ]
    if failing or report.compliance == ComplianceStatus.NON_COMPLIANT:
        detail = "; ".join(failing) or "not compliant with the Gmail/Yahoo bulk-sender rules"
        return Item(
            f"dns {name}",
            "fail",
            detail[:500],
            f"Publish the records from `email-engine dns records {name}`, then {revalidate}.",
        )
    if unread or report.compliance == ComplianceStatus.UNKNOWN:
        detail = "; ".join(unread) or "some records could not be read"
        return Item(
            f"dns {name}",
            "fail",
            f"not verified: {detail}"[:500],
            f"Check that the domain's name servers answer, then {revalidate}.",
        )
    warnings = sum(1 for check in report.checks if check.status == CheckStatus.WARN)
    note = f" ({warnings} warnings: `email-engine auth-check {name}`)" if warnings else ""
    return Item(
        f"dns {name}",
        "pass",
        f"SPF, DKIM, DMARC and PTR pass, validated {age.total_seconds() / 3600:.1f} h ago{note}",
    )


def _powermta_settings(ctx: AppContext) -> PowerMtaSettings:
    from email_engine.integrations.powermta.settings import PowerMtaSettings
    from email_engine.ops.domain_settings import domain_settings

    return domain_settings(ctx, PowerMtaSettings)


_ACCT_BLOCK = re.compile(
    r"<acct-file\s+\|\s*\"?([^\s>\"]+)\"?\s*>(.*?)</acct-file>", re.DOTALL | re.IGNORECASE
)
_RECORDS = re.compile(r"^\s*records\s+(\S+)", re.MULTILINE | re.IGNORECASE)


def wired_pipes(config_text: str) -> dict[str, set[str]]:
    """Pure: the programs PowerMTA pipes accounting records into, with the record types each gets."""
    pipes: dict[str, set[str]] = {}
    live = "\n".join(line for line in config_text.splitlines() if not line.lstrip().startswith("#"))
    for program, body in _ACCT_BLOCK.findall(live):
        types = {t.strip().lower() for match in _RECORDS.findall(body) for t in match.split(",") if t.strip()}
        pipes.setdefault(program, set()).update(types)
    return pipes


def pipe_problems(config_text: str, *, bounce_pipe: str, delivery_pipe: str) -> list[str]:
    """Pure: the missing pipes, named: bounces (b) and deliveries (d) must reach the engine's scripts."""
    pipes = wired_pipes(config_text)
    problems = []
    for kind, program, record in (("bounce", bounce_pipe, "b"), ("delivery", delivery_pipe, "d")):
        if program not in pipes:
            problems.append(f"{kind} pipe ({program}) is not an <acct-file |…> in the config")
        elif record not in pipes[program]:
            problems.append(f"{kind} pipe ({program}) does not receive '{record}' records")
    return problems


def check_powermta_config(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    from email_engine.integrations.powermta.lint_disk import lint_path

    settings = _powermta_settings(ctx)
    path = Path(settings.config_dir) / "config"
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
    problems = pipe_problems(text, bounce_pipe=settings.bounce_pipe, delivery_pipe=settings.delivery_pipe)
    if problems:
        yield Item(
            "powermta pipes",
            "fail",
            "; ".join(problems),
            "Redeploy with `email-engine pmta deploy` (PMTA_BOUNCE_PIPE / PMTA_DELIVERY_PIPE); the pipes feed "
            "bounces and deliveries to the engine.",
        )
        return
    not_runnable = [
        program
        for program in (settings.bounce_pipe, settings.delivery_pipe)
        if not (Path(program).is_file() and os.access(program, os.X_OK))
    ]
    if not_runnable:
        yield Item(
            "powermta pipes",
            "fail",
            f"wired, but not an executable file: {', '.join(not_runnable)}",
            "Install the pipe scripts (deploy/install.sh copies scripts/*-pipe.sh) and chmod +x them.",
        )
    else:
        pipes = wired_pipes(text)
        yield Item(
            "powermta pipes",
            "pass",
            f"bounce ({','.join(sorted(pipes[settings.bounce_pipe]))}) and delivery "
            f"({','.join(sorted(pipes[settings.delivery_pipe]))}) accounting pipes wired",
        )


def check_mailwizz_servers(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    from email_engine.integrations.mailwizz.database import MailwizzDatabase
    from email_engine.integrations.mailwizz.settings import MailwizzSettings
    from email_engine.ips.models import SendingIp
    from email_engine.ops.domain_settings import domain_settings

    if not (ctx.settings.mailwizz_db_host and ctx.settings.mailwizz_db_name):
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
                .where(SendingIp.state.in_(("active", "warming")))
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
        database = MailwizzDatabase.from_settings(ctx.settings, domain_settings(ctx, MailwizzSettings))
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


def check_scraper_pro(ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    """A real signed call through the engine's own client: an empty bounce batch (nothing to store)."""
    from email_engine.feedback.ingest import BOUNCE_EVENT
    from email_engine.integrations.scraper_pro.client import post_events

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
    try:
        outcome = post_events(
            url=settings.scraper_pro_bounce_url,
            secret=settings.scraper_pro_hmac_secret.get_secret_value(),
            kind=BOUNCE_EVENT,
            events=[],
            timeout=pf.timeout,
        )
    except httpx.InvalidURL:
        yield Item(
            "scraper-pro signed call",
            "fail",
            "SCRAPER_PRO_BOUNCE_URL is not a valid URL",
            "Set SCRAPER_PRO_BOUNCE_URL to scraper-pro's bounce endpoint (https://…).",
        )
        return
    error = outcome.error or "refused"
    if outcome.ok:
        yield Item("scraper-pro signed call", "pass", "an empty signed bounce batch was accepted")
    elif outcome.unreachable:
        yield Item(
            "scraper-pro signed call",
            "fail",
            error,
            "Check SCRAPER_PRO_BOUNCE_URL and that scraper-pro is running.",
        )
    elif re.search(r"HTTP 40[13]\b", error):
        yield Item(
            "scraper-pro signed call",
            "fail",
            error,
            "Give scraper-pro the same SCRAPER_PRO_HMAC_SECRET; it must verify X-Timestamp/X-Signature.",
        )
    else:
        yield Item(
            "scraper-pro signed call",
            "fail",
            error,
            "Check that SCRAPER_PRO_BOUNCE_URL is scraper-pro's bounce endpoint (docs/feedback.md).",
        )


def _tls_context(pf: PreflightSettings) -> ssl.SSLContext:
    """System trust store, or the operator's CA bundle (a private CA, or a test certificate)."""
    return ssl.create_default_context(cafile=pf.ca_bundle) if pf.ca_bundle else ssl.create_default_context()


def _get(url: str, pf: PreflightSettings) -> httpx.Response:
    return httpx.get(url, timeout=pf.timeout, verify=_tls_context(pf), follow_redirects=False)


def check_monitoring(_ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    if not pf.prometheus_url:
        yield Item("prometheus rules", "skip", "PROMETHEUS_URL not set", "Set PROMETHEUS_URL (monitoring/).")
    else:
        try:
            groups = _get(f"{pf.prometheus_url.rstrip('/')}/api/v1/rules", pf).json()["data"]["groups"]
            rules = {
                rule["name"]: rule.get("health", "unknown") for group in groups for rule in group["rules"]
            }
        except (
            httpx.HTTPError,
            httpx.InvalidURL,
            OSError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ) as exc:
            yield Item(
                "prometheus rules",
                "fail",
                f"cannot read rules: {type(exc).__name__}",
                "Start the monitoring stack: `docker compose up -d` in monitoring/.",
            )
        else:
            broken = sorted(name for name, health in rules.items() if health == "err")
            if "EmailEngineDown" not in rules:
                yield Item(
                    "prometheus rules",
                    "fail",
                    f"{len(rules)} rules loaded, but not EmailEngineDown",
                    "Load monitoring/alert-rules.yml in Prometheus (rule_files) and reload it.",
                )
            elif broken:
                yield Item(
                    "prometheus rules",
                    "fail",
                    f"rules failing to evaluate: {', '.join(broken)}",
                    "Run `promtool check rules monitoring/alert-rules.yml` and fix the expressions.",
                )
            else:
                yield Item(
                    "prometheus rules", "pass", f"{len(rules)} rules loaded, EmailEngineDown among them"
                )
    if not pf.alertmanager_url:
        yield Item("alertmanager", "skip", "ALERTMANAGER_URL not set", "Set ALERTMANAGER_URL (monitoring/).")
        return
    try:
        answer = _get(f"{pf.alertmanager_url.rstrip('/')}/-/healthy", pf)
        problem = None if answer.is_success else f"answered HTTP {answer.status_code}"
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        problem = f"did not answer ({type(exc).__name__})"
    if problem is None:
        yield Item("alertmanager", "pass", "healthy")
    else:
        yield Item(
            "alertmanager",
            "fail",
            f"not healthy: {problem}",
            "Start Alertmanager (monitoring/docker-compose.yml) and check ALERTMANAGER_URL.",
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
    except (httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:  # no URL in the detail: it holds the token
        yield Item(
            "telegram",
            "fail",
            f"the Bot API did not answer ({type(exc).__name__})",
            "Check TELEGRAM_API_URL and network access to it.",
        )
        return
    if all(isinstance(answer, dict) and answer.get("ok") is True for answer in (me, chat_info)):
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
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
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


def logrotate_problems(text: str) -> list[str]:
    """Pure: what a logrotate file lacks (directives, not words: "delaycompress" is not "compress")."""
    directives: set[str] = set()
    rotate_count = 0
    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        directives.add(words[0])
        if words[0] == "rotate" and len(words) > 1 and words[1].isdigit():
            rotate_count = int(words[1])
    problems = []
    if not any(
        line.rstrip().endswith("{") for line in text.splitlines() if not line.lstrip().startswith("#")
    ):
        problems.append("no log file block")
    if rotate_count < 1:
        problems.append("no `rotate N`")
    if "compress" not in directives:
        problems.append("no `compress`")
    return problems


def check_logrotate(_ctx: AppContext, pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    path = pf.logrotate_file
    if not path.is_file():
        yield Item(
            "log rotation",
            "fail",
            f"{path} does not exist",
            "Install deploy/logrotate.in (deploy/install.sh does).",
        )
        return
    problems = logrotate_problems(path.read_text(errors="replace"))
    if problems:
        yield Item(
            "log rotation",
            "fail",
            f"{path}: {', '.join(problems)}",
            "Install deploy/logrotate.in (daily, rotate 30, compress) as deploy/install.sh does.",
        )
    else:
        yield Item("log rotation", "pass", f"{path} rotates and compresses the logs")


def newest_backup(names: Iterable[str]) -> tuple[str, datetime] | None:
    """Pure: the newest ``YYYYMMDD-HHMMSS`` folder name (UTC, as backup-all.sh names them)."""
    stamped: list[tuple[datetime, str]] = []
    for name in names:
        if re.fullmatch(r"\d{8}-\d{6}", name):
            try:
                stamped.append((datetime.strptime(name, "%Y%m%d-%H%M%S").replace(tzinfo=UTC), name))
            except ValueError:  # 20261399-…: not a date, not a backup
                continue
    if not stamped:
        return None
    when, name = max(stamped)
    return name, when


def check_backups(_ctx: AppContext, pf: PreflightSettings, now: datetime) -> Iterable[Item]:
    root = pf.backup_root
    names = [p.name for p in root.iterdir() if p.is_dir()] if root.is_dir() else []
    newest = newest_backup(names)
    max_age = timedelta(hours=pf.backup_max_age_hours)
    run_it = "Run scripts/backup-all.sh (BACKUP_ROOT) and check its cron line."
    if newest is None:
        yield Item("backups", "fail", f"no dated backup folder in {root}", run_it)
    else:
        name, when = newest
        age_hours = (now - when).total_seconds() / 3600
        if now - when > max_age:
            yield Item(
                "backups",
                "fail",
                f"newest backup {root / name} is {age_hours:.0f} h old (limit {pf.backup_max_age_hours:g} h)",
                run_it,
            )
        elif not (root / name / "SHA256SUMS").is_file():
            # backup-all.sh writes the checksums last: without them the backup did not finish.
            yield Item(
                "backups",
                "fail",
                f"newest backup {root / name} has no SHA256SUMS (incomplete)",
                "Look at /var/log/email-engine/backup.log and run scripts/backup-all.sh again.",
            )
        else:
            yield Item("backups", "pass", f"{root / name} ({age_hours:.1f} h old, checksums present)")
    cron = pf.cron_file.read_text(errors="replace") if pf.cron_file.is_file() else ""
    scheduled = any(
        "backup-all.sh" in line and not line.lstrip().startswith("#") for line in cron.splitlines()
    )
    yield Item(
        "backup cron",
        "pass" if scheduled else "fail",
        f"{pf.cron_file} {'schedules' if scheduled else 'does not schedule'} backup-all.sh",
        ""
        if scheduled
        else f"Add `30 2 * * * root /opt/email-engine/app/scripts/backup-all.sh` to {pf.cron_file}.",
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
        ips, _domains = _inventory(session)
    without = sorted(warming - planned)
    if not ips:
        yield Item(
            "warmup plans", "skip", "no sending IPs", "Add IPs first; new IPs start with a warmup plan."
        )
    elif without:
        yield Item(
            "warmup plans",
            "fail",
            f"warming without a plan: {', '.join(without)}",
            "Create one: `email-engine warmup create --ip-id ID --preset cold --start`.",
        )
    elif plans == 0:
        yield Item(
            "warmup plans",
            "fail",
            "no warmup plan exists",
            "New IPs must warm up: `email-engine warmup create --ip-id ID --preset cold --start`.",
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
    check_database_backend,
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
    check_dmarc_alignment,
)


# The item a check reports under when it crashes (its usual first item), so names stay stable.
FALLBACK_NAMES = {
    "check_secrets_strength": "secrets",
    "check_database_backend": "database",
    "check_migrations": "database schema",
    "check_components": "health",
    "check_inventory": "inventory",
    "check_dns_auth": "dns records",
    "check_blacklists": "blacklists",
    "check_powermta_config": "powermta config",
    "check_mailwizz_servers": "mailwizz delivery servers",
    "check_scraper_pro": "scraper-pro signed call",
    "check_monitoring": "prometheus rules",
    "check_telegram": "telegram",
    "check_tls": "nginx/tls",
    "check_logrotate": "log rotation",
    "check_backups": "backups",
    "check_warmup": "warmup plans",
    "check_rate_limits": "rate limiting",
    "check_dmarc_alignment": "dmarc alignment",
}


def _redact(text: str, ctx: AppContext) -> str:
    """An exception's text may quote a URL or a setting: never print a secret."""
    settings = ctx.settings
    for secret in (
        settings.telegram_bot_token,
        settings.scraper_pro_hmac_secret,
        settings.api_key,
        settings.jwt_secret_key,
        settings.mailwizz_db_password,
    ):
        value = secret.get_secret_value() if secret is not None else ""
        if value:
            text = text.replace(value, "[redacted]")
    return text


def run_preflight(ctx: AppContext, pf: PreflightSettings, now: datetime) -> list[Item]:
    items: list[Item] = []
    for check in CHECKS:
        try:
            items.extend(check(ctx, pf, now))
        except Exception as exc:  # a broken check is a failed check, never a crash of the whole list
            name = FALLBACK_NAMES.get(check.__name__, check.__name__.removeprefix("check_"))
            items.append(
                Item(
                    name,
                    "fail",
                    f"the check itself failed: {type(exc).__name__}: {_redact(str(exc), ctx)}"[:300],
                    "Fix the cause named in the detail and run preflight again.",
                )
            )
    return items
