"""The preflight items of the host around the engine: monitoring, nginx/TLS, log rotation and backups
(the parts of a deployment the engine does not own, found through ``PreflightSettings``)."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import httpx

from email_engine.context import AppContext
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = [
    "CHECKS",
    "check_backups",
    "check_logrotate",
    "check_monitoring",
    "check_tls",
    "logrotate_problems",
    "newest_backup",
]


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


CHECKS = [
    PreflightCheck("prometheus rules", check_monitoring, order=110),
    PreflightCheck("nginx/tls", check_tls, order=130),
    PreflightCheck("log rotation", check_logrotate, order=140),
    PreflightCheck("backups", check_backups, order=150),
]
