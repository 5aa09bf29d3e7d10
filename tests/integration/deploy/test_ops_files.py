"""The operations files are checked by the tools that will read them in production."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts openssl, the shipped scripts


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed; scripts/services.sh installs it (scripts/system-packages.txt)")
    return path


def _render(repo_root: Path, template: str, dest: Path, **env: str) -> None:
    script = f'. "{repo_root}/deploy/lib.sh"; render "{repo_root}/deploy/{template}" "{dest}"'
    subprocess.run(["bash", "-c", script], env={**os.environ, **env}, check=True)


def test_shell_scripts_pass_shellcheck(repo_root: Path) -> None:
    scripts = sorted(str(p) for p in [*repo_root.glob("deploy/*.sh"), *repo_root.glob("scripts/*.sh")])
    result = subprocess.run(
        [_need("shellcheck"), "-x", *scripts], cwd=repo_root, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout


def test_nginx_site_passes_nginx_t(repo_root: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=engine.example.com",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    site = tmp_path / "email-engine.conf"
    _render(
        repo_root,
        "nginx/email-engine.conf.in",
        site,
        TLS_CERT=str(cert),
        TLS_KEY=str(key),
        MONITORING_NETWORK="10.20.0.0/24",
    )
    text = site.read_text()
    assert "@" not in text.replace("$request_uri", "")
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in text
    assert "Strict-Transport-Security" in text
    main = tmp_path / "nginx.conf"
    main.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n include {site};\n}}\n"
    )
    result = subprocess.run(
        [_need("nginx"), "-t", "-c", str(main), "-p", str(tmp_path), "-e", str(tmp_path / "e.log")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_systemd_unit_verifies(repo_root: Path, tmp_path: Path) -> None:
    venv = Path(os.environ.get("VIRTUAL_ENV", repo_root / ".venv"))
    unit = tmp_path / "email-engine.service"
    _render(
        repo_root,
        "email-engine.service.in",
        unit,
        VENV_DIR=str(venv),
        APP_DIR=str(tmp_path),
        CODE_DIR=str(repo_root),
        ENV_FILE=str(tmp_path / ".env"),
        DATA_DIR=str(tmp_path),
        LOG_DIR=str(tmp_path),
        SERVICE_USER="root",
    )
    (tmp_path / ".env").write_text("ENVIRONMENT=production\n")
    text = unit.read_text()
    for directive in (
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "PrivateTmp=yes",
        "ReadWritePaths=",
        "Restart=on-failure",
        "--bind 127.0.0.1:8000",
    ):
        assert directive in text
    result = subprocess.run([_need("systemd-analyze"), "verify", str(unit)], capture_output=True, text=True)
    problems = [line for line in result.stderr.splitlines() if str(unit) in line or "email-engine" in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_logrotate_config_is_valid(repo_root: Path, tmp_path: Path) -> None:
    conf = tmp_path / "email-engine"
    _render(repo_root, "logrotate.in", conf, LOG_DIR=str(tmp_path / "logs"), SERVICE_USER="root")
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "bounce-pipe.log").write_text("x\n")
    text = conf.read_text()
    for directive in ("daily", "rotate 30", "compress"):
        assert directive in text
    result = subprocess.run(
        [_need("logrotate"), "-d", "-s", str(tmp_path / "state"), str(conf)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert "error" not in result.stderr.lower()
