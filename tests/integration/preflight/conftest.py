"""A whole deployment made of local test peers, for ``email-engine preflight``.

:func:`deployment` starts every peer the checklist talks to and returns the environment that points
the engine at them: a DNS server with the sending domain's SPF/DKIM/DMARC/PTR/MX records, the
scraper-pro receiver (verifies the HMAC signature), a Telegram-compatible Bot API, Prometheus and
Alertmanager answers, a PowerMTA status page, the MailWizz API and its MariaDB table, an HTTPS
server with a self-signed certificate sending HSTS, and temp paths for PowerMTA's configuration,
logrotate, backups and cron. Nothing is mocked: the checks make their real calls.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from email_engine.context import AppContext
from tests.support.cli_runner import REPO
from tests.support.databases import MARIADB
from tests.support.dns_server import DnsServer
from tests.support.http_peers import HttpPeer, RecordedRequest
from tests.support.mailwizz_db import MailwizzTestDb, throwaway_mailwizz_db
from tests.support.scraper_pro_receiver import ScraperProReceiver
from tests.support.tls_peer import TlsPeer

DOMAIN = "example.com"
BOUNCE_DOMAIN = "bounce.example.com"
IPS = {"192.0.2.10": "mta1.example.com", "192.0.2.11": "mta2.example.com"}
SOA = "{apex}. 300 IN SOA ns.{apex}. hostmaster.{apex}. 1 3600 600 86400 60"


def _txt(name: str, text: str) -> str:
    chunks = " ".join(f'"{text[i : i + 200]}"' for i in range(0, len(text), 200))
    return f"{name}. 300 IN TXT {chunks}"


def sending_zone() -> str:
    """Records a careful operator publishes for example.com sending from two TEST-NET IPs."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    lines = [SOA.format(apex=DOMAIN), SOA.format(apex="2.0.192.in-addr.arpa")]
    lines += [
        _txt(BOUNCE_DOMAIN, "v=spf1 " + " ".join(f"ip4:{ip}" for ip in IPS) + " -all"),
        f"{BOUNCE_DOMAIN}. 300 IN MX 10 mx.{DOMAIN}.",
        f"mx.{DOMAIN}. 300 IN A 192.0.2.53",
        _txt(f"s1._domainkey.{DOMAIN}", f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"),
        _txt(f"_dmarc.{DOMAIN}", f"v=DMARC1; p=none; rua=mailto:dmarc@{DOMAIN}"),
    ]
    for address, host in IPS.items():
        lines += [
            f"{address.rsplit('.', 1)[1]}.2.0.192.in-addr.arpa. 300 IN PTR {host}.",
            f"{host}. 300 IN A {address}",
        ]
    return "\n".join(lines)


def bot_api(token: str, chat_id: str) -> Any:
    """Telegram's Bot API as far as preflight uses it: getMe and getChat, token in the path."""

    def handle(request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if not request.path.startswith(f"/bot{token}/"):
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}, {}
        method = request.path.rsplit("/", 1)[1]
        if method == "getMe":
            return 200, {"ok": True, "result": {"id": 1, "is_bot": True, "username": "ee_test_bot"}}, {}
        if method == "getChat" and request.query.get("chat_id") == [chat_id]:
            return 200, {"ok": True, "result": {"id": int(chat_id), "type": "group"}}, {}
        return 400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}, {}

    return handle


def monitoring_api(rules: list[str]) -> Any:
    """Prometheus' /api/v1/rules (rule names as loaded) and Alertmanager's /-/healthy."""

    def handle(request: RecordedRequest) -> tuple[int, Any, dict[str, str]]:
        if request.path == "/api/v1/rules":
            group = {
                "name": "email-engine",
                "file": "/etc/prometheus/alert-rules.yml",
                "rules": [{"name": name, "type": "alerting", "health": "ok"} for name in rules],
            }
            return 200, {"status": "success", "data": {"groups": [group]}}, {}
        if request.path == "/-/healthy":
            return 200, "OK", {}
        return 404, "not found", {}

    return handle


@dataclass
class Deployment:
    env: dict[str, str]
    root: Path
    dns: DnsServer
    mailwizz: MailwizzTestDb
    server_ids: list[int]
    scraper_pro: ScraperProReceiver
    tls: TlsPeer
    peers: dict[str, HttpPeer] = field(default_factory=dict)


