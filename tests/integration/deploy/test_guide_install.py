"""The deployment guide's install, as it writes it, in a throwaway prefix:

    git clone REPO /opt/email-engine && cd /opt/email-engine && sudo bash deploy/install.sh

then the guide's follow-up commands from that directory. The service is the rendered systemd unit's gunicorn
under tests/support/servicectl.py; the database is SQLite (the install default; PostgreSQL installs, updates and
rollbacks are tests/integration/deploy/test_install_update.py).

To keep it quick the virtualenv is prepared before install.sh runs, with the dependencies made visible from this
test run's own environment (installed from the same pinned pyproject.toml); install.sh's own pip step still builds
and installs Email Engine itself into it, and the service and every command run that installed copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.databases import backend
from tests.support.factories import free_port

# Two installs and an update: minutes on a busy machine. It runs the SQLite default whatever the pass, so it runs
# once, in the SQLite pass of scripts/test.sh (the PostgreSQL install is test_install_update.py's).
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(backend() != "sqlite", reason="runs once, in the SQLite pass"),
]

GITIGNORED = shutil.ignore_patterns(".git", ".venv", "var", "__pycache__", "*.db", ".env", ".pytest_cache")


def _clone(repo_root: Path, dest: Path) -> None:
    """`git clone` of the committed tree (a copy when this run is not a git checkout)."""
    if (repo_root / ".git").exists():
        subprocess.run(["git", "clone", "-q", str(repo_root), str(dest)], check=True)
    else:
        shutil.copytree(repo_root, dest, ignore=GITIGNORED)


def _prepared_venv(venv: Path) -> None:
    """A venv whose dependencies resolve to this test run's site-packages (see the module docstring)."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    (venv / "lib" / version / "site-packages" / "test-run-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    # The dependencies' entry points, as pip writes them when it installs gunicorn and alembic.
    for name, module, function in (
        ("gunicorn", "gunicorn.app.wsgiapp", "run"),
        ("alembic", "alembic.config", "main"),
    ):
        shim = venv / "bin" / name
        shim.write_text(
            f"#!{venv}/bin/python\nimport sys\nfrom {module} import {function}\nsys.exit({function}())\n"
        )
        shim.chmod(0o755)


@pytest.fixture
def guide(tmp_path: Path, repo_root: Path) -> Iterator[dict[str, str]]:
    prefix = tmp_path / "root"
    app_dir = prefix / "opt" / "email-engine"
    app_dir.parent.mkdir(parents=True)
    _clone(repo_root, app_dir)
    _prepared_venv(app_dir / ".venv")
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "VIRTUAL_ENV"}},
        "PREFIX": str(prefix),
        "SKIP_USER": "1",
        "SERVICE_CTL": f"{sys.executable} {repo_root / 'tests/support/servicectl.py'}",
        "SERVICECTL_STATE": str(tmp_path / "state"),
        "SYSTEMD_DIR": str(prefix / "etc/systemd/system"),
        "BIND": f"127.0.0.1:{port}",
        "WORKERS": "1",
        "HEALTH_TIMEOUT": "60",
        "PYTHON": sys.executable,
        "APP": str(app_dir),
    }
    try:
        yield env
    finally:
        subprocess.run(
            [sys.executable, str(repo_root / "tests/support/servicectl.py"), "stop", "email-engine"],
            env=env,
            check=False,
        )


