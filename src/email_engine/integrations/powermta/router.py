"""``/api/v1/pmta``: the rendered configuration (secrets redacted) and the editable throttle tables."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from email_engine.auth.deps import CurrentPrincipal, OperatorDep
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.integrations.powermta import service
from email_engine.integrations.powermta.schemas import (
    DomainPoolsPublic,
    DomainPoolsUpdate,
    RenderedConfigPublic,
    ThrottleTablesPublic,
)
from email_engine.integrations.powermta.settings import PowerMtaSettings

__all__ = ["BODY_LIMITS", "router"]

router = APIRouter(prefix="/api/v1/pmta", tags=["powermta"])

# A full table with a few hundred patterns is ~60 kB; leave room, refuse anything absurd.
BODY_LIMITS = {"/api/v1/pmta/throttles": 512 * 1024}


def _settings(ctx: ContextDep) -> PowerMtaSettings:
    return ctx.settings.section(PowerMtaSettings)


def _public(stored: service.StoredTables) -> ThrottleTablesPublic:
    return ThrottleTablesPublic(
        source=stored.source,
        updated_at=stored.updated_at,
        updated_by=stored.updated_by,
        tables=stored.tables.model_dump(mode="json"),
    )


@router.get(
    "/config",
    summary="Render the PowerMTA files (secrets redacted)",
    responses={409: {"description": "A PMTA_* setting is missing or unsafe; `missing` names the variables"}},
)
def get_config(session: SessionDep, ctx: ContextDep, _principal: CurrentPrincipal) -> RenderedConfigPublic:
    """The files ``email-engine pmta render`` would write, rendered from the current inventory, and the
    linter's findings. The SMTP password is replaced by ``[redacted]``."""
    rendered, report = service.render_from_db(session, _settings(ctx), now=utcnow())
    return RenderedConfigPublic(files=rendered.redacted(), lint=report.as_dict())


@router.get(
    "/throttles",
    summary="The throttle and backoff tables in use",
    responses={409: {"description": "The stored tables no longer validate; the detail says how to fix them"}},
)
def get_throttles(session: SessionDep, _principal: CurrentPrincipal) -> ThrottleTablesPublic:
    return _public(service.load_tables(session))


@router.put("/throttles", summary="Replace the throttle and backoff tables")
def put_throttles(
    session: SessionDep,
    principal: OperatorDep,
    document: dict[str, Any] = Body(...),  # noqa: B008
) -> ThrottleTablesPublic:
    """Validates the whole document (rates, intervals, domains, patterns that PowerMTA can read and
    that match their examples) and stores it; the next render uses it. Nothing is stored on error."""
    stored = service.save_tables(
        session, document=document, actor=f"{principal.kind}:{principal.name}", now=utcnow()
    )
    session.commit()
    return _public(stored)


@router.delete("/throttles", summary="Go back to the shipped defaults")
def reset_throttles(session: SessionDep, _principal: OperatorDep) -> ThrottleTablesPublic:
    stored = service.reset_tables(session)
    session.commit()
    return _public(stored)


@router.get(
    "/domains/{name}/pools",
    summary="The pools that send for a sending domain (its SPF IPs)",
)
def get_domain_pools(name: str, session: SessionDep, _principal: CurrentPrincipal) -> DomainPoolsPublic:
    return DomainPoolsPublic.model_validate(service.domain_senders(session, name).as_dict())


@router.put(
    "/domains/{name}/pools",
    summary="Set the pools that send for a sending domain",
)
def put_domain_pools(
    name: str, body: DomainPoolsUpdate, session: SessionDep, _principal: OperatorDep
) -> DomainPoolsPublic:
    """Replaces the list. `email-engine dns records DOMAIN` then puts only these pools' IPs in the
    domain's SPF (and in its return-path domain's). 404 for an unknown domain or pool."""
    result = service.set_domain_pools(session, name, body.pools, now=utcnow())
    session.commit()
    return DomainPoolsPublic.model_validate(result.as_dict())
