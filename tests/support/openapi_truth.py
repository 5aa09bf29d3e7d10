"""Every response the test suite observes must be one the OpenAPI description declares.

The request guard counts each answer in ``email_engine_http_requests_total{method, route, status}``
(the route template, e.g. ``/api/v1/ips/{ip_id}``). At the end of the session the counts of this
process (the TestClient and live-server tests) are compared with ``app.openapi()``: a status an
operation returned but does not declare fails the run. Routes outside the description (``/docs``,
routes that tests add themselves) are not judged.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from email_engine.main import create_app

__all__ = ["observed_statuses", "undeclared_statuses"]


def observed_statuses() -> set[tuple[str, str, int]]:
    seen = set()
    for metric in REGISTRY.collect():
        if metric.name != "email_engine_http_requests":
            continue
        for sample in metric.samples:
            if sample.name.endswith("_total") and sample.value > 0:
                labels = sample.labels
                seen.add((labels["method"].lower(), labels["route"], int(labels["status"])))
    return seen


def undeclared_statuses(spec: dict, seen: set[tuple[str, str, int]]) -> list[str]:
    problems = []
    for method, route, status in sorted(seen):
        operation = spec.get("paths", {}).get(route, {}).get(method)
        if operation is None:
            continue
        if str(status) not in operation.get("responses", {}):
            problems.append(f"{method.upper()} {route} answered {status}")
    return problems


@pytest.fixture(scope="session", autouse=True)
def responses_match_the_openapi_description() -> Iterator[None]:
    yield
    from tests.conftest import make_settings

    spec = create_app(make_settings("sqlite:///:memory:", None)).openapi()  # never connects
    problems = undeclared_statuses(spec, observed_statuses())
    assert not problems, (
        "The OpenAPI description does not declare statuses the tests observed:\n" + "\n".join(problems)
    )
