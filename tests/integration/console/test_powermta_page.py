"""PowerMTA page: the rendered files (secrets redacted), lint findings, the diff against the deployed
directory, and the lint-gated deploy (admin, with confirmation) through the CLI's functions."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from email_engine.auth.roles import Role
from email_engine.context import AppContext
from email_engine.integrations.powermta.settings import PowerMtaSettings
from tests.integration.console.conftest import csrf_of
from tests.integration.powermta.conftest import PASSWORD, guide_db, pmta_env  # noqa: F401 (fixture)


def test_missing_settings_are_named(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    ctx.settings.install(PowerMtaSettings(_env_file=None))  # type: ignore[call-arg]
    answer = login(Role.VIEWER).get("/ui/powermta")
    assert answer.status_code == 409
    assert "before rendering the PowerMTA configuration" in answer.text and "PMTA_" in answer.text


@pytest.mark.slow
@pytest.mark.usefixtures("guide_db")
def test_render_diff_and_deploy(
    login: Callable[[Role], TestClient],
    ctx: AppContext,
    tmp_path: Path,
) -> None:
    target = tmp_path / "pmta"
    target.mkdir()
    ctx.settings.install(PowerMtaSettings(_env_file=None, **pmta_env(target)))  # type: ignore[call-arg]
    client = login(Role.ADMIN)
    page = client.get("/ui/powermta")
    assert page.status_code == 200
    assert "[redacted]" in page.text and PASSWORD not in page.text
    assert "Lint:" in page.text and "no error" in page.text
    assert "vmta-marketing-1" in page.text  # in the diff against the (empty) deployed directory
    token = csrf_of(page.text)
    unconfirmed = client.post("/ui/powermta/deploy", data={"csrf_token": token})
    assert unconfirmed.status_code == 422 and "Tick the confirmation box" in unconfirmed.text
    assert not (target / "config").exists()
    done = client.post("/ui/powermta/deploy", data={"csrf_token": token, "confirm": "yes"})
    assert done.status_code == 303, re.findall(r'role="alert">([^<]*)', done.text)
    assert "PowerMTA reloaded." in client.get("/ui/powermta").text
    assert (target / "config").is_file()
    assert "The deployed files are what the engine renders" in client.get("/ui/powermta").text


@pytest.mark.usefixtures("guide_db")
def test_only_admins_deploy(
    login: Callable[[Role], TestClient],
    ctx: AppContext,
    tmp_path: Path,
) -> None:
    ctx.settings.install(PowerMtaSettings(_env_file=None, **pmta_env(tmp_path / "pmta")))  # type: ignore[call-arg]
    client = login(Role.OPERATOR)
    page = client.get("/ui/powermta").text
    assert 'action="/ui/powermta/deploy"' not in page
    refused = client.post("/ui/powermta/deploy", data={"csrf_token": csrf_of(page), "confirm": "yes"})
    assert refused.status_code == 403 and "needs the admin role" in refused.text
    assert not (tmp_path / "pmta" / "config").exists()
