"""``/ui/reputation``: the last DNSBL check of every IP and domain as a target × zone matrix (each
code's meaning, delist links), and per sending domain the stored SPF/DKIM/DMARC/PTR and bulk-sender
report with the sentence for each item — read from the reputation domain's stored results."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from email_engine.console.web import ConsoleRoute, ViewerDep, show
from email_engine.deps import ContextDep, SessionDep
from email_engine.ips import service as ip_service
from email_engine.ops.domain_settings import domain_settings
from email_engine.reputation.auth_service import latest_domain_report
from email_engine.reputation.dnsbl import catalogue, target_kind
from email_engine.reputation.service import last_checks, zone_selection
from email_engine.reputation.settings import ReputationSettings

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)


@router.get("/reputation")
def reputation(request: Request, viewer: ViewerDep, session: SessionDep, ctx: ContextDep) -> Response:
    selection = zone_selection(session, domain_settings(ctx, ReputationSettings))
    known = catalogue()
    zones = {zone.name: zone for zone in selection.zones}
    checks = last_checks(session)
    matrix: dict[str, list[dict[str, Any]]] = {"ip": [], "domain": []}
    for check in checks:
        kind = "domain" if target_kind(check.target) == "domain" else "ip"
        cells = {result["zone"]: result for result in check.results}
        matrix[kind].append({"check": check, "cells": cells})
    columns = {
        kind: [zone for zone in zones.values() if (zone.kind == "domain") == (kind == "domain")]
        for kind in ("ip", "domain")
    }
    _total, domains = ip_service.list_domains(session, limit=ip_service.MAX_PAGE)
    reports = [(domain, latest_domain_report(session, domain.name)) for domain in domains]
    return show(
        request,
        "reputation.html",
        viewer,
        {
            "title": "Reputation",
            "matrix": matrix,
            "columns": columns,
            "zones": {**known, **zones},
            "selection_source": selection.source,
            "reports": reports,
        },
    )
