"""DNSBL checks: which zones, run the lookups, keep the listing history, alert on changes.

Services flush; routers, CLI commands and jobs commit. ``now`` is always a parameter.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from email_engine.config import Settings
from email_engine.errors import NotFound
from email_engine.ips.models import SendingDomain, SendingIp
from email_engine.reputation.dnsbl import Zone, ZoneResult, catalogue, resolve_zone_names, target_kind
from email_engine.reputation.lookup import DnsblRun, check_targets, plan_queries
from email_engine.reputation.models import DnsblCheck, DnsblListing, ReputationSetting
from email_engine.reputation.settings import ReputationSettings
from email_engine.resolver import make_async_resolver

__all__ = [
    "ListingSummary",
    "RecordOutcome",
    "ZoneSelection",
    "check_all",
    "check_ip",
    "list_events",
    "listed_ips",
    "record_dnsbl_results",
    "run_dnsbl_lookups",
    "set_zone_selection",
    "unusable_zones",
    "zone_selection",
]

log = logging.getLogger(__name__)

ZONES_KEY = "dnsbl_zones"


@dataclass(frozen=True, slots=True)
class ListingSummary:
    zone: str
    major: bool
    first_seen_at: datetime


@dataclass(slots=True)
class RecordOutcome:
    new_listings: list[str] = field(default_factory=list)
    delisted: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ZoneSelection:
    zones: list[Zone]
    source: str  # "database", "environment" or "default"


# --- zone selection -------------------------------------------------------------------------------
def _entry(zone: Zone) -> str:
    return f"domain:{zone.name}" if zone.custom and zone.kind == "domain" else zone.name


def zone_selection(session: Session, settings: ReputationSettings) -> ZoneSelection:
    """The operator's stored selection, else DNSBL_ZONES, else the whole catalogue."""
    stored = session.scalar(select(ReputationSetting).where(ReputationSetting.key == ZONES_KEY))
    if stored is not None and stored.value:
        return ZoneSelection(resolve_zone_names(stored.value), "database")
    if settings.dnsbl_zones:
        return ZoneSelection(resolve_zone_names(settings.dnsbl_zones), "environment")
    return ZoneSelection(list(catalogue().values()), "default")


def set_zone_selection(session: Session, *, zones: Sequence[str], now: datetime) -> list[Zone]:
    """Validate and store the selection (raises InvalidInput). An empty list is refused."""
    resolved = resolve_zone_names(zones)
    stored = session.scalar(select(ReputationSetting).where(ReputationSetting.key == ZONES_KEY))
    value = [_entry(zone) for zone in resolved]
    if stored is None:
        session.add(ReputationSetting(key=ZONES_KEY, value=value, updated_at=now))
    else:
        stored.value = value
        stored.updated_at = now
    session.flush()
    return resolved


def clear_zone_selection(session: Session) -> None:
    stored = session.scalar(select(ReputationSetting).where(ReputationSetting.key == ZONES_KEY))
    if stored is not None:
        session.delete(stored)
        session.flush()


# --- lookups --------------------------------------------------------------------------------------
def run_dnsbl_lookups(
    settings: Settings, rep: ReputationSettings, zones: Sequence[Zone], targets: Sequence[str]
) -> dict[str, list[ZoneResult]]:
    """Query every zone for every target concurrently (blocking wrapper for sync callers)."""
    queries = plan_queries(targets, zones, dqs_key=rep.dqs_key)
    resolver = make_async_resolver(settings, timeout=rep.dnsbl_timeout)

    async def run() -> DnsblRun:
        return await check_targets(
            resolver,
            queries,
            timeout=rep.dnsbl_timeout,
            deadline=rep.dnsbl_deadline,
            concurrency=rep.dnsbl_concurrency,
        )

    results = asyncio.run(run()).results
    for target in targets:
        results.setdefault(target, [])
    return results


# --- history --------------------------------------------------------------------------------------
def _is_major(zone_name: str) -> bool:
    zone = catalogue().get(zone_name)
    return bool(zone and zone.major)


def _alert_service() -> Any | None:
    # Imported at call time: the alerts package is another domain and may be absent in a slim build.
    try:
        from email_engine.integrations.alerts import service
    except ImportError:  # pragma: no cover - only in a build without the alerts domain
        log.warning("alerts service unavailable; DNSBL listing changes are recorded but not alerted")
        return None
    return service


def _alert_key(target: str, zone: str) -> str:
    return f"dnsbl:{target}:{zone}"


