"""Inventory API: /api/v1/ips, /api/v1/domains, /api/v1/pools (reads: viewer; writes: operator)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, TypeVar

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel

from email_engine.auth.deps import CurrentPrincipal
from email_engine.auth.roles import Role, role_allows
from email_engine.auth.service import Principal
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.errors import PermissionDenied
from email_engine.ips import service
from email_engine.ips.actuation import pause_if_stopped
from email_engine.ips.lifecycle import IpState
from email_engine.ips.schemas import (
    ActuationPublic,
    DomainCreate,
    DomainPublic,
    DomainUpdate,
    IpCreate,
    IpPublic,
    IpUpdate,
    PoolCreate,
    PoolPublic,
    PoolUpdate,
    TransitionPublic,
    TransitionRequest,
)
from email_engine.ips.validators import IpPurpose
from email_engine.platform.schemas import Page

router = APIRouter(prefix="/api/v1", tags=["inventory"])

Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=service.MAX_PAGE)]
Offset = Annotated[int, Query(ge=0, le=10**9)]
M = TypeVar("M", bound=BaseModel)


def actor_of(principal: Principal) -> str:
    return f"{principal.kind}:{principal.name}"


def _page(model: type[M], total: int, rows: Iterable[object], limit: int, offset: int) -> Page[M]:
    return Page(items=[model.model_validate(row) for row in rows], total=total, limit=limit, offset=offset)


# --- IPs ---------------------------------------------------------------------------------------


@router.get("/ips", summary="List sending IPs")
def list_ips(
    session: SessionDep,
    _who: CurrentPrincipal,
    *,
    state: IpState | None = None,
    purpose: IpPurpose | None = None,
    pool_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[IpPublic]:
    total, rows = service.list_ips(
        session,
        state=state.value if state else None,
        purpose=purpose.value if purpose else None,
        pool_id=pool_id,
        limit=limit,
        offset=offset,
    )
    return _page(IpPublic, total, rows, limit, offset)


@router.post("/ips", status_code=201, summary="Add a sending IP (starts in standby)")
def create_ip(body: IpCreate, session: SessionDep, who: CurrentPrincipal) -> IpPublic:
    ip = service.create_ip(
        session,
        address=body.address,
        hostname=body.hostname,
        purpose=body.purpose.value if body.purpose is not None else None,
        vmta_name=body.vmta_name,
        pool_id=body.pool_id,
        mailwizz_server_id=body.mailwizz_server_id,
        notes=body.notes,
        actor=actor_of(who),
        now=utcnow(),
    )
    session.commit()
    return IpPublic.model_validate(ip)


@router.get("/ips/{ip_id}", summary="One sending IP")
def get_ip(ip_id: Id, session: SessionDep, _who: CurrentPrincipal) -> IpPublic:
    return IpPublic.model_validate(service.get_ip(session, ip_id))


@router.patch("/ips/{ip_id}", summary="Change an IP's details (not its state)")
def update_ip(ip_id: Id, body: IpUpdate, session: SessionDep, _who: CurrentPrincipal) -> IpPublic:
    changes = body.model_dump(include=body.model_fields_set, mode="json")
    ip = service.update_ip(session, ip_id, changes, now=utcnow())
    session.commit()
    return IpPublic.model_validate(ip)


@router.delete("/ips/{ip_id}", status_code=204, summary="Delete a retired or never-used IP")
def delete_ip(ip_id: Id, session: SessionDep, _who: CurrentPrincipal) -> Response:
    service.delete_ip(session, ip_id)
    session.commit()
    return Response(status_code=204)


@router.post(
    "/ips/{ip_id}/transition",
    status_code=201,
    summary="Move an IP to another lifecycle state (force needs admin)",
)
def transition_ip(
    ip_id: Id, body: TransitionRequest, session: SessionDep, who: CurrentPrincipal, ctx: ContextDep
) -> TransitionPublic:
    if body.force and not role_allows(who.role, Role.ADMIN):
        raise PermissionDenied("Forcing a transition needs the admin role.")
    now = utcnow()
    record = service.transition_ip(
        session,
        ip_id=ip_id,
        to_state=body.state,
        reason=body.reason,
        actor=actor_of(who),
        now=now,
        force=body.force,
    )
    session.commit()
    public = TransitionPublic.model_validate(record)
    # An IP that stops sending is paused in MailWizz at once, not at the next warmup run.
    paused = pause_if_stopped(session, ctx, ip=service.get_ip(session, ip_id), to_state=body.state, now=now)
    if paused is not None:
        public.mailwizz = paused
    return public


@router.get("/ips/{ip_id}/history", summary="An IP's transitions")
def ip_history(
    ip_id: Id, session: SessionDep, _who: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
) -> Page[TransitionPublic]:
    total, rows = service.list_history(session, ip_id, limit=limit, offset=offset)
    return _page(TransitionPublic, total, rows, limit, offset)


@router.get(
    "/ips/{ip_id}/actuation",
    summary="Pushes of this IP's limits to MailWizz/PowerMTA",
)
def ip_actuation(
    ip_id: Id, session: SessionDep, _who: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
) -> Page[ActuationPublic]:
    service.get_ip(session, ip_id)
    total, rows = service.list_actuations(session, ip_id, limit=limit, offset=offset)
    return _page(ActuationPublic, total, rows, limit, offset)


# --- pools -------------------------------------------------------------------------------------


@router.get("/pools", summary="List pools")
def list_pools(
    session: SessionDep,
    _who: CurrentPrincipal,
    purpose: IpPurpose | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PoolPublic]:
    total, rows = service.list_pools(
        session, purpose=purpose.value if purpose else None, limit=limit, offset=offset
    )
    return _page(PoolPublic, total, rows, limit, offset)


@router.post("/pools", status_code=201, summary="Create a pool")
def create_pool(body: PoolCreate, session: SessionDep, _who: CurrentPrincipal) -> PoolPublic:
    pool = service.create_pool(
        session, name=body.name, purpose=body.purpose.value, notes=body.notes, now=utcnow()
    )
    session.commit()
    return PoolPublic.model_validate(pool)


@router.get("/pools/{pool_id}", summary="One pool")
def get_pool(pool_id: Id, session: SessionDep, _who: CurrentPrincipal) -> PoolPublic:
    return PoolPublic.model_validate(service.get_pool(session, pool_id))


@router.patch("/pools/{pool_id}", summary="Rename or re-purpose a pool")
def update_pool(pool_id: Id, body: PoolUpdate, session: SessionDep, _who: CurrentPrincipal) -> PoolPublic:
    changes = body.model_dump(include=body.model_fields_set, mode="json")
    pool = service.update_pool(session, pool_id, changes, now=utcnow())
    session.commit()
    return PoolPublic.model_validate(pool)


@router.delete("/pools/{pool_id}", status_code=204, summary="Delete an empty pool")
def delete_pool(pool_id: Id, session: SessionDep, _who: CurrentPrincipal) -> Response:
    service.delete_pool(session, pool_id)
    session.commit()
    return Response(status_code=204)


# --- domains -----------------------------------------------------------------------------------


@router.get("/domains", summary="List sending domains")
def list_domains(
    session: SessionDep, _who: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
) -> Page[DomainPublic]:
    total, rows = service.list_domains(session, limit=limit, offset=offset)
    return _page(DomainPublic, total, rows, limit, offset)


@router.post("/domains", status_code=201, summary="Add a sending domain")
def create_domain(body: DomainCreate, session: SessionDep, _who: CurrentPrincipal) -> DomainPublic:
    domain = service.create_domain(
        session,
        name=body.name,
        dkim_selector=body.dkim_selector,
        bounce_domain=body.bounce_domain,
        tracking_domain=body.tracking_domain,
        notes=body.notes,
        now=utcnow(),
    )
    session.commit()
    return DomainPublic.model_validate(domain)


@router.get("/domains/{domain_id}", summary="One sending domain")
def get_domain(domain_id: Id, session: SessionDep, _who: CurrentPrincipal) -> DomainPublic:
    return DomainPublic.model_validate(service.get_domain(session, domain_id))


@router.patch("/domains/{domain_id}", summary="Change a sending domain")
def update_domain(
    domain_id: Id, body: DomainUpdate, session: SessionDep, _who: CurrentPrincipal
) -> DomainPublic:
    changes = body.model_dump(include=body.model_fields_set, mode="json")
    domain = service.update_domain(session, domain_id, changes, now=utcnow())
    session.commit()
    return DomainPublic.model_validate(domain)


@router.delete("/domains/{domain_id}", status_code=204, summary="Delete a sending domain")
def delete_domain(domain_id: Id, session: SessionDep, _who: CurrentPrincipal) -> Response:
    service.delete_domain(session, domain_id)
    session.commit()
    return Response(status_code=204)
