"""`email-engine jobs …` as real subprocesses (few calls: each process start imports every domain)."""

from __future__ import annotations

import json

import pytest

from email_engine.context import AppContext
from tests.integration.ops.conftest import TEST_JOBS
from tests.support.cli_runner import run_cli

pytestmark = pytest.mark.slow  # starts the CLI as a subprocess

ENV = {"SCHEDULER_JOB_MODULES": TEST_JOBS, "SCHEDULER_ONLY_JOBS": "tick,broken"}


def test_jobs_run_and_list(ctx: AppContext) -> None:
    url = ctx.settings.database_url
    ran = run_cli("jobs", "run", "tick", "--json", database_url=url, env=ENV)
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout)["status"] == "ok"

    failed = run_cli("jobs", "run", "broken", database_url=url, env=ENV)
    assert failed.returncode == 1 and "the test job failed on purpose" in failed.stderr

    listed = run_cli("jobs", "list", "--json", database_url=url, env=ENV)
    assert listed.returncode == 0, listed.stderr
    body = json.loads(listed.stdout)
    jobs = {job["name"]: job for job in body["jobs"]}
    assert jobs["tick"]["last_run"]["status"] == "ok" and jobs["broken"]["last_run"]["status"] == "error"
    assert jobs["slow"]["enabled"] is False  # left out by SCHEDULER_ONLY_JOBS
    assert body["leader"] is None


def test_unknown_job_is_a_one_line_error(ctx: AppContext) -> None:
    missing = run_cli("jobs", "run", "nosuch", database_url=ctx.settings.database_url, env=ENV)
    assert missing.returncode == 2 and "There is no job named 'nosuch'" in missing.stderr
