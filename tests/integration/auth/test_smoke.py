from fastapi.testclient import TestClient


def test_health_reports_database(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["database"]["status"] == "ok"
    assert body["status"] in ("healthy", "degraded")


def test_audit_requires_credentials(client: TestClient, admin_headers: dict[str, str]) -> None:
    assert client.get("/api/v1/audit").status_code == 401
    assert client.get("/api/v1/audit", headers=admin_headers).status_code == 200