_RANK = {"listed": 3, "clean": 2, "error": 1, "unknown": 0}


def _one_per_zone(results: Sequence[ZoneResult]) -> list[ZoneResult]:
    """Duplicate zones in one call collapse to the strongest answer (a listing is never dropped)."""
    by_zone: dict[str, ZoneResult] = {}
    for result in results:
        current = by_zone.get(result.zone)
        if current is None or _RANK[result.status] > _RANK[current.status]:
            by_zone[result.zone] = result
    return list(by_zone.values())


def _open_listing(session: Session, target: str, zone: str) -> DnsblListing | None:
    return session.scalar(
        select(DnsblListing).where(
            DnsblListing.target == target, DnsblListing.zone == zone, DnsblListing.delisted_at.is_(None)
        )
    )


def _insert_listing(session: Session, row: DnsblListing) -> bool:
    """Add an open listing; False when another writer opened the same one first (unique open index)."""
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return False
    return True


def record_dnsbl_results(
    session: Session, *, target: str, results: Sequence[ZoneResult], now: datetime
) -> RecordOutcome:
    """Fold one check of ``target`` into the listing history and the last-check table.

    listed → open (or extend) a listing; clean → close an open listing; error/unknown → leave the
    history as it is (a failed lookup proves nothing either way). Alerts fire on changes only.
    Safe against a concurrent writer: at most one open listing per (target, zone) exists.
    """
    target = normalise_target(target)
    results = _one_per_zone(results)
    outcome = RecordOutcome()
    alerts = _alert_service()
    open_rows = {
        row.zone: row
        for row in session.scalars(
            select(DnsblListing).where(DnsblListing.target == target, DnsblListing.delisted_at.is_(None))
        )
    }
    for result in results:
        row = open_rows.get(result.zone)
        if result.status == "listed" and row is None:
            major = _is_major(result.zone)
            fresh = DnsblListing(
                target=target,
                zone=result.zone,
                major=major,
                codes=list(result.codes),
                meaning=result.meaning,
                first_seen_at=now,
                last_seen_at=now,
            )
            if _insert_listing(session, fresh):
                outcome.new_listings.append(result.zone)
                if alerts is not None:
                    zone = catalogue().get(result.zone)
                    delist = f" Delisting: {zone.delist}" if zone and zone.delist else ""
                    alerts.raise_alert(
                        session,
                        key=_alert_key(target, result.zone),
                        severity="critical" if major else "warning",
                        title=f"{target} is listed on {result.zone}",
                        text=f"{target} is listed on {result.zone} ({', '.join(result.codes)}): "
                        f"{result.meaning}.{delist}",
                        now=now,
                    )
                continue
            row = _open_listing(session, target, result.zone)  # opened meanwhile by another writer
        if result.status == "listed" and row is not None:
            row.last_seen_at = max(row.last_seen_at, now)
            row.codes = list(result.codes)
            row.meaning = result.meaning
        elif result.status == "clean" and row is not None:
            row.delisted_at = now
            outcome.delisted.append(result.zone)
            if alerts is not None:
                alerts.resolve_alert(session, key=_alert_key(target, result.zone), now=now)
    _store_last_check(session, target, results, now)
    session.flush()
    return outcome


def _store_last_check(session: Session, target: str, results: Sequence[ZoneResult], now: datetime) -> None:
    payload = [result.as_dict() for result in results]
    listed = any(result.status == "listed" for result in results)
    check = session.scalar(select(DnsblCheck).where(DnsblCheck.target == target))
    if check is None:
        try:
            with session.begin_nested():
                session.add(DnsblCheck(target=target, checked_at=now, listed=listed, results=payload))
            return
        except IntegrityError:
            check = session.scalar(select(DnsblCheck).where(DnsblCheck.target == target))
            if check is None:  # pragma: no cover - the conflicting row vanished again
                raise
    if check.checked_at <= now:
        check.checked_at, check.listed, check.results = now, listed, payload


def listed_ips(session: Session) -> dict[str, list[ListingSummary]]:
    """Open listings of IP addresses, keyed by address (domains are left out)."""
    rows = session.scalars(
        select(DnsblListing)
        .where(DnsblListing.delisted_at.is_(None))
        .order_by(DnsblListing.first_seen_at, DnsblListing.id)
    )
    listed: dict[str, list[ListingSummary]] = {}
    for row in rows:
        try:
            ipaddress.ip_address(row.target)
        except ValueError:
            continue
        listed.setdefault(row.target, []).append(ListingSummary(row.zone, row.major, row.first_seen_at))
    return listed


