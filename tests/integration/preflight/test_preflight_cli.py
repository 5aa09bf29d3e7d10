"""``email-engine preflight`` as an operator runs it: a real subprocess against the test database.

NO-GO on a bare development setup; GO once every dependency is a local test peer that answers as
the real one does, with the inventory, blacklist results, DNS-auth results and warmup plans created
through the engine's own API and services.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import build_context
from email_engine.integrations.powermta import deploy as pmta_deploy
from email_engine.integrations.powermta import service as pmta_service
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.main import create_app
from email_engine.platform.preflight import PreflightSettings
from email_engine.preflight.report import verdict
from email_engine.preflight.runner import run_preflight
from email_engine.reputation.dnsbl import ZoneResult
from email_engine.reputation.service import record_dnsbl_results
from tests.conftest import make_settings
from tests.integration.preflight.conftest import BOUNCE_DOMAIN, DOMAIN, IPS, Deployment
from tests.support.cli_runner import REPO, run_cli

# Starts the CLI as a subprocess; the test database is emptied after each test.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("ctx")]

CLEAN_ZONES = ("zen.spamhaus.org", "bl.spamcop.net", "b.barracudacentral.org")


def _bare_env(tmp_path: Path) -> dict[str, str]:
    """Nothing configured: the default paths of a deployment, here empty temp paths."""
    return {
        "PMTA_CONFIG_DIR": str(tmp_path / "etc-pmta"),
        "LOGROTATE_FILE": str(tmp_path / "logrotate.d" / "email-engine"),
        "BACKUP_ROOT": str(tmp_path / "backups"),
        "BACKUP_CRON_FILE": str(tmp_path / "cron.d" / "email-engine"),
    }


def test_bare_setup_prints_a_no_go_table_and_exits_non_zero(database_url: str, tmp_path: Path) -> None:
    result = run_cli("preflight", database_url=database_url, env=_bare_env(tmp_path))
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Email Engine preflight" in out
    for header in ("item", "status", "detail", "fix"):
        assert header in out
    assert "NO-GO" in out.splitlines()[-1]
    for line in ("inventory", "powermta config", "log rotation", "backups", "backup cron"):
        row = next(row for row in out.splitlines() if f" {line} " in row)
        assert "fail" in row, row
    assert "Add your IPs" in out


def test_bare_setup_json_lists_every_failure_with_its_fix(database_url: str, tmp_path: Path) -> None:
    result = run_cli("preflight", "--json", database_url=database_url, env=_bare_env(tmp_path))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert set(report) == {"go", "counts", "items"}
    assert report["go"] is False
    items = {item["name"]: item for item in report["items"]}
    failing = [item for item in report["items"] if item["status"] == "fail"]
    assert report["counts"] == {
        status: sum(1 for item in report["items"] if item["status"] == status)
        for status in ("pass", "fail", "skip")
    }
    assert {"inventory", "powermta config", "backups", "backup cron", "log rotation"} <= {
        item["name"] for item in failing
    }
    for item in failing:  # one actionable sentence each
        assert item["fix"].endswith("."), item
        assert len(item["fix"]) > 15, item
    # Not configured is "skip", never "down".
    assert items["telegram"]["status"] == "skip"
    assert items["scraper-pro signed call"]["status"] == "skip"
    assert items["nginx/tls"]["status"] == "skip"


def _set_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)


def _build_inventory(database_url: str, redis_url: str | None, deployment: Deployment) -> None:
    """IPs, the domain and warmup plans through the API; blacklist and DNS-auth results stored."""
    settings = make_settings(database_url, redis_url)
    app_ctx = build_context(settings)
    assert settings.api_key is not None
    headers = {"X-API-Key": settings.api_key.get_secret_value()}
    try:
        with TestClient(create_app(ctx=app_ctx)) as client:
            ip_ids = []
            for (address, host), server_id in zip(IPS.items(), deployment.server_ids, strict=True):
                answer = client.post(
                    "/api/v1/ips",
                    json={
                        "address": address,
                        "hostname": host,
                        "purpose": "marketing",
                        "vmta_name": f"vmta-{address.rsplit('.', 1)[1]}",
                        "mailwizz_server_id": server_id,
                    },
                    headers=headers,
                )
                assert answer.status_code == 201, answer.text
                ip_ids.append(answer.json()["id"])
            answer = client.post(
                "/api/v1/domains",
                json={"name": DOMAIN, "dkim_selector": "s1", "bounce_domain": BOUNCE_DOMAIN},
                headers=headers,
            )
            assert answer.status_code == 201, answer.text
            domain_id = answer.json()["id"]
            # A clean DNSBL result per IP, recorded through reputation's own interface.
            with app_ctx.session_factory() as session:
                for address in IPS:
                    record_dnsbl_results(
                        session,
                        target=address,
                        results=[ZoneResult(zone, "clean") for zone in CLEAN_ZONES],
                        now=utcnow(),
                    )
                session.commit()
            for ip_id in ip_ids:
                answer = client.post(
                    "/api/v1/warmup/plans",
                    json={"ip_id": ip_id, "preset": "cold", "start": True},
                    headers=headers,
                )
                assert answer.status_code == 201, answer.text
            # The real DNS-auth validation against the DNS server, stored by reputation.
            answer = client.post(f"/api/v1/domains/{domain_id}/validate", headers=headers)
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] in ("pass", "warn"), answer.json()
            # A receiver's DMARC aggregate report: our IPs sent as the domain, aligned.
            answer = client.post("/api/v1/dmarc/reports", content=_dmarc_report(), headers=headers)
            assert answer.status_code == 201, answer.text
        with app_ctx.session_factory() as session:
            rendered, lint = pmta_service.render_from_db(session, PowerMtaSettings(), now=utcnow())
        assert lint.ok(), [str(issue) for issue in lint.errors]
        pmta = PowerMtaSettings()
        pmta_deploy.deploy_files(
            rendered.files,
            Path(pmta.config_dir),
            reload_command=pmta.reload_command,
            stamp=utcnow().strftime("%Y%m%dT%H%M%S%fZ"),
            timeout=pmta.reload_timeout,
            keep=pmta.backup_keep,
        )
    finally:
        app_ctx.close()


def _dmarc_report() -> bytes:
    now = int(utcnow().timestamp())
    records = "".join(
        f"<record><row><source_ip>{address}</source_ip><count>40</count><policy_evaluated>"
        "<disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row>"
        f"<identifiers><header_from>{DOMAIN}</header_from></identifiers></record>"
        for address in IPS
    )
    return (
        "<feedback><report_metadata><org_name>google.com</org_name><email>noreply-dmarc-support@google.com</email>"
        f"<report_id>preflight-{now}</report_id><date_range><begin>{now - 86400}</begin><end>{now}</end></date_range>"
        f"</report_metadata><policy_published><domain>{DOMAIN}</domain><p>reject</p></policy_published>{records}"
        "</feedback>"
    ).encode()


def _host_files(deployment: Deployment) -> None:
    env = deployment.env
    template = (REPO / "deploy" / "logrotate.in").read_text()
    Path(env["LOGROTATE_FILE"]).write_text(
        template.replace("@LOG_DIR@", str(deployment.root / "log")).replace("@SERVICE_USER@", "nobody")
    )
    backup = Path(env["BACKUP_ROOT"]) / utcnow().strftime("%Y%m%d-%H%M%S")
    backup.mkdir(parents=True)
    (backup / "env").write_text("# .env copy\n")
    (backup / "SHA256SUMS").write_text(f"{secrets.token_hex(32)}  env\n")
    Path(env["BACKUP_CRON_FILE"]).write_text(
        "30 2 * * * root /opt/email-engine/app/scripts/backup-all.sh >> /var/log/email-engine/backup.log 2>&1\n"
    )


def _preflight(database_url: str, deployment: Deployment) -> tuple[Any, dict[str, dict[str, str]]]:
    result = run_cli("preflight", "--json", database_url=database_url, env=deployment.env)
    report = json.loads(result.stdout)
    return result, report


def test_every_dependency_pointed_at_test_peers_is_go(
    database_url: str, redis_url: str | None, deployment: Deployment, monkeypatch: pytest.MonkeyPatch
) -> None:
    _set_env(monkeypatch, deployment.env)
    _build_inventory(database_url, redis_url, deployment)
    _host_files(deployment)

    result, report = _preflight(database_url, deployment)
    items = {item["name"]: item for item in report["items"]}
    problems = [item for item in report["items"] if item["status"] == "fail"]
    assert result.returncode == 0, (problems, result.stderr[-2000:])
    assert report["go"] is True
    skipped = {name for name, item in items.items() if item["status"] == "skip"}
    assert skipped <= {"health redis"}, skipped  # Redis is not part of the SQLite shape
    for name in (
        "secrets",
        "database",
        "database schema",
        "inventory",
        f"dns {DOMAIN}",
        "blacklists",
        "powermta config",
        "powermta bounce patterns",
        "powermta pipes",
        "mailwizz delivery servers",
        "scraper-pro signed call",
        "prometheus rules",
        "alertmanager",
        "telegram",
        "nginx/tls",
        "log rotation",
        "backups",
        "backup cron",
        "warmup plans",
        "rate limiting",
        "dmarc alignment",
        "health powermta",
        "health mailwizz_database",
        "health dns_auth",
    ):
        assert items[name]["status"] == "pass", items.get(name)
    # The peers were really asked: a signed call verified by scraper-pro, the TLS server, the Bot API.
    # (the /health probe's unsigned GETs are refused with 401, as they should be; the POST verified)
    posts = [r for r in deployment.scraper_pro.peer.requests if r.method == "POST"]
    assert deployment.scraper_pro.batches == 1 and [r.answered for r in posts] == [200]
    assert "/health" in deployment.tls.paths
    assert {r.path.rsplit("/", 1)[1] for r in deployment.peers["telegram"].requests} == {"getMe", "getChat"}

    # One thing breaks: the HTTPS server stops sending HSTS → NO-GO with the fix on that line only.
    # (the same checklist in-process, from the same environment, to keep the test quick)
    monkeypatch.setenv("DATABASE_URL", database_url)
    deployment.tls.hsts = False
    context = build_context(Settings(_env_file=None))  # type: ignore[call-arg]
    try:
        again = run_preflight(context, PreflightSettings(_env_file=None), utcnow())  # type: ignore[call-arg]
    finally:
        context.close()
    failing = {item.name: item for item in again if item.status == "fail"}
    assert verdict(again) is False
    assert set(failing) == {"nginx/tls"}
    assert "HSTS missing" in failing["nginx/tls"].detail and "HSTS" in failing["nginx/tls"].fix
