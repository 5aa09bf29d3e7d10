"""Feedback fixtures: feedback settings on the context, the pipe as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.feedback.settings import FeedbackSettings
from tests.conftest import make_settings

EMAIL_ENGINE = str(Path(sys.executable).parent / "email-engine")
INGEST_SECRET = "t3st-ingest-hmac-9f8e7d6c5b4a39281706f5e4d3c2b1a0"


SCRAPER_SECRET = "t3st-scraper-pro-hmac-0a1b2c3d4e5f60718293a4b5c6d7e8f9"


@pytest.fixture
def settings(database_url: str, redis_url: str | None) -> Settings:
    """Scraper-pro feeds configured (nothing is sent unless a test drains the outbox)."""
    return make_settings(
        database_url,
        redis_url,
        SCRAPER_PRO_BOUNCE_URL="http://127.0.0.1:9/bounces",
        SCRAPER_PRO_DELIVERY_URL="http://127.0.0.1:9/deliveries",
        SCRAPER_PRO_HMAC_SECRET=SCRAPER_SECRET,
    )


@pytest.fixture
def feedback(ctx: AppContext, tmp_path: Path) -> FeedbackSettings:
    values = FeedbackSettings(
        _env_file=None,  # type: ignore[call-arg]
        INGEST_HMAC_SECRET=SecretStr(INGEST_SECRET),
        PIPE_SPOOL_DIR=tmp_path / "spool",
    )
    ctx.settings.install(values)
    return values


def pipe_env(settings: Settings, spool: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_", "PIPE_"))}
    env.update(
        {
            "DATABASE_URL": settings.database_url,
            "PIPE_SPOOL_DIR": str(spool),
            "PIPE_BATCH_SIZE": "2000",
            "PIPE_FLUSH_SECONDS": "0.5",
            "PIPE_RETRY_MAX_SECONDS": "1",
            "PIPE_CONNECT_TIMEOUT": "2",
            "LOG_LEVEL": "WARNING",
            "ENVIRONMENT": "test",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def run_pipe(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """``run_pipe(path_or_bytes, *args, **env) -> CompletedProcess`` running the real command."""

    def _run(
        data: Path | bytes | None, *args: str, timeout: float = 600, **env: str
    ) -> subprocess.CompletedProcess[bytes]:
        spool = Path(env.pop("spool", str(tmp_path / "spool")))
        environment = pipe_env(settings, spool, **env)
        if isinstance(data, Path):
            with open(data, "rb") as stdin:
                return subprocess.run(
                    [EMAIL_ENGINE, "pipe", *args],
                    stdin=stdin,
                    capture_output=True,
                    env=environment,
                    timeout=timeout,
                    check=False,
                )
        return subprocess.run(
            [EMAIL_ENGINE, "pipe", *args],
            input=data or b"",
            capture_output=True,
            env=environment,
            timeout=timeout,
            check=False,
        )

    yield _run