def list_events(
    session: Session, *, target: str | None = None, open_only: bool = False, limit: int = 100, offset: int = 0
) -> tuple[int, list[DnsblListing]]:
    query = select(DnsblListing)
    if target:
        query = query.where(DnsblListing.target == target.strip().lower())
    if open_only:
        query = query.where(DnsblListing.delisted_at.is_(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    ordered = (
        query.order_by(DnsblListing.first_seen_at.desc(), DnsblListing.id.desc()).limit(limit).offset(offset)
    )
    return total, list(session.scalars(ordered))


def last_checks(session: Session) -> list[DnsblCheck]:
    return list(session.scalars(select(DnsblCheck).order_by(DnsblCheck.target)))


# --- checks as the API, CLI and jobs run them -----------------------------------------------------
def _report(target: str, results: Sequence[ZoneResult]) -> dict[str, Any]:
    return {
        "ip": target,
        "listed": any(result.status == "listed" for result in results),
        "results": [result.as_dict() for result in results],
    }


def normalise_target(target: str) -> str:
    kind = target_kind(target)
    if kind == "domain":
        return target.strip().lower().rstrip(".")
    return str(ipaddress.ip_address(target.strip()))


def check_targets_now(
    session: Session,
    settings: Settings,
    rep: ReputationSettings,
    *,
    targets: Sequence[str],
    now: datetime,
    record: bool = True,
    changes: RecordOutcome | None = None,
) -> list[dict[str, Any]]:
    """Check arbitrary IPs/domains against the selected zones; record history when asked.

    ``changes`` collects "<target> on <zone>" for listings opened and closed by this run.
    """
    cleaned = list(dict.fromkeys(normalise_target(target) for target in targets))
    zones = zone_selection(session, rep).zones
    results = run_dnsbl_lookups(settings, rep, zones, cleaned)
    reports = []
    for target in cleaned:
        if record:
            outcome = record_dnsbl_results(session, target=target, results=results[target], now=now)
            if changes is not None:
                changes.new_listings += [f"{target} on {zone}" for zone in outcome.new_listings]
                changes.delisted += [f"{target} on {zone}" for zone in outcome.delisted]
        reports.append(_report(target, results[target]))
    return reports


def check_ip(
    session: Session, settings: Settings, rep: ReputationSettings, *, ip_id: int, now: datetime
) -> dict[str, Any]:
    ip = session.get(SendingIp, ip_id)
    if ip is None:
        raise NotFound(f"No sending IP with id {ip_id}; list them with GET /api/v1/ips.")
    return check_targets_now(session, settings, rep, targets=[ip.address], now=now)[0]


def inventory_targets(session: Session) -> list[str]:
    """Every sending IP, and every sending, bounce and tracking domain (domain lists catch links too)."""
    targets = [ip.address for ip in session.scalars(select(SendingIp).order_by(SendingIp.id))]
    for domain in session.scalars(select(SendingDomain).order_by(SendingDomain.id)):
        targets.extend(name for name in (domain.name, domain.bounce_domain, domain.tracking_domain) if name)
    return list(dict.fromkeys(normalise_target(target) for target in targets))


def unusable_zones(results: Iterable[Iterable[dict[str, Any]]]) -> dict[str, str]:
    """Zones that failed their RFC 5782 test points, with the reason and the fix, from stored results."""
    unusable: dict[str, str] = {}
    for group in results:
        for result in group:
            if result.get("zone_usable", True) is False:
                unusable.setdefault(result["zone"], result.get("meaning", ""))
    return dict(sorted(unusable.items()))


def check_all(
    session: Session, settings: Settings, rep: ReputationSettings, *, now: datetime
) -> dict[str, Any]:
    targets = inventory_targets(session)
    changes = RecordOutcome()
    reports = (
        check_targets_now(session, settings, rep, targets=targets, now=now, changes=changes)
        if targets
        else []
    )
    statuses = [result["status"] for report in reports for result in report["results"]]
    return {
        "checked": len(reports),
        "unusable_zones": unusable_zones(report["results"] for report in reports),
        "listed": sorted(report["ip"] for report in reports if report["listed"]),
        "queries": len(statuses),
        "errors": statuses.count("error"),
        "unknown": statuses.count("unknown"),
        "new_listings": changes.new_listings,
        "delisted": changes.delisted,
        "results": reports,
    }
