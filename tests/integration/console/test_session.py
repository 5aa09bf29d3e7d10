"""The console's session: login form, cookie flags, CSRF on every form, logout, roles, the user
lifecycle applying at once, and the audit of console writes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import select

from email_engine.auth import security
from email_engine.auth import service as auth_service
from email_engine.auth.models import AuditEntry
from email_engine.auth.roles import Role
from email_engine.clock import utcnow
from email_engine.console import session as cookies
from email_engine.context import AppContext
from tests.integration.console.conftest import csrf_of
from tests.support.factories import USER_PASSWORD


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
        "/ui/login", data={"email": email, "password": USER_PASSWORD, "csrf_token": token, "next": "/ui/"}
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
    answer = browser_client.post("/ui/login", data={"email": email, "password": USER_PASSWORD})
    assert answer.status_code == 403
    assert "ee_session" not in answer.headers.get("set-cookie", "")


def test_next_never_leaves_the_console(browser_client: TestClient, make_user: Callable[[Role], str]) -> None:
    email = make_user(Role.VIEWER)
    token = csrf_of(browser_client.get("/ui/login").text)
    answer = browser_client.post(
        "/ui/login",
        data={"email": email, "password": USER_PASSWORD, "csrf_token": token, "next": "//evil.example/ui/"},
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
            "/ui/login",
            data={"email": "operator@example.org", "password": USER_PASSWORD, "csrf_token": token},
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


def _token_of(ctx: AppContext, username: str, *, issued_ago: timedelta, logged_in_ago: timedelta) -> str:
    """An access token of the normal lifetime made as if issued ``issued_ago`` (the clock set back)."""
    with ctx.session_factory() as session:
        user = auth_service.find_user(session, username)
        assert ctx.settings.jwt_secret_key is not None
        return security.encode_token(
            user_id=user.id,
            role=Role(user.role),
            token_type="access",
            secret=ctx.settings.jwt_secret_key.get_secret_value(),
            now=utcnow() - issued_ago,
            ttl=timedelta(minutes=ctx.settings.jwt_access_ttl_minutes),
            version=user.token_version,
            authenticated_at=utcnow() - logged_in_ago,
        )


def _claims(ctx: AppContext, cookie_header: str) -> security.TokenClaims:
    token = cookie_header.split(";", 1)[0].split("=", 1)[1]
    assert ctx.settings.jwt_secret_key is not None
    return security.decode_token(
        token, secret=ctx.settings.jwt_secret_key.get_secret_value(), expected_type="access", now=utcnow()
    )


def test_an_active_session_is_renewed_past_half_its_life(
    browser_client: TestClient, make_user: Callable[[Role], str], ctx: AppContext
) -> None:
    make_user(Role.OPERATOR)
    ttl = ctx.settings.jwt_access_ttl_minutes
    # Early in its life the token is kept as it is.
    young = _token_of(ctx, "operator", issued_ago=timedelta(minutes=1), logged_in_ago=timedelta(minutes=1))
    answer = _get(browser_client, "/ui/ips", young)
    assert answer.status_code == 200
    assert not [h for h in answer.headers.get_list("set-cookie") if h.startswith("ee_session=")]

    # Past half its life (a minute before it ends) a page gives a fresh token of the whole lifetime,
    # for the same user and the first login's time.
    login_time = timedelta(hours=2)
    old = _token_of(ctx, "operator", issued_ago=timedelta(minutes=ttl - 1), logged_in_ago=login_time)
    answer = _get(browser_client, "/ui/ips", old)
    assert answer.status_code == 200
    cookie = _cookie_header(answer, "ee_session")
    for flag in ("Secure", "HttpOnly", "SameSite=strict", "Path=/ui", f"Max-Age={ttl * 60}"):
        assert flag in cookie
    claims = _claims(ctx, cookie)
    assert claims.expires_at - utcnow() > timedelta(minutes=ttl - 1)
    assert abs(claims.authenticated_at - (utcnow() - login_time)) < timedelta(seconds=5)
    with ctx.session_factory() as session:
        assert claims.user_id == auth_service.find_user(session, "operator").id
    # The CSRF value is kept: forms of pages already open still work.
    assert not [h for h in answer.headers.get_list("set-cookie") if h.startswith("ee_csrf=")]

    # An idle session (its token ended) is not renewed: back to the login page.
    idle = _token_of(ctx, "operator", issued_ago=timedelta(minutes=ttl + 1), logged_in_ago=login_time)
    answer = _get(browser_client, "/ui/ips", idle)
    assert answer.status_code == 303 and "expired" in answer.headers["location"]

    # Renewal stops JWT_REFRESH_TTL_DAYS after the login: the token is used to its end, not renewed.
    long_ago = timedelta(days=ctx.settings.jwt_refresh_ttl_days, minutes=1)
    last = _token_of(ctx, "operator", issued_ago=timedelta(minutes=ttl - 1), logged_in_ago=long_ago)
    answer = _get(browser_client, "/ui/ips", last)
    assert answer.status_code == 200
    assert not [h for h in answer.headers.get_list("set-cookie") if h.startswith("ee_session=")]


def test_revoke_disable_and_logout_apply_at_once_to_a_renewed_session(
    browser_client: TestClient, make_user: Callable[[Role], str], ctx: AppContext
) -> None:
    make_user(Role.OPERATOR)
    ttl = ctx.settings.jwt_access_ttl_minutes
    old = _token_of(ctx, "operator", issued_ago=timedelta(minutes=ttl - 1), logged_in_ago=timedelta(hours=1))
    answer = _get(browser_client, "/ui/ips", old)
    renewed = _cookie_header(answer, "ee_session").split(";", 1)[0].split("=", 1)[1]
    assert renewed != old
    assert _get(browser_client, "/ui/ips", renewed).status_code == 200

    # Logout with a token past half its life clears the cookie (it is not renewed on the way out).
    value = cookies.new_csrf_value()
    browser_client.cookies.clear()
    answer = browser_client.post(
        "/ui/logout",
        data={"csrf_token": cookies.csrf_token(ctx.settings, value)},
        headers={"Cookie": f"ee_csrf={value}; ee_session={old}"},
    )
    assert answer.status_code == 303
    sessions = [h for h in answer.headers.get_list("set-cookie") if h.startswith("ee_session=")]
    assert len(sessions) == 1 and "Max-Age=0" in sessions[0]

    # Revoking the user's tokens ends the renewed token too, and nothing renews it.
    with ctx.session_factory() as session:
        user = auth_service.find_user(session, "operator")
        auth_service.revoke_tokens(session, user_id=user.id, now=utcnow())
        session.commit()
    for token in (old, renewed):
        answer = _get(browser_client, "/ui/ips", token)
        assert answer.status_code == 303 and "revoked" in answer.headers["location"]

    # A disabled account: a token past half its life is refused, not renewed.
    fresh = _token_of(ctx, "operator", issued_ago=timedelta(minutes=ttl - 1), logged_in_ago=timedelta(0))
    assert _get(browser_client, "/ui/ips", fresh).status_code == 200
    with ctx.session_factory() as session:
        user = auth_service.find_user(session, "operator")
        auth_service.update_user(session, user_id=user.id, disabled=True, now=utcnow())
        session.commit()
    answer = _get(browser_client, "/ui/ips", fresh)
    assert answer.status_code == 303 and "disabled" in answer.headers["location"]
    sessions = [h for h in answer.headers.get_list("set-cookie") if h.startswith("ee_session=")]
    assert all("Max-Age=0" in h or 'ee_session=""' in h for h in sessions)


def _get(client: TestClient, path: str, session_token: str) -> Response:
    """GET with only the given session token (the client's cookie jar would replace the header)."""
    client.cookies.clear()
    return client.get(path, headers={"Cookie": f"ee_session={session_token}"})
