"""deploy/lib.sh's pieces that the guide's install relies on, without a full install: merging an existing
scripts/ folder, one .env line per key, and backups that find a relative SQLite path from anywhere."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts the install scripts


def _lib(repo_root: Path, script: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", f'set -euo pipefail; . "{repo_root}/deploy/lib.sh"; {script}'],
        env={**os.environ, **env},
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_existing_scripts_folder_is_merged(repo_root: Path, tmp_path: Path) -> None:
    """The guide copies generate-dkim.sh to /opt/email-engine/scripts/ before the install (earlier: scripts/scripts)."""
    app = tmp_path / "opt-email-engine"
    code = app / "app"
    for folder in ("scripts", "deploy/nginx"):
        (code / folder).mkdir(parents=True)
    for name in ("bounce-pipe.sh", "generate-dkim.sh", "check-dns.sh"):
        (code / "scripts" / name).write_text(f"#!/bin/sh\necho installed {name}\n")
    (code / "deploy" / "update.sh").write_text("#!/bin/sh\n")
    (code / "alembic.ini").write_text("[alembic]\n")
    (app / "scripts").mkdir(parents=True)
    (app / "scripts" / "generate-dkim.sh").write_text("#!/bin/sh\necho the guide's own copy\n")
    (app / "scripts" / "my-own-tool.sh").write_text("#!/bin/sh\necho mine\n")
    (app / "scripts" / "check-dns.sh").write_text("#!/bin/sh\necho installed check-dns.sh\n")  # same as ours
    done = _lib(
        repo_root, "expose_code; expose_code", APP_DIR=str(app), CODE_DIR=str(code), PREFIX=str(tmp_path)
    )
    assert done.returncode == 0, done.stderr
    scripts = app / "scripts"
    assert not (scripts / "scripts").exists()
    assert (scripts / "bounce-pipe.sh").resolve() == code / "scripts" / "bounce-pipe.sh"
    assert (scripts / "generate-dkim.sh").resolve() == code / "scripts" / "generate-dkim.sh"
    assert (
        scripts / "generate-dkim.sh.before-install"
    ).read_text() == "#!/bin/sh\necho the guide's own copy\n"
    assert (scripts / "my-own-tool.sh").read_text() == "#!/bin/sh\necho mine\n"
    assert not (scripts / "check-dns.sh").is_symlink()  # equal to ours: left as it is
    assert (app / "deploy" / "update.sh").resolve() == code / "deploy" / "update.sh"
    assert (app / "alembic.ini").resolve() == code / "alembic.ini"
    assert (app / "venv").is_symlink() and os.readlink(app / "venv") == ".venv"
    assert "keeping your" in done.stderr


def test_the_earlier_layouts_scripts_link_becomes_a_folder(repo_root: Path, tmp_path: Path) -> None:
    app = tmp_path / "app-dir"
    code = app / "app"
    (code / "scripts").mkdir(parents=True)
    (code / "scripts" / "bounce-pipe.sh").write_text("#!/bin/sh\n")
    (app / "scripts").symlink_to(code / "scripts")
    done = _lib(repo_root, "expose_code", APP_DIR=str(app), CODE_DIR=str(code), PREFIX=str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (app / "scripts").is_dir() and not (app / "scripts").is_symlink()
    assert (app / "scripts" / "bounce-pipe.sh").resolve() == code / "scripts" / "bounce-pipe.sh"


def test_env_values_are_set_once(repo_root: Path, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "ENVIRONMENT=production\nDATABASE_URL=sqlite:////var/lib/x.db\n# REDIS_URL=redis://127.0.0.1:6379/0\n"
    )
    env_file.chmod(0o600)
    done = _lib(
        repo_root,
        'set_env_value DATABASE_URL "postgresql://ee@127.0.0.1/ee?x=1&y=|2"; '
        "set_env_value REDIS_URL redis://127.0.0.1:6379/1; set_env_value NEW_ONE 'a b'",
        ENV_FILE=str(env_file),
    )
    assert done.returncode == 0, done.stderr
    assert env_file.read_text() == (
        "ENVIRONMENT=production\nDATABASE_URL=postgresql://ee@127.0.0.1/ee?x=1&y=|2\n"
        "REDIS_URL=redis://127.0.0.1:6379/1\nNEW_ONE=a b\n"
    )
    assert env_file.stat().st_mode & 0o777 == 0o600


def test_backup_finds_a_relative_sqlite_path_from_anywhere(repo_root: Path, tmp_path: Path) -> None:
    """The .env that scripts/serve.sh writes has sqlite:///./var/email-engine.db (relative to where .env is)."""
    home = tmp_path / "checkout"
    (home / "var").mkdir(parents=True)
    (home / ".env").write_text("ENVIRONMENT=development\nDATABASE_URL=sqlite:///./var/email-engine.db\n")
    with sqlite3.connect(home / "var" / "email-engine.db") as db:
        db.execute("CREATE TABLE kept (value TEXT)")
        db.execute("INSERT INTO kept VALUES ('still here')")
    db.close()
    env = {
        **os.environ,
        "APP_DIR": str(home),
        "ENV_FILE": str(home / ".env"),
        "BACKUP_ROOT": str(tmp_path / "backups"),
        "PREFIX": str(tmp_path / "none"),
    }
    done = subprocess.run(
        ["bash", str(repo_root / "scripts/backup-all.sh")],
        env=env,
        cwd="/",
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (dump,) = (tmp_path / "backups").glob("*/database.dump")
    with sqlite3.connect(dump) as copy:
        assert copy.execute("SELECT value FROM kept").fetchall() == [("still here",)]
    copy.close()


@pytest.mark.parametrize(
    "script",
    [
        "deploy/install.sh",
        "deploy/update.sh",
        "deploy/render-nginx.sh",
        "scripts/backup-all.sh",
        "scripts/restore.sh",
    ],
)
def test_help_prints_usage_and_changes_nothing(repo_root: Path, tmp_path: Path, script: str) -> None:
    prefix = tmp_path / "root"
    prefix.mkdir()
    env = {**os.environ, "PREFIX": str(prefix), "SERVICE_CTL": "false", "SKIP_USER": "1"}
    done = subprocess.run(
        ["bash", str(repo_root / script), "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert Path(script).name.removesuffix(".sh") in done.stdout or "Usage" in done.stdout, done.stdout
    assert not done.stdout.startswith("#") and len(done.stdout.splitlines()) >= 2
    assert list(prefix.iterdir()) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["root"]
