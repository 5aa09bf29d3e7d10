"""``/api/v1/warmup``: presets, plans (create, start, pause, resume, abort), limits, failover events,
traffic holds (list, resolve)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from email_engine.auth.deps import CurrentPrincipal
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep
from email_engine.platform.schemas import OffsetQuery, Page
from email_engine.warmup import failover_service, holds, service
from email_engine.warmup.jobs import mailwizz_writer
from email_engine.warmup.plan import PRESETS
from email_engine.warmup.schemas import (
    FailoverEventOut,
    HoldResolve,
    LimitPublic,
    PlanAction,
    PlanCreate,
    PlanDetail,
    PlanSummary,
    Preset,
    TrafficHoldOut,
)
from email_engine.warmup.settings import WarmupSettings

router = APIRouter(prefix="/api/v1/warmup", tags=["warmup"])

PlanId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The plan's id.")]


def _actor(principal: CurrentPrincipal) -> str:
    return f"{principal.kind}:{principal.name}"[:128]


def _detail(session: SessionDep, plan_id: int, push: dict[str, Any] | None = None) -> PlanDetail:
    return PlanDetail.model_validate({**service.plan_detail(session, plan_id), "push": push})


@router.get("/presets", summary="Built-in warmup curves")
def list_presets() -> list[Preset]:
    return [
        Preset(
            name=preset.name,
            description=preset.description,
            days=len(preset.spec.curve),
            curve=list(preset.spec.curve),
            active_hours=preset.spec.active_hours,
            provider_shares=dict(preset.spec.provider_shares),
        )
        for preset in PRESETS.values()
    ]


@router.get("/plans", summary="List warmup plans")
def list_plans(
    session: SessionDep,
    status: Annotated[str | None, Query(max_length=16)] = None,
    ip_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
) -> Page[PlanSummary]:
    total, rows = service.list_plans(session, status=status, ip_id=ip_id, limit=limit, offset=offset)
    items = [PlanSummary.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post("/plans", status_code=201, summary="Create a warmup plan")
def create_plan(
    body: PlanCreate, session: SessionDep, ctx: ContextDep, principal: CurrentPrincipal
) -> PlanDetail:
    """From a preset (`{"ip_id", "preset"}`) or a custom schedule (`{"ip_id", "schedule": [daily volumes]}`);
    `"start": true` starts it at once."""
    now = utcnow()
    actor = _actor(principal)
    plan = service.create_plan(
        session,
        ip_id=body.ip_id,
        preset=body.preset,
        schedule=body.schedule,
        gates=body.gates.model_dump(exclude_none=True) if body.gates else None,
        provider_shares=body.provider_shares,
        active_hours=body.active_hours,
        default_gates=ctx.settings.section(WarmupSettings).default_gates(),
        actor=actor,
        now=now,
    )
    push = None
    if body.start:
        _plan, push = service.start_plan(
            session, plan_id=plan.id, actor=actor, now=now, mailwizz=mailwizz_writer(ctx)
        )
    session.commit()
    return _detail(session, plan.id, push)


@router.get("/plans/{plan_id}", summary="A plan: curve, position, daily reasons")
def get_plan(plan_id: PlanId, session: SessionDep) -> PlanDetail:
    return _detail(session, plan_id)


@router.post("/plans/{plan_id}/start", summary="Start a created plan")
def start_plan(
    plan_id: PlanId, session: SessionDep, ctx: ContextDep, principal: CurrentPrincipal
) -> PlanDetail:
    _plan, push = service.start_plan(
        session, plan_id=plan_id, actor=_actor(principal), now=utcnow(), mailwizz=mailwizz_writer(ctx)
    )
    session.commit()
    return _detail(session, plan_id, push)


@router.post("/plans/{plan_id}/pause", summary="Pause a running plan")
def pause_plan(
    plan_id: PlanId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    body: PlanAction | None = None,
) -> PlanDetail:
    _plan, push = service.pause_plan(
        session,
        plan_id=plan_id,
        reason=body.reason if body else None,
        actor=_actor(principal),
        now=utcnow(),
        mailwizz=mailwizz_writer(ctx),
    )
    session.commit()
    return _detail(session, plan_id, push)


@router.post("/plans/{plan_id}/resume", summary="Resume a paused plan (lower)")
def resume_plan(
    plan_id: PlanId, session: SessionDep, ctx: ContextDep, principal: CurrentPrincipal
) -> PlanDetail:
    _plan, push = service.resume_plan(
        session, plan_id=plan_id, actor=_actor(principal), now=utcnow(), mailwizz=mailwizz_writer(ctx)
    )
    session.commit()
    return _detail(session, plan_id, push)


@router.post("/plans/{plan_id}/abort", summary="Abort a plan")
def abort_plan(
    plan_id: PlanId,
    session: SessionDep,
    ctx: ContextDep,
    principal: CurrentPrincipal,
    body: PlanAction | None = None,
) -> PlanDetail:
    _plan, push = service.abort_plan(
        session,
        plan_id=plan_id,
        reason=body.reason if body else None,
        actor=_actor(principal),
        now=utcnow(),
        mailwizz=mailwizz_writer(ctx),
    )
    session.commit()
    return _detail(session, plan_id, push)


@router.get("/limits", summary="Today's warmup limits per IP id (what PowerMTA and MailWizz get)")
def current_limits(session: SessionDep) -> dict[str, LimitPublic]:
    limits = service.current_limits(session, now=utcnow())
    return {
        str(ip_id): LimitPublic(daily=limit.daily, hourly=limit.hourly, providers=dict(limit.providers))
        for ip_id, limit in limits.items()
    }


@router.get("/failovers", summary="Failover decisions (done, refused, standby warming)")
def list_failovers(
    session: SessionDep,
    ip_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
) -> Page[FailoverEventOut]:
    total, rows = failover_service.list_failover_events(session, ip_id=ip_id, limit=limit, offset=offset)
    items = [FailoverEventOut.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


HoldId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The traffic hold's id.")]


@router.get(
    "/holds",
    summary="Traffic holds: IPs stopped because the list or the content is the cause",
    description="A hold is opened by the failover job and stays open until an operator resolves it; while "
    "it is open the IP sends nothing and no other IP of its pool takes its traffic over.",
)
def list_holds(
    session: SessionDep,
    open_only: Annotated[bool, Query(alias="open", description="Only the unresolved ones.")] = False,
    ip_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: OffsetQuery = 0,
) -> Page[TrafficHoldOut]:
    total, rows = holds.list_holds(session, open_only=open_only, ip_id=ip_id, limit=limit, offset=offset)
    items = [TrafficHoldOut.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.post(
    "/holds/{hold_id}/resolve",
    summary="Resolve a traffic hold (the cause is fixed)",
    description="Closes the hold with the operator's note (audited). The IP stays quarantined; the normal "
    "recovery then applies: rest once delisted, then re-warm from day 1. 409 when already resolved.",
)
def resolve_hold(
    hold_id: HoldId, body: HoldResolve, session: SessionDep, principal: CurrentPrincipal
) -> TrafficHoldOut:
    hold = holds.resolve_hold(session, hold_id=hold_id, note=body.note, actor=_actor(principal), now=utcnow())
    session.commit()
    return TrafficHoldOut.model_validate(hold)
