"""install.sh → update.sh → a failing update → automatic rollback, for real, in a throwaway prefix.

The service runs the rendered systemd unit's ExecStart (gunicorn, 2 workers) under tests/support/servicectl.py,
against a real throwaway PostgreSQL database. After the rollback, the code and the data are the ones from
before the failing update.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.databases import backend, throwaway_postgres
from tests.support.factories import free_port

# Always uses PostgreSQL (the production shape), so it runs once: in the PostgreSQL pass of scripts/test.sh.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(
        900
    ),  # a real pip install of every dependency, then two updates: minutes on a busy machine
    pytest.mark.skipif(backend() != "postgresql", reason="deploy test runs once, in the PostgreSQL pass"),
]

IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "var", "__pycache__", "*.db", ".env", ".pytest_cache", ".mypy_cache"
)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def deployment(tmp_path: Path, repo_root: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    with throwaway_postgres() as url:
        env = {
            **os.environ,
            "PREFIX": str(tmp_path / "root"),
            "SKIP_USER": "1",
            "SERVICE_CTL": f"{sys.executable} {repo_root / 'tests/support/servicectl.py'}",
            "SERVICECTL_STATE": str(tmp_path / "state"),
            "BIND": f"127.0.0.1:{port}",
            "WORKERS": "2",
            "HEALTH_TIMEOUT": "30",
            "PYTHON": sys.executable,
            "DATABASE_URL": url.replace("postgresql+psycopg://", "postgresql://"),
        }
        env["SYSTEMD_DIR"] = f"{env['PREFIX']}/etc/systemd/system"
        try:
            yield env
        finally:
            subprocess.run(
                [sys.executable, str(repo_root / "tests/support/servicectl.py"), "stop", "email-engine"],
                env=env,
                check=False,
            )


def _snapshot(repo_root: Path, dest: Path) -> Path:
    """The committed tree when this is a git checkout (others' unsaved edits stay out), else a copy."""
    if (repo_root / ".git").exists():
        dest.mkdir()
        archive = subprocess.run(
            ["git", "-C", str(repo_root), "archive", "HEAD"], capture_output=True, check=True
        )
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    else:
        shutil.copytree(repo_root, dest, ignore=IGNORE)
    return dest


def _run(script: Path, env: dict[str, str], source: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(script)],
        env={**env, "SOURCE_DIR": str(source)},
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_install_update_and_rollback(deployment: dict[str, str], repo_root: Path, tmp_path: Path) -> None:
    env = deployment
    base = f"http://{env['BIND']}"
    v1 = _snapshot(repo_root, tmp_path / "v1")
    installed = _run(v1 / "deploy/install.sh", env, v1)
    assert installed.returncode == 0, installed.stderr[-3000:]
    app_dir = Path(env["PREFIX"]) / "opt/email-engine"
    env_file = app_dir / ".env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    # PowerMTA's pipes call $APP_DIR/scripts/*-pipe.sh, which run $APP_DIR/.venv/bin/email-engine with $APP_DIR/.env
    assert (app_dir / "scripts" / "bounce-pipe.sh").is_file()
    assert (app_dir / ".venv" / "bin" / "email-engine").is_file()
    settings = dict(
        line.split("=", 1)
        for line in env_file.read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    api_key = settings["API_KEY"]
    assert len(api_key) >= 32

    created = httpx.post(
        f"{base}/api/v1/keys",
        json={"name": "kept-key", "role": "viewer"},
        headers={"X-API-Key": api_key},
        timeout=10,
    )
    assert created.status_code == 201

    # A good update: the version changes, the data stays.
    v2 = tmp_path / "v2"
    shutil.copytree(v1, v2, ignore=IGNORE)
    init = v2 / "src/email_engine/__init__.py"
    init.write_text(init.read_text().replace('__version__ = "0.1.0"', '__version__ = "0.1.1+good"'))
    updated = _run(v1 / "deploy/update.sh", env, v2)
    assert updated.returncode == 0, updated.stderr[-3000:]
    assert httpx.get(f"{base}/openapi.json", timeout=10).json()["info"]["version"] == "0.1.1+good"
    backups = sorted((Path(env["PREFIX"]) / "backups").glob("pre-update-*"))
    assert len(backups) == 1 and (backups[0] / "database.dump").stat().st_size > 0
    code_before = {p.relative_to(app_dir / "app"): _digest(p) for p in (app_dir / "app").rglob("*.py")}

    # A failing update: a migration that changes the data, and an app that cannot start.
    v3 = tmp_path / "v3"
    shutil.copytree(v2, v3, ignore=IGNORE)
    (v3 / "src/email_engine/migrations/versions/zz_0001_doomed.py").write_text(
        'revision = "zz_0001"\ndown_revision = "core_0001"\nbranch_labels = ("zz",)\ndepends_on = None\n'
        "from alembic import op\n\n\ndef upgrade():\n"
        '    op.execute("CREATE TABLE doomed (id integer)")\n'
        '    op.execute("DELETE FROM api_key")\n\n\ndef downgrade():\n    pass\n'
    )
    main = v3 / "src/email_engine/main.py"
    main.write_text(
        main.read_text() + '\n\ndef create_app(*_a, **_k):  # noqa\n    raise RuntimeError("broken build")\n'
    )
    failed = _run(v1 / "deploy/update.sh", env, v3)
    assert failed.returncode != 0
    assert "rolled back" in failed.stderr

    code_after = {p.relative_to(app_dir / "app"): _digest(p) for p in (app_dir / "app").rglob("*.py")}
    assert code_after == code_before
    assert httpx.get(f"{base}/health", timeout=10).json()["status"] in ("healthy", "degraded")
    assert httpx.get(f"{base}/openapi.json", timeout=10).json()["info"]["version"] == "0.1.1+good"
    with psycopg.connect(env["DATABASE_URL"]) as conn:
        names = [row[0] for row in conn.execute("SELECT name FROM api_key")]
        doomed = conn.execute("SELECT to_regclass('public.doomed')").fetchone()
    assert names == ["kept-key"]
    assert doomed == (None,)
