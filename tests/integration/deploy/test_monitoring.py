"""The monitoring stack: Prometheus config and rules, Alertmanager routing, Grafana dashboard, compose file."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

METRIC = re.compile(r"\b(email_engine_[a-z0-9_]+)")


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed; scripts/services.sh installs it (scripts/system-packages.txt)")
    return path


def _ok(args: list[str], cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.mark.slow
def test_prometheus_config_and_rules(repo_root: Path) -> None:
    monitoring = repo_root / "monitoring"
    _ok([_tool("promtool"), "check", "config", "prometheus.yml"], monitoring)
    _ok([_tool("promtool"), "check", "rules", "alert-rules.yml"], monitoring)
    out = _ok([_tool("promtool"), "test", "rules", "tests/alert-rules.test.yml"], monitoring)
    assert "SUCCESS" in out


def test_every_alert_has_a_unit_test(repo_root: Path) -> None:
    rules = yaml.safe_load((repo_root / "monitoring/alert-rules.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    tests = yaml.safe_load((repo_root / "monitoring/tests/alert-rules.test.yml").read_text())
    fired = {
        case["alertname"] for test in tests["tests"] for case in test["alert_rule_test"] if case["exp_alerts"]
    }
    quiet = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if not case["exp_alerts"]
    }
    assert names == fired, f"alerts never shown to fire: {names - fired}"
    assert names <= quiet, f"alerts never shown to stay quiet: {names - quiet}"
    expected = {
        "EmailEngineDown",
        "PowerMTADown",
        "SendingIPListedMajor",
        "HighBounceRate",
        "HighComplaintRate",
        "WarmupPaused",
        "OutboxBacklog",
        "JobFailing",
        "DiskSpaceLow",
    }
    assert expected <= names


def test_engine_down_alert_uses_the_scrape_job_name(repo_root: Path) -> None:
    config = yaml.safe_load((repo_root / "monitoring/prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    rules = (repo_root / "monitoring/alert-rules.yml").read_text()
    referenced = set(re.findall(r'up\{job="([^"]+)"\}', rules))
    assert referenced and referenced <= jobs


@pytest.mark.slow
def test_alertmanager_config(repo_root: Path, tmp_path: Path) -> None:
    template = (repo_root / "monitoring/alertmanager.yml").read_text()
    entrypoint = (repo_root / "monitoring/alertmanager-entrypoint.sh").read_text()
    for token in ("@TELEGRAM_BOT_TOKEN@", "@TELEGRAM_CHAT_ID@"):
        assert token in template and token in entrypoint
    assert "/run/secrets/telegram_bot_token" in entrypoint  # the token comes from a file
    rendered = tmp_path / "alertmanager.yml"
    rendered.write_text(
        template.replace("@TELEGRAM_BOT_TOKEN@", "123456:TEST").replace("@TELEGRAM_CHAT_ID@", "-1001")
    )
    _ok([_tool("amtool"), "check-config", str(rendered)], tmp_path)
    config = yaml.safe_load(rendered.read_text())
    critical = next(r for r in config["route"]["routes"] if 'severity="critical"' in r["matchers"])
    assert critical["repeat_interval"] == "1h"
    assert config["route"]["repeat_interval"] == "4h"


def test_compose_binds_localhost_and_takes_secrets_from_outside(repo_root: Path) -> None:
    compose = yaml.safe_load((repo_root / "monitoring/docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"prometheus", "alertmanager", "grafana"}
    assert "--web.listen-address=127.0.0.1:9090" in services["prometheus"]["command"]
    assert "127.0.0.1:9093" in (repo_root / "monitoring/alertmanager-entrypoint.sh").read_text()
    grafana = services["grafana"]["environment"]
    assert grafana["GF_SERVER_HTTP_ADDR"] == "127.0.0.1"
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD")
    assert all("ports" not in service for service in services.values())


def test_dashboard_and_rules_query_only_exported_metrics(repo_root: Path, client: TestClient) -> None:
    """No panel or alert asks for a metric the engine does not export."""
    exposition = client.get("/metrics").text
    exported: set[str] = set()
    for line in exposition.splitlines():
        if line.startswith("# TYPE "):
            _hash, _type, name, kind = line.split(" ", 3)
            exported.add(name)
            if kind == "histogram":
                exported |= {f"{name}_bucket", f"{name}_count", f"{name}_sum"}
            if kind == "counter" and not name.endswith("_total"):
                exported.add(f"{name}_total")
    dashboard = json.loads((repo_root / "monitoring/grafana/dashboards/email-engine.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    assert len(exprs) >= 15
    used = {name for expr in exprs for name in METRIC.findall(expr)}
    used |= set(METRIC.findall((repo_root / "monitoring/alert-rules.yml").read_text()))
    missing = used - exported
    assert not missing, f"queried but not exported: {sorted(missing)}"
