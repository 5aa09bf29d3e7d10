"""The PowerMTA wrapper scripts run the real pipe with no arguments."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.feedback.stored import stored_records
from tests.integration.feedback.conftest import pipe_env

pytestmark = pytest.mark.slow  # starts the pipe scripts

CSV = (
    "type,timeLogged,rcpt,dsnStatus,dsnDiag,bounceCat\r\n"
    'b,2026-11-24 09:00:01+0000,gone@example.com,5.1.1,"smtp;550 5.1.1 user unknown, ""gone""",bad-mailbox\r\n'
)


@pytest.mark.parametrize(
    ("script", "source"), [("bounce-pipe.sh", "pmta-bounce"), ("delivery-pipe.sh", "pmta-delivery")]
)
def test_wrapper_runs_the_pipe(
    repo_root: Path, tmp_path: Path, settings: Settings, session: Session, script: str, source: str
) -> None:
    env = pipe_env(settings, tmp_path / "spool", EMAIL_ENGINE_HOME=str(repo_root))
    env.pop("PIPE_SOURCE", None)
    done = subprocess.run(
        [str(repo_root / "scripts" / script)],
        input=CSV.encode(),
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    (row,) = stored_records(session)
    assert (row.source, row.bounce_type, row.rcpt_domain) == (source, "hard", "example.com")
