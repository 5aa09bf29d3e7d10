"""/api/v1/pmta: the rendered config (secrets redacted) and the editable throttle tables."""

from __future__ import annotations

import copy
from typing import Any

from fastapi.testclient import TestClient

from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.integrations.powermta.tables import default_tables
from tests.integration.powermta.conftest import PASSWORD, GuideInventory


def test_config_is_rendered_from_the_inventory_with_secrets_redacted(
    client: TestClient,
    viewer_headers: dict[str, str],
    guide_db: GuideInventory,
    pmta_settings: PowerMtaSettings,
) -> None:
    response = client.get("/api/v1/pmta/config", headers=viewer_headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body["files"]) == {"config", "routing-domains", "bounce-classifications"}
    config = body["files"]["config"]
    assert PASSWORD not in response.text
    assert "password [redacted]" in config
    for address in ("192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13", "192.0.2.14"):
        assert f"smtp-source-host {address} " in config
    assert "domain-key s2026,example.com," in config
    # The warming IP carries its plan's hourly cap; standby IPs are out of the pool.
    cold = config.split("<virtual-mta vmta-cold-1>")[1].split("</virtual-mta>")[0]
    assert "<domain *>" in cold and "max-msg-rate 0" not in cold
    pool = config.split("<virtual-mta-pool cold-outreach>")[1].split("</virtual-mta-pool>")[0]
    assert "virtual-mta vmta-cold-1" in pool and "virtual-mta vmta-cold-2" not in pool
    assert body["lint"]["ok"] is True and body["lint"]["errors"] == body["lint"]["warnings"] == 0
    assert "<bounce-category-patterns>" in body["files"]["bounce-classifications"]


def test_config_needs_the_settings_and_authentication(
    client: TestClient, viewer_headers: dict[str, str], guide_db: GuideInventory, ctx: Any
) -> None:
    ctx.settings.install(PowerMtaSettings(_env_file=None))  # type: ignore[call-arg]
    response = client.get("/api/v1/pmta/config", headers=viewer_headers)
    assert response.status_code == 409  # the operator's to fix: the answer names the settings
    assert (
        "PMTA_POSTMASTER" in response.json()["detail"] and "PMTA_SMTP_PASSWORD" in response.json()["detail"]
    )
    assert {"PMTA_POSTMASTER", "PMTA_SMTP_PASSWORD"} <= set(response.json()["missing"])
    assert client.get("/api/v1/pmta/config").status_code == 401
    assert client.get("/api/v1/pmta/throttles").status_code == 401


def test_throttles_get_put_reset(
    client: TestClient,
    viewer_headers: dict[str, str],
    operator_headers: dict[str, str],
    guide_db: GuideInventory,
    pmta_settings: PowerMtaSettings,
) -> None:
    current = client.get("/api/v1/pmta/throttles", headers=viewer_headers).json()
    assert current["source"] == "default"
    assert current["tables"] == default_tables().model_dump(mode="json")
    edited = copy.deepcopy(current["tables"])
    edited["providers"][0]["max_msg_rate"] = "40/h"
    edited["backoff"]["retry_after"] = "30m"
    assert client.put("/api/v1/pmta/throttles", json=edited, headers=viewer_headers).status_code == 403
    response = client.put("/api/v1/pmta/throttles", json=edited, headers=operator_headers)
    assert response.status_code == 200, response.text
    assert response.json()["source"] == "database" and response.json()["updated_by"].startswith("api_key:")
    stored = client.get("/api/v1/pmta/throttles", headers=viewer_headers).json()
    assert stored["tables"]["providers"][0]["max_msg_rate"] == "40/h"
    config = client.get("/api/v1/pmta/config", headers=viewer_headers).json()["files"]["config"]
    gmail = config.split("<domain gmail.rollup>\n    max-msg-rate ")[1].split("\n")[0]
    assert gmail == "40/h"
    assert "backoff-retry-after 30m" in config
    reset = client.delete("/api/v1/pmta/throttles", headers=operator_headers)
    assert reset.status_code == 200 and reset.json()["source"] == "default"


