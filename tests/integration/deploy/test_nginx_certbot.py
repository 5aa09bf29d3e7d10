"""The guide's nginx steps, for real: deploy/nginx.conf passes `nginx -t` before any certificate exists, and
`certbot --nginx` then gets a certificate for it and turns it into an HTTPS site in front of the engine.

The ACME server is Pebble (Let's Encrypt's test CA, Debian package `pebble`), resolving every name to 127.0.0.1
through `pebble-challtestsrv`'s DNS. Only the ports differ from the guide: the site listens on free ports instead of
80/443 (certbot's --http-01-port/--https-port and Pebble's httpPort follow), so the test never touches the
machine's own web ports.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.support.databases import backend
from tests.support.factories import free_port
from tests.support.live_server import LiveServer

# No database involved: runs once, in the SQLite pass of scripts/test.sh.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.skipif(backend() != "sqlite", reason="runs once, in the SQLite pass"),
]
NAME = "engine.example.com"


def _need(tool: str) -> str:
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    if path is None:
        pytest.fail(f"{tool} is not installed; scripts/services.sh installs it (scripts/system-packages.txt)")
    return path


def _wait_port(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{what} exited with {process.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail(f"{what} did not listen on {port}")


def _main_conf(root: Path, sites: Path) -> Path:
    main = root / "nginx.conf"
    main.write_text(
        f"pid {root}/nginx.pid;\nerror_log {root}/error.log;\nevents {{}}\n"
        f"http {{\n access_log off;\n include {sites}/*;\n}}\n"
    )
    return main


def _nginx_t(main: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_need("nginx"), "-t", "-c", str(main), "-p", str(root), "-e", str(root / "e.log")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_guides_file_passes_nginx_t_before_a_certificate(repo_root: Path, tmp_path: Path) -> None:
    sites = tmp_path / "sites-enabled"
    sites.mkdir()
    shutil.copy(repo_root / "deploy/nginx.conf", sites / "email-engine")
    result = _nginx_t(_main_conf(tmp_path, sites), tmp_path)
    assert result.returncode == 0, result.stderr
    text = (sites / "email-engine").read_text()
    assert "ssl_certificate" not in text and "443" not in text
    # render-nginx.sh writes the same first stage while the certificate is missing …
    rendered = tmp_path / "rendered"
    env = {**os.environ, "SERVER_NAME": "mx.example.org", "TLS_CERT": str(tmp_path / "none.pem")}
    done = subprocess.run(
        ["bash", str(repo_root / "deploy/render-nginx.sh"), str(rendered)],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "server_name mx.example.org;" in rendered.read_text() and "certbot --nginx" in done.stderr
    (sites / "email-engine").unlink()
    shutil.copy(rendered, sites / "email-engine")
    result = _nginx_t(_main_conf(tmp_path, sites), tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.fixture
def pebble(tmp_path: Path) -> Iterator[dict[str, int]]:
    """Pebble on a free port, validating HTTP-01 on another free port; every name resolves to 127.0.0.1."""
    ports = {name: free_port() for name in ("acme", "management", "http01", "tls", "dns", "dns_management")}
    cert, key = tmp_path / "pebble-cert.pem", tmp_path / "pebble-key.pem"
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
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    config = tmp_path / "pebble.json"
    config.write_text(
        json.dumps(
            {
                "pebble": {
                    "listenAddress": f"127.0.0.1:{ports['acme']}",
                    "managementListenAddress": f"127.0.0.1:{ports['management']}",
                    "certificate": str(cert),
                    "privateKey": str(key),
                    "httpPort": ports["http01"],
                    "tlsPort": ports["tls"],
                    "ocspResponderURL": "",
                    "externalAccountBindingRequired": False,
                }
            }
        )
    )
    dns = subprocess.Popen(
        [
            _need("pebble-challtestsrv"),
            "-defaultIPv4",
            "127.0.0.1",
            "-defaultIPv6",
            "",
            "-dns01",
            f"127.0.0.1:{ports['dns']}",
            "-management",
            f"127.0.0.1:{ports['dns_management']}",
            "-http01",
            "",
            "-https01",
            "",
            "-tlsalpn01",
            "",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {**os.environ, "PEBBLE_VA_NOSLEEP": "1", "PEBBLE_WFE_NONCEREJECT": "0"}
    log = (tmp_path / "pebble.log").open("w")
    acme = subprocess.Popen(
        [_need("pebble"), "-config", str(config), "-dnsserver", f"127.0.0.1:{ports['dns']}"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_port(ports["dns_management"], dns, "pebble-challtestsrv")
        _wait_port(ports["acme"], acme, "pebble")
        yield ports
    finally:
        for process in (acme, dns):
            process.terminate()
            process.wait(timeout=10)
        log.close()


def test_certbot_nginx_turns_the_guides_site_into_https(
    repo_root: Path, tmp_path: Path, pebble: dict[str, int], app: FastAPI
) -> None:
    https_port = free_port()
    root = tmp_path / "nginx"
    sites = root / "sites-enabled"
    sites.mkdir(parents=True)
    main = _main_conf(root, sites)
    with LiveServer(app) as engine:
        site = (repo_root / "deploy/nginx.conf").read_text()
        site = site.replace(":80;", f":{pebble['http01']};").replace(
            "listen 80;", f"listen {pebble['http01']};"
        )
        site = site.replace("server 127.0.0.1:8000;", f"server 127.0.0.1:{engine.port};")
        (sites / "email-engine").write_text(site)
        assert _nginx_t(main, root).returncode == 0
        certbot_dir = tmp_path / "certbot"
        try:
            done = subprocess.run(
                [
                    _need("certbot"),
                    "--nginx",
                    "-d",
                    NAME,
                    "--redirect",
                    "--hsts",
                    "--non-interactive",
                    "--agree-tos",
                    "--register-unsafely-without-email",
                    "--no-verify-ssl",
                    "--server",
                    f"https://127.0.0.1:{pebble['acme']}/dir",
                    "--http-01-port",
                    str(pebble["http01"]),
                    "--https-port",
                    str(https_port),
                    "--nginx-server-root",
                    str(root),
                    "--nginx-ctl",
                    _need("nginx"),
                    "--config-dir",
                    str(certbot_dir / "config"),
                    "--work-dir",
                    str(certbot_dir / "work"),
                    "--logs-dir",
                    str(certbot_dir / "logs"),
                ],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
            text = (sites / "email-engine").read_text()
            assert "managed by Certbot" in text and f"listen {https_port} ssl" in text
            assert _nginx_t(main, root).returncode == 0
            # nginx now answers over TLS with the new certificate and proxies to the engine.
            with httpx.Client(verify=False, timeout=10) as client:
                health = client.get(f"https://127.0.0.1:{https_port}/health", headers={"Host": NAME})
                assert health.status_code in (200, 503), health.text
                assert health.json()["status"] in ("healthy", "degraded", "unhealthy")
                assert "max-age" in health.headers.get("strict-transport-security", "")
                # (--redirect's HTTP→HTTPS redirect is added only to a server on port 80, which this test does
                # not bind: on the guide's ports certbot writes it too.)
                plain = client.get(f"http://127.0.0.1:{pebble['http01']}/health", headers={"Host": NAME})
                assert plain.status_code in (200, 503)
            live = certbot_dir / "config" / "live" / NAME / "fullchain.pem"
            assert live.exists()
        finally:
            pid_file = root / "nginx.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text().strip()), signal.SIGQUIT)
