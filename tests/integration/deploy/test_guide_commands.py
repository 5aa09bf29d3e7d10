"""The deployment guide's own commands, verbatim: manage-users.py, alembic upgrade head, create-admin after init."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.databases import backend

BIN = Path(sys.executable).parent
# Each test makes its own SQLite database: it runs once, in the SQLite pass of scripts/test.sh.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(backend() != "sqlite", reason="runs once, in the SQLite pass"),
]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An installation directory as the guide has it: a venv beside scripts/, .env written by `init`."""
    home = tmp_path / "opt-email-engine"
    (home / ".venv" / "bin").mkdir(parents=True)
    for tool in ("email-engine", "alembic"):
        (home / ".venv" / "bin" / tool).symlink_to(BIN / tool)
    return home


def _env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "API_KEY", "JWT_SECRET_KEY"}}
    return {**base, "ENVIRONMENT": "development", "LOG_LEVEL": "WARNING", "REDIS_URL": "", **extra}


def _run(args: list[str], cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(**extra), capture_output=True, text=True, timeout=180, check=False
    )


def test_manage_users_rotate_secrets_prints_the_guides_lengths(repo_root: Path, home: Path) -> None:
    done = _run(
        ["python3", str(repo_root / "scripts/manage-users.py"), "rotate-secrets"],
        Path("/"),
        EMAIL_ENGINE_HOME=str(home),
    )
    assert done.returncode == 0, done.stderr
    values = dict(line.split("=", 1) for line in done.stdout.splitlines())
    assert len(values["API_KEY"]) == 64
    assert len(values["JWT_SECRET_KEY"]) == 128
    assert set(values["JWT_SECRET_KEY"]) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )


def test_create_admin_after_init_names_the_user_in_the_way(repo_root: Path, home: Path) -> None:
    script = str(repo_root / "scripts/manage-users.py")
    init = _run([str(home / ".venv/bin/email-engine"), "init"], home)
    assert init.returncode == 0, init.stderr
    assert "created admin admin@example.com" in init.stdout
    clash = _run(
        [
            "python3",
            script,
            "create-admin",
            "--email",
            "admin@example.com",
            "--username",
            "boss",
            "--password",
            "a long enough password",
        ],
        Path("/"),
        EMAIL_ENGINE_HOME=str(home),
    )
    assert clash.returncode == 2
    said = " ".join(clash.stderr.split())  # the console wraps long lines
    assert "A user with this email exists already: admin" in said
    assert "email-engine init" in said and "users set-password admin" in said
    created = _run(
        [
            "python3",
            script,
            "create-admin",
            "--email",
            "ops@example.com",
            "--username",
            "ops",
            "--password",
            "a long enough password",
        ],
        Path("/"),
        EMAIL_ENGINE_HOME=str(home),
    )
    assert created.returncode == 0, created.stderr
    assert "created admin ops" in created.stdout
    listed = _run(["python3", script, "list", "--json"], Path("/"), EMAIL_ENGINE_HOME=str(home))
    assert '"ops"' in listed.stdout and '"admin"' in listed.stdout
    unknown = _run(["python3", script, "make-coffee"], Path("/"), EMAIL_ENGINE_HOME=str(home))
    assert unknown.returncode == 64 and "rotate-secrets" in unknown.stderr


def test_alembic_upgrade_head_from_the_install_directory(repo_root: Path, tmp_path: Path) -> None:
    """`venv/bin/alembic upgrade head` where alembic.ini is (the repository root = the guide's /opt/email-engine)."""
    database = tmp_path / "guide.db"
    url = f"sqlite:///{database}"
    alembic = str(BIN / "alembic")
    upgraded = _run([alembic, "upgrade", "head"], repo_root, DATABASE_URL=url)
    assert upgraded.returncode == 0, upgraded.stderr
    heads = _run([alembic, "heads"], repo_root, DATABASE_URL=url)
    current = _run([alembic, "current"], repo_root, DATABASE_URL=url)
    names = {line.split()[0] for line in heads.stdout.splitlines() if line.strip()}
    assert len(names) > 1  # one branch per domain: Alembic alone would refuse "head"
    assert {line.split()[0] for line in current.stdout.splitlines() if line.strip()} == names
    again = _run([alembic, "upgrade", "head"], repo_root, DATABASE_URL=url)
    assert again.returncode == 0, again.stderr
    # Anything else stays Alembic's: "downgrade head" is still refused with its own message.
    refused = _run([alembic, "downgrade", "head"], repo_root, DATABASE_URL=url)
    assert refused.returncode != 0 and "Multiple head revisions" in refused.stderr
