"""Run ``email-engine`` as a real subprocess against the test database (no .env from the checkout)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str,
    database_url: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    full_env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(REPO)]),  # this checkout's code
        "ENVIRONMENT": "test",
        "DATABASE_URL": database_url,
        "REDIS_URL": "",
        "LOG_LEVEL": "WARNING",
        # Tables laid out the same whatever the length of the test's temporary paths (80 columns otherwise).
        "COLUMNS": "200",
        **(env or {}),
    }
    return subprocess.run(
        [sys.executable, "-c", "from email_engine.cli import main; main()", *args],
        env=full_env,
        cwd=cwd or Path("/"),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
