"""The inventory API end to end on the real app and database."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.ips.models import IpTransition, Pool, SendingDomain, SendingIp

IP = {
    "address": "192.0.2.10",
    "hostname": "mta1.example.com",
    "purpose": "cold",
    "vmta_name": "vmta-1",
    "mailwizz_server_id": 7,
}
SQLISH = "x'); DROP TABLE sending_ip; --"


def _count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _add_ip(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/ips", json={**IP, **overrides}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _move(client: TestClient, headers: dict[str, str], ip_id: int, to: str, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/ips/{ip_id}/transition",
        json={"to": to, "reason": f"test: to {to}", **extra},
        headers=headers,
    )


def test_create_read_update_delete_ip(client: TestClient, operator_headers: dict[str, str]) -> None:
    ip = _add_ip(client, operator_headers, address="2001:DB8::0010", notes="rack 4")
    assert ip["address"] == "2001:db8::10"
    assert ip["state"] == "standby"
    got = client.get(f"/api/v1/ips/{ip['id']}", headers=operator_headers).json()
    assert got["vmta_name"] == "vmta-1" and got["mailwizz_server_id"] == 7
    patched = client.patch(
        f"/api/v1/ips/{ip['id']}",
        json={"hostname": "MTA2.Example.com", "mailwizz_server_id": None},
        headers=operator_headers,
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["hostname"] == "mta2.example.com"
    assert patched.json()["mailwizz_server_id"] is None
    assert patched.json()["notes"] == "rack 4"  # untouched
    assert client.delete(f"/api/v1/ips/{ip['id']}", headers=operator_headers).status_code == 204
    assert client.get(f"/api/v1/ips/{ip['id']}", headers=operator_headers).status_code == 404


def test_state_cannot_be_set_by_patch(client: TestClient, operator_headers: dict[str, str]) -> None:
    ip = _add_ip(client, operator_headers)
    response = client.patch(f"/api/v1/ips/{ip['id']}", json={"state": "active"}, headers=operator_headers)
    assert response.status_code == 422
    assert client.get(f"/api/v1/ips/{ip['id']}", headers=operator_headers).json()["state"] == "standby"


def test_list_filters_and_pagination(client: TestClient, operator_headers: dict[str, str]) -> None:
    pool = client.post("/api/v1/pools", json={"name": "cold-1", "purpose": "cold"}, headers=operator_headers)
    pool_id = pool.json()["id"]
    for n in range(5):
        _add_ip(
            client,
            operator_headers,
            address=f"192.0.2.{20 + n}",
            vmta_name=f"vmta-{20 + n}",
            mailwizz_server_id=None,
            pool_id=pool_id if n < 2 else None,
            purpose="cold" if n < 3 else "marketing",
        )
    page = client.get("/api/v1/ips?limit=2&offset=1", headers=operator_headers).json()
    assert (page["total"], page["limit"], page["offset"], len(page["items"])) == (5, 2, 1, 2)
    assert [i["address"] for i in page["items"]] == ["192.0.2.21", "192.0.2.22"]
    assert client.get(f"/api/v1/ips?pool_id={pool_id}", headers=operator_headers).json()["total"] == 2
    assert client.get("/api/v1/ips?purpose=marketing", headers=operator_headers).json()["total"] == 2
    first = page["items"][0]["id"]
    assert _move(client, operator_headers, first, "warming").status_code == 201
    warming = client.get("/api/v1/ips?state=warming", headers=operator_headers).json()
    assert [i["id"] for i in warming["items"]] == [first]
    for bad in ("state=paused", "purpose=bulk", "limit=0", "limit=501", "offset=-1", "pool_id=0"):
        assert client.get(f"/api/v1/ips?{bad}", headers=operator_headers).status_code == 422, bad


BAD_IP_FIELDS: list[tuple[str, Any]] = [
    ("address", "::ffff:192.0.2.1"),
    ("address", "192.0.2.300"),
    ("address", "127.0.0.1"),
    ("address", "not-an-ip"),
    ("address", SQLISH),
    ("hostname", "mta 1.example.com"),
    ("hostname", "mta1.example.com\n"),
    ("hostname", "mta1\n.example.com"),
    ("hostname", "mta}.example.com"),
    ("hostname", '"mta".example.com'),
    ("hostname", SQLISH),
    ("vmta_name", "VMTA 1"),
    ("vmta_name", "vmta}"),
    ("vmta_name", "vmta-1\n"),
    ("vmta_name", SQLISH),
    ("purpose", "bulk"),
    ("mailwizz_server_id", -1),
    ("mailwizz_server_id", 0),
    ("mailwizz_server_id", 10**12),
    ("mailwizz_server_id", "7; DROP TABLE mw_delivery_server"),
    ("notes", "nul\x00byte"),
    ("notes", "x" * 5000),
    ("pool_id", 0),
    ("state", "active"),
    ("unexpected", "field"),
]


def test_bad_ip_input_is_refused_and_nothing_written(
    client: TestClient, operator_headers: dict[str, str], session: Session
) -> None:
    # One test for the whole table: each case is a full request against the real app.
    for field, value in BAD_IP_FIELDS:
        response = client.post("/api/v1/ips", json={**IP, field: value}, headers=operator_headers)
        assert response.status_code == 422, (field, value, response.text)
        body = response.json()
        assert body["error"] == "validation_error", (field, value)
        assert field in body["detail"], (field, value, body["detail"])
    assert _count(session, SendingIp) == 0
    assert _count(session, IpTransition) == 0


def test_sql_looking_notes_are_stored_as_plain_text(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    ip = _add_ip(client, operator_headers, notes=SQLISH)
    assert client.get(f"/api/v1/ips/{ip['id']}", headers=operator_headers).json()["notes"] == SQLISH
    assert client.get("/api/v1/ips", headers=operator_headers).json()["total"] == 1


@pytest.mark.parametrize(
    ("overrides", "what"),
    [
        ({"vmta_name": "vmta-2", "mailwizz_server_id": 8}, "address"),
        ({"address": "192.0.2.11", "mailwizz_server_id": 8}, "VMTA name"),
        ({"address": "192.0.2.11", "vmta_name": "vmta-2"}, "MailWizz delivery-server id"),
    ],
)
def test_duplicates_are_409(
    client: TestClient,
    operator_headers: dict[str, str],
    session: Session,
    overrides: dict[str, Any],
    what: str,
) -> None:
    _add_ip(client, operator_headers)
    response = client.post("/api/v1/ips", json={**IP, **overrides}, headers=operator_headers)
    assert response.status_code == 409, response.text
    assert what in response.json()["detail"]
    assert _count(session, SendingIp) == 1


def test_same_address_written_differently_is_a_duplicate(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    _add_ip(client, operator_headers, address="2001:db8::10")
    response = client.post(
        "/api/v1/ips",
        json={**IP, "address": "2001:0DB8:0:0::0010", "vmta_name": "vmta-9", "mailwizz_server_id": 9},
        headers=operator_headers,
    )
    assert response.status_code == 409


def test_lifecycle_through_the_api(client: TestClient, operator_headers: dict[str, str]) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    for state in ("warming", "active", "quarantined", "resting", "warming", "active", "standby", "active"):
        response = _move(client, operator_headers, ip_id, state)
        assert response.status_code == 201, (state, response.text)
        assert response.json()["to_state"] == state
    history = client.get(f"/api/v1/ips/{ip_id}/history", headers=operator_headers).json()
    assert history["total"] == 9  # creation + 8 moves
    newest = history["items"][0]
    assert (newest["from_state"], newest["to_state"], newest["forced"]) == ("standby", "active", False)
    assert newest["actor"].startswith("api_key:") and newest["reason"] == "test: to active"
    assert history["items"][-1]["from_state"] is None


def test_transitions_not_in_the_table_are_409_and_write_nothing(
    client: TestClient, operator_headers: dict[str, str], session: Session
) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    assert _move(client, operator_headers, ip_id, "quarantined").status_code == 201
    response = _move(client, operator_headers, ip_id, "active")
    assert response.status_code == 409
    assert "may go to" in response.json()["detail"]
    assert _count(session, IpTransition) == 2
    assert client.get(f"/api/v1/ips/{ip_id}", headers=operator_headers).json()["state"] == "quarantined"


def test_cold_standby_cannot_go_active(client: TestClient, operator_headers: dict[str, str]) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    response = _move(client, operator_headers, ip_id, "active")
    assert response.status_code == 409
    assert "cold" in response.json()["detail"]


BAD_TRANSITIONS: list[dict[str, Any]] = [
    {"to": "paused", "reason": "x"},
    {"to": "active'; --", "reason": "x"},
    {"to": "warming"},
    {"to": "warming", "reason": "   "},
    {"to": "warming", "reason": "x" * 2000},
    {"to": "warming", "reason": "x", "force": "yes please"},
    {"to": "warming", "reason": "x", "extra": 1},
]


def test_bad_transition_requests_are_422(
    client: TestClient, operator_headers: dict[str, str], session: Session
) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    for body in BAD_TRANSITIONS:
        response = client.post(f"/api/v1/ips/{ip_id}/transition", json=body, headers=operator_headers)
        assert response.status_code == 422, (body, response.text)
    assert _count(session, IpTransition) == 1


def test_force_needs_admin_and_is_recorded(
    client: TestClient, operator_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    assert _move(client, operator_headers, ip_id, "retired").status_code == 201
    refused = _move(client, operator_headers, ip_id, "standby", force=True)
    assert refused.status_code == 403
    forced = _move(client, admin_headers, ip_id, "standby", force=True)
    assert forced.status_code == 201, forced.text
    assert forced.json()["forced"] is True
    # Reinstating a retired IP without force goes through warming.
    assert _move(client, operator_headers, ip_id, "retired").status_code == 201
    assert _move(client, operator_headers, ip_id, "warming").status_code == 201


def test_viewer_reads_but_cannot_write(
    client: TestClient, operator_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    assert client.get("/api/v1/ips", headers=viewer_headers).status_code == 200
    assert client.get(f"/api/v1/ips/{ip_id}/history", headers=viewer_headers).status_code == 200
    assert client.get(f"/api/v1/ips/{ip_id}/actuation", headers=viewer_headers).status_code == 200
    assert _move(client, viewer_headers, ip_id, "warming").status_code == 403
    assert (
        client.post("/api/v1/ips", json={**IP, "address": "192.0.2.99"}, headers=viewer_headers).status_code
        == 403
    )
    assert client.get("/api/v1/ips").status_code == 401


def test_unknown_ids_are_404(client: TestClient, operator_headers: dict[str, str]) -> None:
    for path in (
        "/api/v1/ips/999",
        "/api/v1/ips/999/history",
        "/api/v1/ips/999/actuation",
        "/api/v1/pools/9",
    ):
        assert client.get(path, headers=operator_headers).status_code == 404, path
    assert _move(client, operator_headers, 999, "warming").status_code == 404
    assert client.get(f"/api/v1/ips/{2**70}", headers=operator_headers).status_code == 422


def test_delete_refuses_an_ip_with_a_history(client: TestClient, operator_headers: dict[str, str]) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    _move(client, operator_headers, ip_id, "warming")
    response = client.delete(f"/api/v1/ips/{ip_id}", headers=operator_headers)
    assert response.status_code == 409
    assert "retire it" in response.json()["detail"]


def test_pools_crud_purpose_rules_and_duplicates(
    client: TestClient, operator_headers: dict[str, str], session: Session
) -> None:
    created = client.post(
        "/api/v1/pools", json={"name": "tx-1", "purpose": "transactional"}, headers=operator_headers
    )
    assert created.status_code == 201
    pool_id = created.json()["id"]
    dup = client.post("/api/v1/pools", json={"name": "tx-1", "purpose": "cold"}, headers=operator_headers)
    assert dup.status_code == 409
    for bad in (
        {"name": "TX 1", "purpose": "cold"},
        {"name": "tx}", "purpose": "cold"},
        {"name": SQLISH, "purpose": "cold"},
    ):
        assert client.post("/api/v1/pools", json=bad, headers=operator_headers).status_code == 422
    # A cold IP may not join a transactional pool.
    mixed = client.post("/api/v1/ips", json={**IP, "pool_id": pool_id}, headers=operator_headers)
    assert mixed.status_code == 422
    assert "transactional" in mixed.json()["detail"]
    ip = _add_ip(client, operator_headers, purpose="transactional", pool_id=pool_id)
    assert client.delete(f"/api/v1/pools/{pool_id}", headers=operator_headers).status_code == 409
    assert (
        client.patch(
            f"/api/v1/pools/{pool_id}", json={"purpose": "cold"}, headers=operator_headers
        ).status_code
        == 409
    )
    renamed = client.patch(f"/api/v1/pools/{pool_id}", json={"name": "tx-main"}, headers=operator_headers)
    assert renamed.json()["name"] == "tx-main"
    client.patch(f"/api/v1/ips/{ip['id']}", json={"pool_id": None}, headers=operator_headers)
    assert client.delete(f"/api/v1/pools/{pool_id}", headers=operator_headers).status_code == 204
    assert _count(session, Pool) == 0


def test_domains_crud_and_validation(
    client: TestClient, operator_headers: dict[str, str], session: Session
) -> None:
    body = {
        "name": "Mail.Example.com",
        "dkim_selector": "S2026",
        "bounce_domain": "bounce.example.com",
        "tracking_domain": "t.example.com",
    }
    created = client.post("/api/v1/domains", json=body, headers=operator_headers)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "mail.example.com" and created.json()["dkim_selector"] == "s2026"
    assert client.post("/api/v1/domains", json=body, headers=operator_headers).status_code == 409
    for field, value in (
        ("name", "mail example.com"),
        ("name", SQLISH),
        ("dkim_selector", "s 1"),
        ("dkim_selector", "s1}"),
        ("bounce_domain", "bounce.example.com\n"),
        ("tracking_domain", "{t}.example.com"),
    ):
        response = client.post(
            "/api/v1/domains",
            json={**body, "name": "other.example.org", field: value},
            headers=operator_headers,
        )
        assert response.status_code == 422, (field, value)
    domain_id = created.json()["id"]
    patched = client.patch(
        f"/api/v1/domains/{domain_id}", json={"tracking_domain": None}, headers=operator_headers
    )
    assert (
        patched.json()["tracking_domain"] is None and patched.json()["bounce_domain"] == "bounce.example.com"
    )
    page = client.get("/api/v1/domains", headers=operator_headers).json()
    assert page["total"] == 1
    assert client.delete(f"/api/v1/domains/{domain_id}", headers=operator_headers).status_code == 204
    assert _count(session, SendingDomain) == 0


def test_writes_are_audited(
    client: TestClient, operator_headers: dict[str, str], admin_headers: dict[str, str]
) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    _move(client, operator_headers, ip_id, "warming")
    audit = client.get("/api/v1/audit", headers=admin_headers).json()
    targets = [entry["target"] for entry in audit["items"]]
    assert any(target.endswith(f"/api/v1/ips/{ip_id}/transition") for target in targets)


def test_sql_looking_reason_is_recorded_verbatim(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    ip_id = _add_ip(client, operator_headers)["id"]
    response = client.post(
        f"/api/v1/ips/{ip_id}/transition", json={"to": "warming", "reason": SQLISH}, headers=operator_headers
    )
    assert response.status_code == 201
    history = client.get(f"/api/v1/ips/{ip_id}/history", headers=operator_headers).json()
    assert history["items"][0]["reason"] == SQLISH
    assert client.get("/api/v1/ips", headers=operator_headers).json()["total"] == 1


def test_the_deployment_guides_call_with_address_and_hostname_only(
    client: TestClient, operator_headers: dict[str, str]
) -> None:
    """The guide's ``POST /api/v1/ips {"address", "hostname"}``: purpose cold, VMTA name from the hostname."""
    guide = {"address": "1.2.3.4", "hostname": "mail.example.com"}
    first = client.post("/api/v1/ips", json=guide, headers=operator_headers)
    assert first.status_code == 201, first.text
    assert first.json()["purpose"] == "cold"
    assert first.json()["vmta_name"] == "vmta-mail-example-com"
    assert first.json()["state"] == "standby"
    # A second IP behind the same name gets the next free VMTA name, never a 409 nor a shared VMTA.
    second = client.post(
        "/api/v1/ips", json={"address": "1.2.3.5", "hostname": "MAIL.example.com"}, headers=operator_headers
    )
    assert second.status_code == 201, second.text
    assert second.json()["vmta_name"] == "vmta-mail-example-com-2"
    # Both are changeable afterwards.
    patched = client.patch(
        f"/api/v1/ips/{first.json()['id']}",
        json={"purpose": "marketing", "vmta_name": "vmta-m1"},
        headers=operator_headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["purpose"], patched.json()["vmta_name"]) == ("marketing", "vmta-m1")


def test_an_ip_without_purpose_takes_its_pools(client: TestClient, operator_headers: dict[str, str]) -> None:
    pool = client.post(
        "/api/v1/pools", json={"name": "tx", "purpose": "transactional"}, headers=operator_headers
    )
    body = {"address": "192.0.2.60", "hostname": "tx1.example.com", "pool_id": pool.json()["id"]}
    created = client.post("/api/v1/ips", json=body, headers=operator_headers)
    assert created.status_code == 201, created.text
    assert created.json()["purpose"] == "transactional"
    assert created.json()["vmta_name"] == "vmta-tx1-example-com"
