"""The guide's shell scripts are thin wrappers over `email-engine jobs run NAME`."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts the guide's wrapper scripts


@pytest.mark.parametrize(
    ("script", "job"),
    [("check-blacklists.sh", "blacklists"), ("check-dns.sh", "dns-auth"), ("health-check.sh", "health")],
)
def test_wrapper_runs_the_job(repo_root: Path, database_url: str, script: str, job: str) -> None:
    env = {
        **os.environ,
        "EMAIL_ENGINE_HOME": str(repo_root),
        "DATABASE_URL": database_url,
        "ENVIRONMENT": "test",
        "JWT_SECRET_KEY": "x" * 48,
    }
    result = subprocess.run(
        [str(repo_root / "scripts" / script), "--json"], env=env, capture_output=True, text=True, timeout=180
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run = json.loads(result.stdout)
    assert run["job"] == job
    assert run["status"] == "ok"