@pytest.fixture
def deployment(ctx: AppContext, tmp_path: Path, redis_url: str | None) -> Iterator[Deployment]:
    """Every peer up, and the environment that points the engine at them (see the module docstring).

    Depends on ``ctx`` so the test database is emptied afterwards.
    """
    with ExitStack() as stack:
        dns = stack.enter_context(DnsServer(sending_zone()))
        mailwizz = stack.enter_context(throwaway_mailwizz_db())
        server_ids = [mailwizz.add_server(status="active", name=f"pmta-{ip}") for ip in IPS]
        hmac_secret = secrets.token_urlsafe(32)
        receiver = stack.enter_context(ScraperProReceiver(hmac_secret))
        token, chat_id = f"123456:{secrets.token_urlsafe(24)}", "-100123"
        telegram = stack.enter_context(HttpPeer())
        telegram.handler = bot_api(token, chat_id)
        monitoring = stack.enter_context(HttpPeer())
        monitoring.handler = monitoring_api(["EmailEngineDown", "PowerMTADown", "SendingIPListedMajor"])
        pmta_status = stack.enter_context(HttpPeer())
        pmta_status.reply(200, {"status": {"version": "5.0r8", "queue": {"smtp": {"rcp": 0}}}})
        mailwizz_api = stack.enter_context(HttpPeer())
        # GET lists with a key MailWizz accepts (the mailwizz_api_credentials check)
        mailwizz_api.reply(200, {"status": "success", "data": {"count": "1", "records": []}})
        tls = stack.enter_context(TlsPeer(tmp_path))

        pmta_dir = tmp_path / "pmta"
        pmta_dir.mkdir()
        env = {
            "ENVIRONMENT": "test",
            "API_KEY": secrets.token_urlsafe(32),
            "JWT_SECRET_KEY": secrets.token_urlsafe(48),
            "RATE_LIMIT_ENABLED": "true",
            "REDIS_URL": redis_url or "",
            "DNS_NAMESERVERS": dns.nameserver,
            "DATA_DIR": str(tmp_path),
            "MAILWIZZ_DB_HOST": str(MARIADB["host"]),
            "MAILWIZZ_DB_PORT": str(MARIADB["port"]),
            "MAILWIZZ_DB_USER": str(MARIADB["user"]),
            "MAILWIZZ_DB_PASSWORD": str(MARIADB["password"]),
            "MAILWIZZ_DB_NAME": mailwizz.name,
            "MAILWIZZ_DB_TABLE_PREFIX": mailwizz.prefix,
            "MAILWIZZ_API_URL": f"{mailwizz_api.url}/api",
            "MAILWIZZ_API_KEY": secrets.token_urlsafe(20),
            "MAILWIZZ_SYNC_SUPPRESSIONS": "true",
            "SCRAPER_PRO_BOUNCE_URL": receiver.bounce_url,
            "SCRAPER_PRO_DELIVERY_URL": receiver.delivery_url,
            "SCRAPER_PRO_HMAC_SECRET": hmac_secret,
            "TELEGRAM_BOT_TOKEN": token,
            "TELEGRAM_CHAT_ID": chat_id,
            "TELEGRAM_API_URL": telegram.url,
            "PROMETHEUS_URL": monitoring.url,
            "ALERTMANAGER_URL": monitoring.url,
            "PMTA_STATUS_URL": f"{pmta_status.url}/status?format=json",
            "PUBLIC_URL": tls.url,
            "PREFLIGHT_CA_BUNDLE": str(tls.ca_file),
            "PREFLIGHT_TIMEOUT": "5",
            "PMTA_CONFIG_DIR": str(pmta_dir),
            "PMTA_RELOAD_COMMAND": "/bin/true",
            "PMTA_POSTMASTER": f"postmaster@{DOMAIN}",
            "PMTA_SMTP_PASSWORD": secrets.token_urlsafe(24),
            "PMTA_HOST_NAME": IPS["192.0.2.10"],
            "MAILWIZZ_IPS": "127.0.0.1",
            "PMTA_SPOOL_DIR": str(tmp_path / "spool"),
            "PMTA_LOG_FILE": str(tmp_path / "pmta.log"),
            "PMTA_BOUNCE_PIPE": str(REPO / "scripts" / "bounce-pipe.sh"),
            "PMTA_DELIVERY_PIPE": str(REPO / "scripts" / "delivery-pipe.sh"),
            "DKIM_KEY_DIR": str(tmp_path / "dkim"),
            "LOGROTATE_FILE": str(tmp_path / "logrotate-email-engine"),
            "BACKUP_ROOT": str(tmp_path / "backups"),
            "BACKUP_CRON_FILE": str(tmp_path / "cron-email-engine"),
        }
        yield Deployment(
            env=env,
            root=tmp_path,
            dns=dns,
            mailwizz=mailwizz,
            server_ids=server_ids,
            scraper_pro=receiver,
            tls=tls,
            peers={
                "telegram": telegram,
                "monitoring": monitoring,
                "pmta_status": pmta_status,
                "mailwizz_api": mailwizz_api,
            },
        )
