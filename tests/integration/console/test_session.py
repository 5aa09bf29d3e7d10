"""The console's session: login form, cookie flags, CSRF on every form, logout, roles, the user
lifecycle applying at once, and the audit of console writes."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from email_engine.auth import service as auth_service
from email_engine.auth.models import AuditEntry
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.context import AppContext
from tests.integration.console.conftest import PASSWORD, csrf_of


def _cookie_header(answer: object, name: str) -> str:
    headers = answer.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    found = [h for h in headers if h.startswith(f"{name}=")]
    assert found, f"no {name} cookie in {headers}"
    return found[0]


def test_login_form_is_labelled_and_sets_a_strict_csrf_cookie(browser_client: TestClient) -> None:
    answer = browser_client.get("/ui/login")
    assert answer.status_code == 200
    assert '<label for="email">Email</label>' in answer.text
    assert '<label for="password">Password</label>' in answer.text
    cookie = _cookie_header(answer, "ee_csrf")
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/ui"):
        assert flag in cookie
    # Nothing on the page comes from another host.
    assert "http://" not in answer.text and "https://" not in answer.text
    assert "default-src 'self'" in answer.headers["content-security-policy"]


def test_pages_need_a_session(browser_client: TestClient) -> None:
    answer = browser_client.get("/ui/")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/ui/login?next=/ui/")


def test_login_sets_the_session_cookie_and_shows_the_overview(
    browser_client: TestClient, make_user: Callable[[Role], str], ctx: AppContext
) -> None:
    email = make_user(Role.OPERATOR)
    token = csrf_of(browser_client.get("/ui/login").text)
    answer = browser_client.post(
        "/ui/login", data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "/ui/"}
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/ui/"
    cookie = _cookie_header(answer, "ee_session")
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/ui", "Max-Age=900"):
        assert flag in cookie
    # The CSRF value is replaced at login (no fixation from a value planted before).
    assert csrf_of(browser_client.get("/ui/login").text) != token
    overview = browser_client.get("/ui/")
    assert overview.status_code == 200
    assert "Preflight:" in overview.text and ("GO</span>" in overview.text)
    assert "operator" in overview.text
    with ctx.session_factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target == "/ui/login")).one()
    assert (entry.actor, entry.actor_kind, entry.action, entry.status_code) == (
        "operator",
        "user",
        "POST",
        303,
    )
    assert entry.details == {"console": "login", "api": "POST /api/v1/auth/login"}


def test_a_wrong_password_shows_the_apis_sentence(
    browser_client: TestClient, make_user: Callable[[Role], str]
) -> None:
    email = make_user(Role.VIEWER)
    token = csrf_of(browser_client.get("/ui/login").text)
    answer = browser_client.post(
        "/ui/login", data={"email": email, "password": "not the password", "csrf_token": token}
    )
    assert answer.status_code == 401
    assert "The email or password is wrong, or the account is disabled." in answer.text
    assert "ee_session" not in answer.headers.get("set-cookie", "")


def test_login_without_the_forms_token_is_refused(
    browser_client: TestClient, make_user: Callable[[Role], str]
) -> None:
    email = make_user(Role.ADMIN)
    browser_client.get("/ui/login")
    answer = browser_client.post("/ui/login", data={"email": email, "password": PASSWORD})
    assert answer.status_code == 403
    assert "ee_session" not in answer.headers.get("set-cookie", "")


def test_next_never_leaves_the_console(browser_client: TestClient, make_user: Callable[[Role], str]) -> None:
    email = make_user(Role.VIEWER)
    token = csrf_of(browser_client.get("/ui/login").text)
    answer = browser_client.post(
        "/ui/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token, "next": "//evil.example/ui/"},
    )
    assert answer.headers["location"] == "/ui/"


def test_a_form_without_the_csrf_token_is_refused(login: Callable[[Role], TestClient]) -> None:
    client = login(Role.ADMIN)
    assert client.post("/ui/logout").status_code == 403
    assert client.post("/ui/logout", data={"csrf_token": "0" * 64}).status_code == 403
    # Still logged in: nothing was done.
    assert client.get("/ui/").status_code == 200


def test_logout_ends_the_session(login: Callable[[Role], TestClient], ctx: AppContext) -> None:
    client = login(Role.VIEWER)
    token = csrf_of(client.get("/ui/").text)
    answer = client.post("/ui/logout", data={"csrf_token": token})
    assert answer.status_code == 303 and answer.headers["location"].startswith("/ui/login")
    assert "Max-Age=0" in _cookie_header(answer, "ee_session")
    assert client.get("/ui/").status_code == 303
    with ctx.session_factory() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.target == "/ui/logout")).all()
    assert [(e.actor, e.status_code, e.details) for e in entry] == [("viewer", 303, {"console": "logout"})]


def test_disable_and_revoke_end_the_console_session_at_once(
    login: Callable[[Role], TestClient], ctx: AppContext
) -> None:
    client = login(Role.OPERATOR)
    assert client.get("/ui/").status_code == 200
    with ctx.session_factory() as session:
        user = auth_service.find_user(session, "operator")
        auth_service.revoke_tokens(session, user_id=user.id, now=utcnow())
        session.commit()
    answer = client.get("/ui/")
    assert answer.status_code == 303
    assert "revoked" in answer.headers["location"]

    # Log in again, then an admin disables the account: the next page is the login page.
    token = csrf_of(client.get("/ui/login").text)
    assert (
        client.post(
            "/ui/login", data={"email": "operator@example.org", "password": PASSWORD, "csrf_token": token}
        ).status_code
        == 303
    )
    assert client.get("/ui/").status_code == 200
    with ctx.session_factory() as session:
        user = auth_service.find_user(session, "operator")
        auth_service.update_user(session, user_id=user.id, disabled=True, now=utcnow())
        session.commit()
    answer = client.get("/ui/")
    assert answer.status_code == 303 and "disabled" in answer.headers["location"]


def test_an_expired_session_goes_back_to_the_login_page(
    browser_client: TestClient, make_user: Callable[[Role], str], ctx: AppContext
) -> None:
    from datetime import timedelta

    from email_engine.auth import security

    make_user(Role.ADMIN)
    with ctx.session_factory() as session:
        user = auth_service.find_user(session, "admin")
        assert ctx.settings.jwt_secret_key is not None
        token = security.encode_token(
            user_id=user.id,
            role=Role.ADMIN,
            token_type="access",
            secret=ctx.settings.jwt_secret_key.get_secret_value(),
            now=utcnow() - timedelta(hours=1),
            ttl=timedelta(minutes=15),
            version=user.token_version,
        )
    answer = browser_client.get("/ui/ips", headers={"Cookie": f"ee_session={token}"})
    assert answer.status_code == 303
    assert (
        answer.headers["location"]
        == "/ui/login?next=/ui/ips&reason=Your%20session%20expired%3B%20log%20in%20again."
    )
    page = browser_client.get(answer.headers["location"])
    assert "Your session expired; log in again." in page.text
