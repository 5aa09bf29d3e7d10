"""Console fixtures: users of each role and a TestClient on https://testserver (the session cookie is
``Secure``, so the client must speak HTTPS for its cookie jar to send it back)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from email_engine.auth.roles import Role
from tests.support.factories import USER_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]*)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


@pytest.fixture
def browser_client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def login(browser_client: TestClient, make_user: Callable[[Role], str]) -> Callable[[Role], TestClient]:
    """Log a fresh user of ``role`` in through the login form; the client then holds the session."""

    def log_in(role: Role) -> TestClient:
        email = make_user(role)
        form = browser_client.get("/ui/login")
        answer = browser_client.post(
            "/ui/login",
            data={
                "email": email,
                "password": USER_PASSWORD,
                "csrf_token": csrf_of(form.text),
                "next": "/ui/",
            },
        )
        assert answer.status_code == 303, answer.text
        return browser_client

    return log_in
