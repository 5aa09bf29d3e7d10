"""Single checklist items against real stored results, real files and real local peers."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from email_engine.config import SECRET_FIX, generate_secret
from email_engine.context import AppContext, build_context
from email_engine.dmarc.settings import DmarcSettings
from email_engine.integrations.alerts import preflight as alerts_preflight
from email_engine.integrations.mailwizz.settings import MailwizzSettings
from email_engine.integrations.powermta import preflight as powermta_preflight
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.integrations.scraper_pro import preflight as scraper_pro_preflight
from email_engine.ips import preflight as ips_preflight
from email_engine.ips.models import SendingDomain
from email_engine.platform.preflight import Item, PreflightSettings
from email_engine.preflight import configuration, host, runner
from email_engine.reputation import auth_service
from email_engine.reputation import preflight as reputation_preflight
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.service import record_dnsbl_results
from email_engine.reputation.settings import ReputationSettings
from email_engine.warmup import preflight as warmup_preflight
from tests.conftest import make_settings
from tests.integration.preflight.conftest import DOMAIN, sending_zone
from tests.support.dns_server import DnsServer
from tests.support.factories import make_ip
from tests.support.http_peers import HttpPeer
from tests.support.scraper_pro_receiver import ScraperProReceiver
from tests.support.tls_peer import TlsPeer

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def make_ctx(
    database_url: str, redis_url: str | None, ctx: AppContext
) -> Iterator[Callable[..., AppContext]]:
    """Contexts with their own settings; ``ctx`` empties the tables afterwards."""
    made: list[AppContext] = []

    def _make(**overrides: Any) -> AppContext:
        context = build_context(make_settings(database_url, redis_url, **overrides))
        made.append(context)
        return context

    yield _make
    for context in made:
        context.close()


def _pf(**values: Any) -> PreflightSettings:
    return PreflightSettings(_env_file=None, **values)  # type: ignore[call-arg]


def _one(items: Any, name: str | None = None) -> Item:
    found = [item for item in items if name is None or item.name == name]
    assert len(found) == 1, found
    return found[0]


# --- blacklists -----------------------------------------------------------------------------------
def test_a_listed_ip_fails_with_the_fix(ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        make_ip(session, "192.0.2.10", state="active", now=NOW)
        make_ip(session, "192.0.2.11", state="active", now=NOW)
        record_dnsbl_results(
            session,
            target="192.0.2.10",
            results=[
                ZoneResult("zen.spamhaus.org", "listed", ("127.0.0.2",), "SBL"),
                ZoneResult("bl.spamcop.net", "clean"),
            ],
            now=NOW,
        )
        record_dnsbl_results(
            session, target="192.0.2.11", results=[ZoneResult("bl.spamcop.net", "clean")], now=NOW
        )
        session.commit()
    item = _one(reputation_preflight.check_blacklists(ctx, _pf(), NOW))
    assert item.status == "fail"
    assert item.detail == "192.0.2.10 on zen.spamhaus.org"
    assert "delisting" in item.fix and "quarantined" in item.fix


def test_blacklists_stale_or_unanswered_checks_are_not_clean(ctx: AppContext) -> None:
    with ctx.session_factory() as session:
        make_ip(session, "192.0.2.10", state="active", now=NOW)
        record_dnsbl_results(
            session,
            target="192.0.2.10",
            results=[ZoneResult("zen.spamhaus.org", "clean")],
            now=NOW - timedelta(days=2),
        )
        session.commit()
    stale = _one(reputation_preflight.check_blacklists(ctx, _pf(), NOW))
    assert stale.status == "fail" and "192.0.2.10" in stale.detail and "jobs run blacklists" in stale.fix

    with ctx.session_factory() as session:  # a timeout everywhere proves nothing
        record_dnsbl_results(
            session,
            target="192.0.2.10",
            results=[ZoneResult("zen.spamhaus.org", "unknown"), ZoneResult("bl.spamcop.net", "error")],
            now=NOW,
        )
        session.commit()
    blind = _one(reputation_preflight.check_blacklists(ctx, _pf(), NOW))
    assert blind.status == "fail" and "no DNSBL zone gave a usable answer" in blind.detail

    with ctx.session_factory() as session:
        record_dnsbl_results(
            session,
            target="192.0.2.10",
            results=[ZoneResult("zen.spamhaus.org", "clean"), ZoneResult("bl.spamcop.net", "unknown")],
            now=NOW,
        )
        session.commit()
    clean = _one(reputation_preflight.check_blacklists(ctx, _pf(), NOW))
    assert (
        clean.status == "pass"
        and "0 of 1 IPs listed" in clean.detail
        and "1 zone answers missing" in clean.detail
    )


# --- DNS authentication (reputation's stored validation) -----------------------------------------
def test_dns_records_from_the_stored_validation(make_ctx: Callable[..., AppContext]) -> None:
    zone = sending_zone()
    broken = "\n".join(line for line in zone.splitlines() if "_dmarc" not in line)  # DMARC missing
    with DnsServer(zone) as good_dns, DnsServer(broken) as bad_dns:
        rep = ReputationSettings(_env_file=None, DNSBL_TIMEOUT=1)  # type: ignore[call-arg]
        good = make_ctx(DNS_NAMESERVERS=good_dns.nameserver)
        good.settings.install(rep)
        with good.session_factory() as session:
            make_ip(session, "192.0.2.10", hostname="mta1.example.com", state="active", now=NOW)
            make_ip(session, "192.0.2.11", hostname="mta2.example.com", state="active", now=NOW)
            domain = SendingDomain(
                name=DOMAIN,
                dkim_selector="s1",
                bounce_domain="bounce.example.com",
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(domain)
            session.commit()
            domain_id = domain.id

        never = _one(reputation_preflight.check_dns_auth(good, _pf(), NOW))
        assert never.name == f"dns {DOMAIN}" and never.status == "fail"
        assert f"/api/v1/domains/{domain_id}/validate" in never.fix

        bad = make_ctx(DNS_NAMESERVERS=bad_dns.nameserver)
        bad.settings.install(rep)
        with bad.session_factory() as session:
            auth_service.validate_domain_by_id(session, bad.settings, rep, domain_id=domain_id, now=NOW)
            session.commit()
        failing = _one(reputation_preflight.check_dns_auth(good, _pf(), NOW))
        assert failing.status == "fail" and "dmarc" in failing.detail
        assert f"email-engine dns records {DOMAIN}" in failing.fix

        with good.session_factory() as session:
            report = auth_service.validate_domain_by_id(
                session, good.settings, rep, domain_id=domain_id, now=NOW
            )
            session.commit()
        assert report["status"] in ("pass", "warn"), report
        passing = _one(reputation_preflight.check_dns_auth(good, _pf(), NOW + timedelta(hours=1)))
        assert passing.status == "pass", passing

        stale = _one(reputation_preflight.check_dns_auth(good, _pf(), NOW + timedelta(days=3)))
        assert stale.status == "fail" and "last validated 72 h ago" in stale.detail


# --- PowerMTA configuration ----------------------------------------------------------------------
def _pmta(ctx: AppContext, config_dir: Path, bounce: Path, delivery: Path) -> None:
    ctx.settings.install(
        PowerMtaSettings(  # type: ignore[call-arg]
            _env_file=None,
            PMTA_CONFIG_DIR=str(config_dir),
            PMTA_BOUNCE_PIPE=str(bounce),
            PMTA_DELIVERY_PIPE=str(delivery),
        ),
    )


def test_a_missing_pipe_in_the_deployed_config_fails_with_its_name(ctx: AppContext, tmp_path: Path) -> None:
    bounce, delivery = tmp_path / "bounce-pipe.sh", tmp_path / "delivery-pipe.sh"
    for script in (bounce, delivery):
        script.write_text("#!/bin/sh\ncat >/dev/null\n")
        script.chmod(0o755)
    (tmp_path / "pmta").mkdir()
    config = tmp_path / "pmta" / "config"
    config.write_text(
        f"<acct-file |{bounce}>\n    records b,rb,f\n</acct-file>\n"
        "<bounce-category-patterns>\n    /user unknown/ bad-mailbox\n</bounce-category-patterns>\n"
    )
    _pmta(ctx, tmp_path / "pmta", bounce, delivery)
    items = {item.name: item for item in powermta_preflight.check_powermta_config(ctx, _pf(), NOW)}
    pipes = items["powermta pipes"]
    assert pipes.status == "fail"
    assert pipes.detail == f"delivery pipe ({delivery}) is not an <acct-file |…> in the config"
    assert "pmta deploy" in pipes.fix
    assert items["powermta bounce patterns"].status == "pass"

    config.write_text(config.read_text() + f"<acct-file |{delivery}>\n    records d\n</acct-file>\n")
    delivery.chmod(0o644)  # wired, but PowerMTA could not run it
    pipes = _one(powermta_preflight.check_powermta_config(ctx, _pf(), NOW), "powermta pipes")
    assert pipes.status == "fail" and str(delivery) in pipes.detail and "chmod +x" in pipes.fix

    delivery.chmod(0o755)
    pipes = _one(powermta_preflight.check_powermta_config(ctx, _pf(), NOW), "powermta pipes")
    assert (
        pipes.status == "pass" and pipes.detail == "bounce (b,f,rb) and delivery (d) accounting pipes wired"
    )


def test_no_deployed_config_fails(ctx: AppContext, tmp_path: Path) -> None:
    _pmta(ctx, tmp_path / "nowhere", tmp_path / "b", tmp_path / "d")
    item = _one(powermta_preflight.check_powermta_config(ctx, _pf(), NOW))
    assert item.name == "powermta config" and item.status == "fail" and "pmta deploy" in item.fix


# --- scraper-pro ---------------------------------------------------------------------------------
def test_scraper_pro_refusing_the_signature_fails(make_ctx: Callable[..., AppContext]) -> None:
    with ScraperProReceiver(secrets.token_urlsafe(32)) as receiver:
        wrong = make_ctx(
            SCRAPER_PRO_BOUNCE_URL=receiver.bounce_url, SCRAPER_PRO_HMAC_SECRET=secrets.token_urlsafe(32)
        )
        item = _one(scraper_pro_preflight.check_scraper_pro(wrong, _pf(timeout=5), NOW))
        assert item.status == "fail" and "HTTP 401" in item.detail
        assert "SCRAPER_PRO_HMAC_SECRET" in item.fix
        assert receiver.bad_signatures == 1 and receiver.batches == 0

        right = make_ctx(SCRAPER_PRO_BOUNCE_URL=receiver.bounce_url, SCRAPER_PRO_HMAC_SECRET=receiver.secret)
        assert _one(scraper_pro_preflight.check_scraper_pro(right, _pf(timeout=5), NOW)).status == "pass"
        assert receiver.batches == 1
        receiver.down()
        item = _one(scraper_pro_preflight.check_scraper_pro(right, _pf(timeout=5), NOW))
        assert item.status == "fail" and "unreachable" in item.detail


def test_scraper_pro_without_secret_fails_and_without_url_skips(make_ctx: Callable[..., AppContext]) -> None:
    no_secret = make_ctx(SCRAPER_PRO_BOUNCE_URL="http://127.0.0.1:9/api/bounces")
    assert _one(scraper_pro_preflight.check_scraper_pro(no_secret, _pf(), NOW)).status == "fail"
    assert _one(scraper_pro_preflight.check_scraper_pro(make_ctx(), _pf(), NOW)).status == "skip"


# --- backups -------------------------------------------------------------------------------------
def _backup(root: Path, when: datetime, *, complete: bool = True) -> Path:
    folder = root / when.strftime("%Y%m%d-%H%M%S")
    folder.mkdir(parents=True)
    if complete:
        (folder / "SHA256SUMS").write_text("0" * 64 + "  env\n")
    return folder


def test_a_stale_backup_fails(ctx: AppContext, tmp_path: Path) -> None:
    root = tmp_path / "backups"
    _backup(root, NOW - timedelta(days=3))
    cron = tmp_path / "cron"
    cron.write_text("30 2 * * * root /opt/email-engine/app/scripts/backup-all.sh\n")
    pf = _pf(BACKUP_ROOT=str(root), BACKUP_CRON_FILE=str(cron))
    items = {item.name: item for item in host.check_backups(ctx, pf, NOW)}
    assert items["backups"].status == "fail" and "72 h old" in items["backups"].detail
    assert "backup-all.sh" in items["backups"].fix
    assert items["backup cron"].status == "pass"

    fresh = _backup(root, NOW - timedelta(hours=2), complete=False)
    item = _one(host.check_backups(ctx, pf, NOW), "backups")
    assert item.status == "fail" and "no SHA256SUMS" in item.detail

    (fresh / "SHA256SUMS").write_text("0" * 64 + "  env\n")
    assert _one(host.check_backups(ctx, pf, NOW), "backups").status == "pass"


def test_a_commented_out_cron_line_does_not_schedule(ctx: AppContext, tmp_path: Path) -> None:
    cron = tmp_path / "cron"
    cron.write_text("# 30 2 * * * root /opt/email-engine/app/scripts/backup-all.sh\n")
    pf = _pf(BACKUP_ROOT=str(tmp_path / "none"), BACKUP_CRON_FILE=str(cron))
    items = {item.name: item for item in host.check_backups(ctx, pf, NOW)}
    assert items["backup cron"].status == "fail" and str(cron) in items["backup cron"].fix
    assert items["backups"].status == "fail" and "no dated backup folder" in items["backups"].detail


# --- TLS, Telegram, monitoring -------------------------------------------------------------------
def test_tls_untrusted_certificate_or_plain_http_fails(ctx: AppContext, tmp_path: Path) -> None:
    with TlsPeer(tmp_path) as peer:
        untrusted = _one(host.check_tls(ctx, _pf(PUBLIC_URL=peer.url, PREFLIGHT_TIMEOUT=5), NOW))
        assert untrusted.status == "fail" and "certificate" in untrusted.detail.lower()
        trusted = _one(
            host.check_tls(ctx, _pf(PUBLIC_URL=peer.url, PREFLIGHT_CA_BUNDLE=str(peer.ca_file)), NOW)
        )
        assert trusted.status == "pass", trusted
    plain = _one(host.check_tls(ctx, _pf(PUBLIC_URL="http://127.0.0.1:8000"), NOW))
    assert plain.status == "fail" and "not https" in plain.detail


def test_telegram_refusing_the_chat_fails(make_ctx: Callable[..., AppContext]) -> None:
    from tests.integration.preflight.conftest import bot_api

    with HttpPeer() as api:
        api.handler = bot_api("123:token", "-100123")
        wrong_chat = make_ctx(
            TELEGRAM_BOT_TOKEN="123:token", TELEGRAM_CHAT_ID="-999", TELEGRAM_API_URL=api.url
        )
        item = _one(alerts_preflight.check_telegram(wrong_chat, _pf(), NOW))
        assert item.status == "fail" and "TELEGRAM_CHAT_ID" in item.fix
        right = make_ctx(TELEGRAM_BOT_TOKEN="123:token", TELEGRAM_CHAT_ID="-100123", TELEGRAM_API_URL=api.url)
        assert _one(alerts_preflight.check_telegram(right, _pf(), NOW)).status == "pass"


def test_prometheus_without_the_engine_down_rule_fails(ctx: AppContext) -> None:
    from tests.integration.preflight.conftest import monitoring_api

    with HttpPeer() as monitoring:
        monitoring.handler = monitoring_api(["PowerMTADown"])
        items = {
            item.name: item
            for item in host.check_monitoring(
                ctx, _pf(PROMETHEUS_URL=monitoring.url, ALERTMANAGER_URL=monitoring.url), NOW
            )
        }
        assert (
            items["prometheus rules"].status == "fail" and "alert-rules.yml" in items["prometheus rules"].fix
        )
        assert items["alertmanager"].status == "pass"
        monitoring.down()
        items = {
            item.name: item
            for item in host.check_monitoring(
                ctx, _pf(PROMETHEUS_URL=monitoring.url, ALERTMANAGER_URL=monitoring.url), NOW
            )
        }
        assert items["prometheus rules"].status == "fail" and items["alertmanager"].status == "fail"


# --- warmup, inventory ---------------------------------------------------------------------------
def test_a_warming_ip_without_a_plan_fails(ctx: AppContext) -> None:
    assert _one(warmup_preflight.check_warmup(ctx, _pf(), NOW)).status == "skip"
    with ctx.session_factory() as session:
        make_ip(session, "192.0.2.20", state="warming", now=NOW)
        session.commit()
    item = _one(warmup_preflight.check_warmup(ctx, _pf(), NOW))
    assert item.status == "fail" and "192.0.2.20" in item.detail and "warmup create" in item.fix


# --- hostile settings ----------------------------------------------------------------------------
def test_malformed_urls_fail_their_own_item_without_leaking_secrets(
    make_ctx: Callable[..., AppContext],
) -> None:
    token = "123456:" + secrets.token_urlsafe(24)
    context = make_ctx(
        SCRAPER_PRO_BOUNCE_URL="http://[::1",
        SCRAPER_PRO_HMAC_SECRET=secrets.token_urlsafe(32),
        TELEGRAM_BOT_TOKEN=token,
        TELEGRAM_CHAT_ID="-1",
        TELEGRAM_API_URL="http://exa mple.test:99999",
    )
    pf = _pf(
        PROMETHEUS_URL="ftp://127.0.0.1/",
        ALERTMANAGER_URL="http://\x00/",
        PUBLIC_URL="https://[bad",
        PREFLIGHT_TIMEOUT=2,
    )
    items = [
        *scraper_pro_preflight.check_scraper_pro(context, pf, NOW),
        *alerts_preflight.check_telegram(context, pf, NOW),
        *host.check_monitoring(context, pf, NOW),
        *host.check_tls(context, pf, NOW),
    ]
    assert {item.name: item.status for item in items} == {
        "scraper-pro signed call": "fail",
        "telegram": "fail",
        "prometheus rules": "fail",
        "alertmanager": "fail",
        "nginx/tls": "fail",
    }
    for item in items:
        assert token not in item.detail and item.fix


def test_a_missing_ca_bundle_fails_the_tls_item(ctx: AppContext, tmp_path: Path) -> None:
    with TlsPeer(tmp_path) as peer:
        item = _one(
            host.check_tls(ctx, _pf(PUBLIC_URL=peer.url, PREFLIGHT_CA_BUNDLE=str(tmp_path / "none.pem")), NOW)
        )
    assert item.name == "nginx/tls" and item.status == "fail"


def test_an_unreachable_mailwizz_database_fails_its_item(make_ctx: Callable[..., AppContext]) -> None:
    context = make_ctx()
    context.settings.install(
        MailwizzSettings(  # type: ignore[call-arg]
            _env_file=None,
            MAILWIZZ_DB_HOST="127.0.0.1",
            MAILWIZZ_DB_PORT=9,
            MAILWIZZ_DB_USER="x",
            MAILWIZZ_DB_NAME="mailwizz",
        )
    )
    with context.session_factory() as session:
        ip = make_ip(session, "192.0.2.30", state="active", now=NOW)
        ip.mailwizz_server_id = 7
        session.commit()
    item = _one(ips_preflight.check_mailwizz_servers(context, _pf(), NOW))
    assert item.name == "mailwizz delivery servers" and item.status == "fail" and "MAILWIZZ_DB_" in item.fix


def test_a_schema_with_unapplied_branches_names_them(tmp_path: Path, ctx: AppContext) -> None:
    from email_engine.migrate import upgrade_database

    url = f"sqlite:///{tmp_path / 'partial.db'}"
    upgrade_database(url, "ips@head")  # core and the inventory only
    partial = build_context(make_settings(url, None))
    try:
        item = _one(configuration.check_migrations(partial, _pf(), NOW))
    finally:
        partial.close()
    assert item.status == "fail" and "warmup_0002" in item.detail and "ips_0001" not in item.detail
    assert item.fix == "Run `email-engine db upgrade`."
    assert _one(configuration.check_migrations(ctx, _pf(), NOW)).status == "pass"


def test_mailwizz_delivery_servers_must_be_linked_and_active(make_ctx: Callable[..., AppContext]) -> None:
    from tests.support.databases import MARIADB
    from tests.support.mailwizz_db import throwaway_mailwizz_db

    with throwaway_mailwizz_db() as mailwizz:
        active = mailwizz.add_server(status="active")
        disabled = mailwizz.add_server(status="disabled")
        other_active = mailwizz.add_server(status="active")
        context = make_ctx()
        context.settings.install(
            MailwizzSettings(  # type: ignore[call-arg]
                _env_file=None,
                MAILWIZZ_DB_HOST=MARIADB["host"],
                MAILWIZZ_DB_PORT=MARIADB["port"],
                MAILWIZZ_DB_USER=MARIADB["user"],
                MAILWIZZ_DB_NAME=mailwizz.name,
                MAILWIZZ_DB_TABLE_PREFIX=mailwizz.prefix,
            )
        )
        assert (
            _one(ips_preflight.check_mailwizz_servers(context, _pf(), NOW)).status == "skip"
        )  # nothing sends yet
        with context.session_factory() as session:
            first = make_ip(session, "192.0.2.40", state="warming", now=NOW)
            second = make_ip(session, "192.0.2.41", state="active", now=NOW)
            session.commit()
            first.mailwizz_server_id = active
            session.commit()
            unlinked = _one(ips_preflight.check_mailwizz_servers(context, _pf(), NOW))
            assert (
                unlinked.status == "fail"
                and unlinked.detail == f"no MailWizz delivery-server id: 192.0.2.41 (id {second.id})"
            )
            second.mailwizz_server_id = disabled
            session.commit()
            item = _one(ips_preflight.check_mailwizz_servers(context, _pf(), NOW))
            assert (
                item.status == "fail"
                and item.detail == f"not active: 192.0.2.41 (server {disabled}: disabled)"
            )
            second.mailwizz_server_id = 999_999
            session.commit()
            assert (
                "server 999999: missing"
                in _one(ips_preflight.check_mailwizz_servers(context, _pf(), NOW)).detail
            )
            second.mailwizz_server_id = other_active
            session.commit()
        assert _one(ips_preflight.check_mailwizz_servers(context, _pf(), NOW)).status == "pass"


def test_a_peer_that_never_answers_fails_after_the_timeout(ctx: AppContext) -> None:
    import threading

    release = threading.Event()

    def hang(_request: Any) -> tuple[int, Any, dict[str, str]]:
        release.wait(10)  # holds the request until the check has given up
        return 200, "OK", {}

    with HttpPeer() as alertmanager:
        alertmanager.handler = hang
        try:
            item = _one(
                host.check_monitoring(
                    ctx, _pf(ALERTMANAGER_URL=alertmanager.url, PREFLIGHT_TIMEOUT=0.3), NOW
                ),
                "alertmanager",
            )
        finally:
            release.set()
    assert item.status == "fail" and item.detail == "not healthy: did not answer (ReadTimeout)"


def test_production_on_sqlite_is_no_go(make_ctx: Callable[..., AppContext], tmp_path: Path) -> None:
    """ENVIRONMENT=production with the embedded SQLite default fails its item; development on SQLite passes."""
    production = make_ctx(
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
        ENVIRONMENT="production",
        API_KEY=generate_secret(64),
        JWT_SECRET_KEY=generate_secret(128),
    )
    item = _one(configuration.check_database_backend(production, _pf(), NOW))
    assert item.status == "fail" and "SQLite" in item.detail and "postgresql://" in item.fix
    trial = make_ctx(DATABASE_URL=f"sqlite:///{tmp_path / 'trial.db'}", ENVIRONMENT="development")
    assert _one(configuration.check_database_backend(trial, _pf(), NOW)).status == "pass"


def test_production_on_postgresql_passes_the_database_item(ctx: AppContext) -> None:
    if ctx.settings.is_sqlite:
        pytest.skip("the PostgreSQL half runs in the PostgreSQL pass")
    production = ctx.settings.model_copy(update={"environment": "production"})
    context = build_context(production)
    try:
        assert _one(configuration.check_database_backend(context, _pf(), NOW)).status == "pass"
    finally:
        context.close()


def test_weak_secrets_fail_their_item_with_the_setting_and_the_fix(
    make_ctx: Callable[..., AppContext],
) -> None:
    """Development builds with a weak key; preflight says what production would refuse, and why."""
    weak = make_ctx(ENVIRONMENT="development", API_KEY="change-me-" + "x" * 40)
    item = _one(configuration.check_secrets_strength(weak, _pf(), NOW))
    assert item.status == "fail" and item.fix == SECRET_FIX
    assert item.detail == "production refuses: API_KEY looks like a placeholder, not a random secret"
    strong = make_ctx(API_KEY=generate_secret(), JWT_SECRET_KEY=generate_secret(128))
    assert _one(configuration.check_secrets_strength(strong, _pf(), NOW)).status == "pass"


def test_a_crashing_check_never_prints_a_secret_of_any_section(ctx: AppContext) -> None:
    password = "imap-" + secrets.token_hex(16)
    ctx.settings.install(DmarcSettings(_env_file=None, DMARC_IMAP_PASSWORD=password))  # type: ignore[call-arg]
    assert runner._redact(f"login failed for {password}", ctx) == "login failed for [redacted]"
