"""``/ui/reputation``: the last DNSBL check of every IP and domain as a target × zone matrix (each
code's meaning, delist links), and per sending domain the stored SPF/DKIM/DMARC/PTR and bulk-sender
report with the sentence for each item — read from the reputation domain's stored results; operators
check the DNSBLs and validate one domain now."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from email_engine.clock import utcnow
from email_engine.console.web import (
    ConsoleRoute,
    FormError,
    OperatorViewer,
    ViewerDep,
    audit,
    error_status,
    optional_int,
    redirect,
    show,
)
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import EmailEngineError
from email_engine.ips import service as ip_service
from email_engine.reputation import service as reputation_service
from email_engine.reputation.auth_service import latest_domain_report, validate_domain_by_id
from email_engine.reputation.dnsbl import catalogue, target_kind
from email_engine.reputation.service import last_checks, zone_selection
from email_engine.reputation.settings import ReputationSettings

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)


@router.get("/reputation")
def reputation(request: Request, viewer: ViewerDep, session: SessionDep, ctx: ContextDep) -> Response:
    return _reputation_page(request, viewer, session, ctx)


@router.post("/reputation/check")
def check_now(request: Request, viewer: OperatorViewer, session: SessionDep, ctx: ContextDep) -> Response:
    """``POST /api/v1/blacklists/check/{ip_id}`` (with ``ip_id``) or ``POST /api/v1/blacklists/check-all``."""
    rep = ctx.settings.section(ReputationSettings)
    try:
        ip_id = optional_int(request, "ip_id", low=1)
        if ip_id is not None:
            audit(request, "blacklists.check", f"POST /api/v1/blacklists/check/{ip_id}")
            report = reputation_service.check_ip(session, ctx.settings, rep, ip_id=ip_id, now=utcnow())
            text = f"{report['ip']} checked: " + (
                "listed." if report["listed"] else "not listed on a usable zone."
            )
        else:
            audit(request, "blacklists.check_all", "POST /api/v1/blacklists/check-all")
            reputation_service.check_all(session, ctx.settings, rep, now=utcnow())
            text = "Every IP and domain of the inventory was checked."
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _reputation_page(request, viewer, session, ctx, error=exc.detail, status=error_status(exc))
    return redirect("/ui/reputation", flash=text)


@router.post("/reputation/validate")
def validate_now(request: Request, viewer: OperatorViewer, session: SessionDep, ctx: ContextDep) -> Response:
    """``POST /api/v1/domains/{domain_id}/validate``: one sending domain's SPF, DKIM, DMARC, PTR and
    bounce MX now, stored like the ``dns-auth`` job's run."""
    rep = ctx.settings.section(ReputationSettings)
    try:
        domain_id = optional_int(request, "domain_id", low=1)
        if domain_id is None:
            raise FormError("Choose the sending domain to validate.")
        audit(request, "domains.validate", f"POST /api/v1/domains/{domain_id}/validate")
        report = validate_domain_by_id(session, ctx.settings, rep, domain_id=domain_id, now=utcnow())
        session.commit()
    except EmailEngineError as exc:
        session.rollback()
        return _reputation_page(request, viewer, session, ctx, error=exc.detail, status=error_status(exc))
    compliance = report.get("compliance") or {}
    text = (
        f"{report['domain']} validated: {report['status']}, bulk-sender compliance: "
        f"{compliance.get('status', 'unknown')}."
    )
    return redirect("/ui/reputation#auth", flash=text)


def _reputation_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    ctx: ContextDep,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    selection = zone_selection(session, ctx.settings.section(ReputationSettings))
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
        error=error,
        status=status,
    )
