"""POST /api/v1/validation/emails through the real app, DNS from the loopback server."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import build_context
from email_engine.main import create_app
from email_engine.validation.settings import ValidationSettings
from tests.conftest import make_settings
from tests.support.dns_server import DnsServer

URL = "/api/v1/validation/emails"


def test_results_in_input_order_with_counts(client: TestClient, operator_headers: dict[str, str]) -> None:
    emails = [
        "Jane.Doe@GOOD.mail.test",
        "info@good.mail.test",
        "jane@nullmx.mail.test",
        "not an address",
        "jane@slow.test",
        "noreply@good.mail.test",
        "jane@mailinator.com",
        "jane@gmal.com",
    ]
    response = client.post(URL, json={"emails": emails}, headers=operator_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {k: body[k] for k in ("total", "valid", "invalid", "risky", "unknown")} == {
        "total": 8,
        "valid": 1,
        "invalid": 4,
        "risky": 2,
        "unknown": 1,
    }
    results = body["results"]
    assert [r["email"] for r in results] == emails
    assert [(r["verdict"], r["reasons"]) for r in results] == [
        ("valid", []),
        ("risky", ["role"]),
        ("invalid", ["null_mx"]),
        ("invalid", ["syntax"]),
        ("unknown", ["dns_timeout"]),
        ("invalid", ["blocked_prefix"]),
        ("invalid", ["disposable"]),
        ("risky", ["typo"]),
    ]
    first = results[0]
    assert first["normalized"] == "Jane.Doe@good.mail.test"
    assert first["valid"] is True
    assert first["mx"] == ["mx1.good.mail.test", "mx2.good.mail.test"]
    assert results[3]["normalized"] is None and results[3]["detail"]
    assert results[4]["valid"] is False
    assert results[7]["suggestion"] == "jane@gmail.com"


def test_duplicates_are_reported_once_per_position(
    client: TestClient, operator_headers: dict[str, str], dns_server: DnsServer
) -> None:
    emails = ["jane@good.mail.test", "bob@good.mail.test", "jane@good.mail.test", "jane@good.mail.test"]
    body = client.post(URL, json={"emails": emails}, headers=operator_headers).json()
    assert body["total"] == 4
    assert [r["email"] for r in body["results"]] == emails
    assert dns_server.query_count("good.mail.test", "MX") == 1


def _error(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    detail: str = response.json()["detail"]
    return detail


def test_bad_bodies_get_clear_errors(client: TestClient, operator_headers: dict[str, str]) -> None:
    too_many = ["jane@good.mail.test"] * 10_001
    assert "at most 10,000" in _error(
        client.post(URL, json={"emails": too_many}, headers=operator_headers), 422
    )
    assert "list of strings" in _error(
        client.post(URL, json={"emails": "a@b.example"}, headers=operator_headers), 422
    )
    assert "dictionary" in _error(client.post(URL, json=["a@example.com"], headers=operator_headers), 422)
    assert "emails" in _error(
        client.post(URL, json={"emails": ["a@example.com", 5]}, headers=operator_headers), 422
    )
    assert "emails" in _error(client.post(URL, json={"emails": [None]}, headers=operator_headers), 422)
    assert "empty" in _error(client.post(URL, json={"emails": []}, headers=operator_headers), 422)
    assert "emails" in _error(client.post(URL, json={}, headers=operator_headers), 422)
    assert (
        "extra"
        in _error(
            client.post(URL, json={"emails": ["a@example.com"], "x": 1}, headers=operator_headers), 422
        ).lower()
    )
    malformed = client.post(
        URL, content=b'{"emails": [', headers={**operator_headers, "content-type": "application/json"}
    )
    assert malformed.status_code == 400
    huge = client.post(
        URL,
        content=b'{"emails": ["' + b"a" * (5 * 1024 * 1024) + b'"]}',
        headers={**operator_headers, "content-type": "application/json"},
    )
    assert huge.status_code == 413
    assert "bytes" in huge.json()["detail"]


def test_hostile_entries_are_invalid_results_not_errors(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    emails = [
        "",
        "a" * 5000 + "@good.mail.test",
        "jane@good.mail.test\x7fx",
        "<script>@good.mail.test",
        "\u202ejane@good.mail.test",
    ]
    body = client.post(URL, json={"emails": emails}, headers=operator_headers).json()
    assert [r["verdict"] for r in body["results"]] == ["invalid"] * 5
    assert all(r["reasons"] == ["syntax"] for r in body["results"])
    # A NUL (or another C0 control character) never reaches the validator: the request guard refuses it.
    nul = client.post(
        URL, json={"emails": ["ok@good.mail.test", "jane@good.mail.test\x00"]}, headers=operator_headers
    )
    assert nul.status_code == 422 and nul.json()["errors"][0]["field"] == "body.emails.1"


def test_authentication_and_roles(client: TestClient, viewer_headers: dict[str, str]) -> None:
    assert client.post(URL, json={"emails": ["jane@good.mail.test"]}).status_code == 401
    assert (
        client.post(URL, json={"emails": ["jane@good.mail.test"]}, headers=viewer_headers).status_code == 403
    )


def test_suppressed_addresses_and_domains_are_invalid(
    client: TestClient, operator_headers: dict[str, str], session: Session
) -> None:
    from email_engine.feedback.suppression import add_suppression

    add_suppression(
        session, value="gone@good.mail.test", reason="hard_bounce", source="test", note=None, now=utcnow()
    )
    add_suppression(
        session, value="mixedmx.mail.test", reason="manual", source="test", note=None, now=utcnow()
    )
    session.commit()
    emails = ["gone@good.mail.test", "Gone@good.mail.test", "anyone@mixedmx.mail.test", "jane@good.mail.test"]
    results = client.post(URL, json={"emails": emails}, headers=operator_headers).json()["results"]
    assert [(r["verdict"], r["reasons"]) for r in results] == [
        ("invalid", ["suppressed"]),
        ("invalid", ["suppressed"]),
        ("invalid", ["suppressed"]),
        ("valid", []),
    ]


def test_rate_limited_at_ten_per_minute(
    database_url: str, redis_url: str | None, dns_server: DnsServer, validation_options: ValidationSettings
) -> None:
    limited: Settings = make_settings(
        database_url, redis_url, DNS_NAMESERVERS=dns_server.nameserver, RATE_LIMIT_ENABLED=True
    )
    context = build_context(limited)
    context.settings.install(validation_options)
    try:
        with TestClient(create_app(ctx=context)) as limited_client:
            assert limited.api_key is not None
            headers = {"X-API-Key": limited.api_key.get_secret_value()}
            codes = [
                limited_client.post(
                    URL, json={"emails": ["jane@good.mail.test"]}, headers=headers
                ).status_code
                for _ in range(11)
            ]
        assert codes == [200] * 10 + [429]
    finally:
        if context.redis is not None:
            keys = list(context.redis.scan_iter(match=f"{limited.redis_key_prefix}*"))
            if keys:
                context.redis.delete(*keys)
        context.close()


def test_timed_out_domain_is_unknown_and_asked_again_next_request(
    client: TestClient, operator_headers: dict[str, str], dns_server: DnsServer
) -> None:
    asked = 0
    for _attempt in (1, 2):
        body = client.post(
            URL, json={"emails": ["jane@slow.test", "jane@good.mail.test"]}, headers=operator_headers
        ).json()
        assert [(r["verdict"], r["valid"], r["reasons"]) for r in body["results"]] == [
            ("unknown", False, ["dns_timeout"]),
            ("valid", True, []),
        ]
        assert dns_server.query_count("slow.test", "MX") > asked  # asked again, never served from a cache
        asked = dns_server.query_count("slow.test", "MX")
    assert dns_server.query_count("good.mail.test", "MX") == 1  # the answer was cached