def _sh(command: list[str], env: dict[str, str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=cwd, env={**env, **extra}, capture_output=True, text=True, timeout=600, check=False
    )


def test_the_guides_install_in_its_own_clone(guide: dict[str, str]) -> None:
    app = Path(guide["APP"])
    scripts = app / "scripts"
    # The guide copies generate-dkim.sh into /opt/email-engine/scripts/ in an earlier phase: the clone has it.
    installed = _sh(["bash", "deploy/install.sh"], guide, app)
    assert installed.returncode == 0, installed.stderr[-4000:]
    assert "file changed as we read it" not in installed.stderr
    assert "installed and healthy" in installed.stderr
    # ENVIRONMENT=production on the SQLite default: said at install (and preflight says NO-GO, tested there).
    assert "ENVIRONMENT=production on SQLite" in " ".join(installed.stderr.split())
    assert (app / "app" / "pyproject.toml").is_file() and not (app / "app" / "app").exists()
    assert not (scripts / "scripts").exists() and not (app / "app.new").exists()
    for name in (
        "bounce-pipe.sh",
        "delivery-pipe.sh",
        "check-blacklists.sh",
        "check-dns.sh",
        "health-check.sh",
    ):
        assert os.access(scripts / name, os.X_OK), name
    assert (app / "deploy" / "update.sh").is_file() and (app / "venv" / "bin" / "alembic").exists()
    # The clone stays a clean checkout: what install wrote is ignored, nothing tracked changed.
    status = _sh(["git", "status", "--porcelain"], guide, app)
    assert status.stdout == "", status.stdout
    env_lines = [
        line.split("=", 1)[0]
        for line in (app / ".env").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    ]
    assert len(env_lines) == len(set(env_lines)), env_lines
    assert (app / ".env").stat().st_mode & 0o777 == 0o600

    base = f"http://{guide['BIND']}"
    assert httpx.get(f"{base}/health", timeout=10).json()["status"] in ("healthy", "degraded")

    # The guide's next commands, from /opt/email-engine.
    alembic = _sh(["venv/bin/alembic", "upgrade", "head"], guide, app)
    assert alembic.returncode == 0, alembic.stderr[-2000:]
    secrets = _sh(["python3", "scripts/manage-users.py", "rotate-secrets"], guide, app)
    assert secrets.returncode == 0, secrets.stderr
    assert [len(line.split("=", 1)[1]) for line in secrets.stdout.splitlines()] == [64, 128]
    admin = _sh(
        [
            "python3",
            "scripts/manage-users.py",
            "create-admin",
            "--email",
            "ops@example.com",
            "--username",
            "ops",
            "--password",
            "a long enough password",
        ],
        guide,
        app,
    )
    assert admin.returncode == 0, admin.stderr
    login = httpx.post(
        f"{base}/api/v1/auth/login",
        json={"email": "ops@example.com", "password": "a long enough password"},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    ip = httpx.post(
        f"{base}/api/v1/ips",
        json={"address": "1.2.3.4", "hostname": "mail.example.com"},
        headers=bearer,
        timeout=10,
    )
    assert ip.status_code == 201, ip.text
    domain = httpx.post(f"{base}/api/v1/domains", json={"name": "example.com"}, headers=bearer, timeout=10)
    assert domain.status_code == 201, domain.text
    dkim = _sh(["sh", "scripts/generate-dkim.sh"], guide, app)
    assert dkim.returncode == 0, dkim.stderr
    assert "._domainkey.example.com" in dkim.stdout
    # The runbook's paths through the installed copy run too (they find $APP_DIR's venv and .env).
    for wrapper in (scripts / "check-blacklists.sh", app / "app" / "scripts" / "check-blacklists.sh"):
        run = _sh(
            [str(wrapper), "--json"],
            guide,
            Path("/"),
            DNS_NAMESERVERS="127.0.0.1:9",
            DNS_TIMEOUT="0.2",
            DNSBL_TIMEOUT="0.2",
        )
        assert run.returncode in (0, 1), run.stderr[-2000:]
        assert '"job": "blacklists"' in run.stdout
    backup = _sh(["bash", str(scripts / "backup-all.sh")], guide, Path("/"))
    assert backup.returncode == 0, backup.stderr[-2000:]
    dumps = list((Path(guide["PREFIX"]) / "backups").glob("*/database.dump"))
    assert len(dumps) == 1 and dumps[0].stat().st_size > 0

    # The guide's GO/NO-GO, from the install directory: production on the SQLite default is NO-GO, and says why.
    preflight = _sh([".venv/bin/email-engine", "preflight", "--json"], guide, app, PREFLIGHT_TIMEOUT="1")
    assert preflight.returncode != 0, preflight.stdout[-2000:]
    items = {item["name"]: item for item in json.loads(preflight.stdout)["items"]}
    assert items["database"]["status"] == "fail" and "SQLite" in items["database"]["detail"]
    assert items["database schema"]["status"] == "pass" and items["secrets"]["status"] == "pass"

    # Idempotent: the same command again changes nothing it should keep, and the service is healthy again.
    key_before = (app / ".env").read_text()
    again = _sh(["bash", "deploy/install.sh"], guide, app)
    assert again.returncode == 0, again.stderr[-4000:]
    assert (app / ".env").read_text() == key_before
    assert _sh(["git", "status", "--porcelain"], guide, app).stdout == ""
    assert httpx.get(f"{base}/health", timeout=10).json()["status"] in ("healthy", "degraded")

    # The guide's update: a new commit in the clone, then deploy/update.sh from it (backup, install, restart).
    init = app / "src" / "email_engine" / "__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', '__version__ = "0.1.1+guide"'))
    commit = ["git", "-c", "user.name=guide", "-c", "user.email=guide@example.com", "commit", "-qam", "bump"]
    assert _sh(commit, guide, app).returncode == 0
    updated = _sh(["bash", "deploy/update.sh"], guide, app)
    assert updated.returncode == 0, updated.stderr[-4000:]
    assert "file changed as we read it" not in updated.stderr
    assert httpx.get(f"{base}/openapi.json", timeout=10).json()["info"]["version"] == "0.1.1+guide"
    assert list((Path(guide["PREFIX"]) / "backups").glob("pre-update-*/database.dump"))
    assert _sh(["git", "status", "--porcelain"], guide, app).stdout == ""
