"""``/api/v1/blacklists/…`` and ``/api/v1/domains/…/validate``: DNSBL and DNS-authentication checks."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query

from email_engine.auth.deps import OperatorDep
from email_engine.clock import utcnow
from email_engine.deps import ContextDep, SessionDep, SettingsDep
from email_engine.platform.schemas import OffsetQuery, Page
from email_engine.reputation import auth_service, service
from email_engine.reputation.dnsbl import Zone, catalogue
from email_engine.reputation.schemas import (
    CheckAllOut,
    DomainValidationOut,
    LastCheckOut,
    ListingOut,
    TargetCheckOut,
    ValidateAllOut,
    ZoneOut,
    ZonesOut,
    ZonesUpdate,
)
from email_engine.reputation.settings import ReputationSettings

router = APIRouter(prefix="/api/v1", tags=["reputation"])


def _reputation_settings(ctx: ContextDep) -> ReputationSettings:
    return ctx.settings.section(ReputationSettings)


RepDep = Annotated[ReputationSettings, Depends(_reputation_settings)]
RowId = Annotated[int, Path(ge=1, le=2**63 - 1, description="Database id.")]


@router.post("/blacklists/check/{ip_id}", summary="Check one sending IP now")
def check_ip(
    ip_id: RowId, session: SessionDep, settings: SettingsDep, rep: RepDep, _op: OperatorDep
) -> TargetCheckOut:
    """Queries every selected IP list concurrently, with each zone's RFC 5782 test points (127.0.0.2 listed,
    127.0.0.1 not). A timeout, or a zone that fails its test points (a resolver answering NXDOMAIN for
    everything), is reported as "unknown" with the reason and the fix, never "clean"; answers in
    127.255.255.0/24 are errors on every zone."""
    report = service.check_ip(session, settings, rep, ip_id=ip_id, now=utcnow())
    session.commit()
    return TargetCheckOut.model_validate(report)


@router.post("/blacklists/check-all", summary="Check every IP and domain now")
def check_all(session: SessionDep, settings: SettingsDep, rep: RepDep, _op: OperatorDep) -> CheckAllOut:
    """Every sending IP and domain; `unusable_zones` names the zones that failed their RFC 5782 test points."""
    summary = service.check_all(session, settings, rep, now=utcnow())
    session.commit()
    return CheckAllOut.model_validate(summary)


@router.get("/blacklists/events", summary="Listing history (newest first)")
def list_events(
    session: SessionDep,
    target: Annotated[str | None, Query(max_length=253, description="Only this IP or domain.")] = None,
    open_only: Annotated[bool, Query(alias="open", description="Only listings not yet delisted.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: OffsetQuery = 0,
) -> Page[ListingOut]:
    cleaned = service.normalise_target(target) if target else None
    total, rows = service.list_events(
        session, target=cleaned, open_only=open_only, limit=limit, offset=offset
    )
    items = [ListingOut.model_validate(row) for row in rows]
    return Page(items=items, total=total, limit=limit, offset=offset)


@router.get("/blacklists/checks", summary="The last check of every target (all zones' results)")
def last_checks(session: SessionDep) -> list[LastCheckOut]:
    return [
        LastCheckOut(
            target=row.target, checked_at=row.checked_at.isoformat(), listed=row.listed, results=row.results
        )
        for row in service.last_checks(session)
    ]


def _zone_out(zone: Zone, rep: ReputationSettings) -> ZoneOut:
    return ZoneOut(
        name=zone.name,
        label=zone.label,
        kind=zone.kind,
        major=zone.major,
        ipv6=zone.ipv6,
        custom=zone.custom,
        dqs=bool(zone.dqs and rep.dqs_key),
        delist=zone.delist,
    )


@router.get("/blacklists/zones", summary="The zones checked and where the choice comes from")
def get_zones(session: SessionDep, rep: RepDep) -> ZonesOut:
    selection = service.zone_selection(session, rep)
    zones = [_zone_out(zone, rep) for zone in selection.zones]
    return ZonesOut.model_validate(
        {"source": selection.source, "zones": zones, "catalogue": list(catalogue())}
    )


@router.put("/blacklists/zones", summary="Store the operator's zone selection")
def put_zones(body: ZonesUpdate, session: SessionDep, rep: RepDep, _op: OperatorDep) -> ZonesOut:
    """Overrides DNSBL_ZONES until removed with DELETE. Unknown names become custom IP lists."""
    service.set_zone_selection(session, zones=body.zones, now=utcnow())
    session.commit()
    return get_zones(session, rep)


@router.delete("/blacklists/zones", summary="Forget the stored selection")
def delete_zones(session: SessionDep, rep: RepDep, _op: OperatorDep) -> ZonesOut:
    service.clear_zone_selection(session)
    session.commit()
    return get_zones(session, rep)


@router.post("/domains/validate-all", summary="Validate SPF/DKIM/DMARC/PTR/MX of every sending domain")
def validate_all(session: SessionDep, settings: SettingsDep, rep: RepDep, _op: OperatorDep) -> ValidateAllOut:
    summary = auth_service.validate_all_domains(session, settings, rep, now=utcnow())
    session.commit()
    return ValidateAllOut.model_validate(summary)


@router.get("/domains/{domain_id}/validation", summary="The last stored validation of a sending domain")
def last_validation(domain_id: RowId, session: SessionDep) -> DomainValidationOut:
    return DomainValidationOut.model_validate(auth_service.stored_report(session, domain_id=domain_id))


@router.post("/domains/{domain_id}/validate", summary="Validate one sending domain's DNS authentication")
def validate_domain(
    domain_id: RowId, session: SessionDep, settings: SettingsDep, rep: RepDep, _op: OperatorDep
) -> DomainValidationOut:
    """Each check says pass, fail, warn or info with a sentence to act on, plus the Gmail/Yahoo summary."""
    report = auth_service.validate_domain_by_id(session, settings, rep, domain_id=domain_id, now=utcnow())
    session.commit()
    return DomainValidationOut.model_validate(report)