def test_bad_throttle_documents_change_nothing(
    client: TestClient, operator_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    good = default_tables().model_dump(mode="json")
    hostile_domain = copy.deepcopy(good)
    hostile_domain["providers"][0]["domains"].append("evil.com\n<source 0/0>\nalways-allow-relaying yes")
    bad_rate = copy.deepcopy(good)
    bad_rate["default"]["max_msg_rate"] = "lots"
    catch_all = copy.deepcopy(good)
    catch_all["backoff_patterns"].append({"provider": "generic", "pattern": "", "example": ""})
    duplicate = copy.deepcopy(good)
    duplicate["providers"].append(copy.deepcopy(duplicate["providers"][0]))
    for document in (hostile_domain, bad_rate, catch_all, duplicate, {"providers": []}):
        response = client.put("/api/v1/pmta/throttles", json=document, headers=operator_headers)
        assert response.status_code == 422, response.text
        assert response.json()["error"] in {"invalid_input", "validation_error", "request_validation_error"}
    for raw in (b"[]", b"not json", b'"text"'):
        response = client.put(
            "/api/v1/pmta/throttles",
            content=raw,
            headers={**operator_headers, "Content-Type": "application/json"},
        )
        assert response.status_code in {400, 422}
    huge = b'{"providers": [' + b'{"name": "x"},' * 60000 + b"{}]}"
    response = client.put(
        "/api/v1/pmta/throttles",
        content=huge,
        headers={**operator_headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert client.get("/api/v1/pmta/throttles", headers=viewer_headers).json()["source"] == "default"


def test_a_stored_document_that_no_longer_validates_explains_the_fix(
    client: TestClient, viewer_headers: dict[str, str], operator_headers: dict[str, str], ctx: Any
) -> None:
    from email_engine.integrations.powermta.models import PmtaThrottleTable
    from tests.integration.powermta.conftest import NOW

    with ctx.session_factory() as session:
        session.add(
            PmtaThrottleTable(
                name="throttles", document={"providers": "broken"}, updated_at=NOW, updated_by="old"
            )
        )
        session.commit()
    response = client.get("/api/v1/pmta/throttles", headers=viewer_headers)
    assert response.status_code == 409
    assert "DELETE" in response.json()["detail"]
    assert client.delete("/api/v1/pmta/throttles", headers=operator_headers).status_code == 200
    assert client.get("/api/v1/pmta/throttles", headers=viewer_headers).json()["source"] == "default"


def test_a_hostile_name_that_bypassed_the_inventory_never_reaches_the_config(
    client: TestClient,
    viewer_headers: dict[str, str],
    guide_db: GuideInventory,
    pmta_settings: PowerMtaSettings,
    ctx: Any,
) -> None:
    from email_engine.ips.models import SendingIp
    from tests.integration.powermta.conftest import NOW

    with ctx.session_factory() as session:  # straight into the table, past the inventory's validators
        session.add(
            SendingIp(
                address="192.0.2.66", hostname="mta66.example.com", purpose="marketing",
                vmta_name="evil\n<source 0/0>\nalways-allow-relaying yes", state="active",
                created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
        session.commit()
    response = client.get("/api/v1/pmta/config", headers=viewer_headers)
    assert response.status_code == 422
    assert "not a safe PowerMTA name" in response.json()["detail"]
    assert "files" not in response.json()  # nothing rendered; the value is only quoted (repr) in the error


def test_domain_pools_decide_the_spf_ips(
    client: TestClient,
    guide_db: GuideInventory,
    operator_headers: dict[str, str],
    viewer_headers: dict[str, str],
) -> None:
    url = "/api/v1/pmta/domains/example.com/pools"
    assert client.get(url, headers=viewer_headers).json() == {"domain": "example.com", "pools": [], "ips": []}
    assert client.put(url, json={"pools": ["cold-outreach"]}, headers=viewer_headers).status_code == 403
    response = client.put(url, json={"pools": ["cold-outreach"]}, headers=operator_headers)
    assert response.status_code == 200, response.text
    assert [ip["address"] for ip in response.json()["ips"]] == ["192.0.2.12", "192.0.2.13", "192.0.2.14"]
    assert client.get(url, headers=viewer_headers).json()["pools"] == ["cold-outreach"]
    for body, status in (
        ({"pools": ["nope"]}, 404),
        ({"pools": "cold-outreach"}, 422),
        ({"pools": [], "extra": 1}, 422),
        ({"pools": ["x"] * 51}, 422),
    ):
        assert client.put(url, json=body, headers=operator_headers).status_code == status, body
    assert client.get("/api/v1/pmta/domains/unknown.example/pools", headers=viewer_headers).status_code == 404
    assert client.get(url, headers=viewer_headers).json()["pools"] == ["cold-outreach"]  # nothing changed
