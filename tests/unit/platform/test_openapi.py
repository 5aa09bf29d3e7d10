"""The OpenAPI description declares the real error model, bounded integers and the suite's statuses."""

from __future__ import annotations

from typing import Any

import pytest

from email_engine.main import create_app
from tests.conftest import make_settings
from tests.support.openapi_truth import undeclared_statuses

MAX_BIGINT = 2**63 - 1


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(make_settings("sqlite:///:memory:", None)).openapi()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def test_every_operation_declares_the_error_model(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    for path, method, operation in _operations(spec):
        responses = operation["responses"]
        assert {"422", "500"} <= set(responses), (method, path)
        for code, response in responses.items():
            if int(code) < 400 or (path == "/health" and code == "503"):
                continue
            schema = response["content"]["application/json"]["schema"]["$ref"]
            assert schema.endswith("ValidationErrorBody" if code == "422" else "ErrorBody"), (
                method,
                path,
                code,
            )
        if operation.get("security"):
            assert {"401", "403"} <= set(responses), (method, path)
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert "404" in responses, (method, path)
    assert spec["paths"]["/api/v1/pmta/config"]["get"]["responses"]["409"]


def test_every_integer_parameter_fits_a_bigint(spec: dict[str, Any]) -> None:
    for path, method, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            options = schema.get("anyOf", [schema])
            for option in options:
                if option.get("type") == "integer":
                    assert option.get("maximum", MAX_BIGINT + 1) <= MAX_BIGINT, (
                        method,
                        path,
                        parameter["name"],
                    )
                    assert option.get("minimum", -MAX_BIGINT - 2) >= -MAX_BIGINT - 1, (
                        method,
                        path,
                        parameter["name"],
                    )


def test_an_undeclared_status_is_reported(spec: dict[str, Any]) -> None:
    seen = {
        ("get", "/api/v1/ips", 200),
        ("get", "/api/v1/ips", 418),
        ("get", "/docs", 200),
        ("get", "/unknown", 500),
    }
    assert undeclared_statuses(spec, seen) == ["GET /api/v1/ips answered 418"]


def test_every_json_answer_names_its_schema(spec: dict[str, Any]) -> None:
    """Routes return schema models: a success body described only as "an object" is a route that
    returned a dict, and clients (and schemathesis) learn nothing from it."""
    untyped = []
    for path, method, operation in _operations(spec):
        for code, response in operation["responses"].items():
            content = response.get("content", {})
            schema = content.get("application/json", {}).get("schema")
            files = len(content) > 1  # a file download (CSV, the raw bytes) beside FastAPI's default
            if code.startswith("2") and schema is not None and not files and "$ref" not in repr(schema):
                untyped.append(f"{method.upper()} {path} {code}")
    assert untyped == []
