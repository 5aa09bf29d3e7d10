"""Inventory and lifecycle services. They flush; the request, job or CLI command commits.

Every state change of an IP goes through :func:`transition_ip`, which checks the table in
:mod:`email_engine.ips.lifecycle` and writes an :class:`~email_engine.ips.models.IpTransition`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, NamedTuple, TypeVar

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from email_engine.errors import Conflict, InvalidInput, NotFound
from email_engine.ips import validators as v
from email_engine.ips.actuation import ActuationResult, list_actuations, push_mailwizz_limits
from email_engine.ips.lifecycle import IpState, TransitionRefused, check_transition, parse_state
from email_engine.ips.models import IpTransition, Pool, SendingDomain, SendingIp

__all__ = [
    "ActuationResult",
    "Inventory",
    "create_domain",
    "create_ip",
    "create_pool",
    "delete_domain",
    "delete_ip",
    "delete_pool",
    "get_domain",
    "get_ip",
    "get_pool",
    "list_actuations",
    "list_domains",
    "list_history",
    "list_ips",
    "list_pools",
    "push_mailwizz_limits",
    "sending_inventory",
    "transition_ip",
    "update_domain",
    "update_ip",
    "update_pool",
]

log = structlog.get_logger(__name__)

T = TypeVar("T")
MAX_PAGE = 500


def _checked(validator: Callable[[str], str], value: str) -> str:
    """Run a validator from :mod:`validators` for callers that bypass the HTTP schemas (CLI, jobs)."""
    try:
        return validator(value)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _optional(validator: Callable[[str], str], value: str | None) -> str | None:
    return None if value is None else _checked(validator, value)


def _purpose(value: str) -> str:
    try:
        return v.IpPurpose(value).value
    except ValueError:
        names = ", ".join(p.value for p in v.IpPurpose)
        raise InvalidInput(f"Unknown purpose {value!r}; use one of: {names}.") from None


def _mailwizz_id(value: int | None) -> int | None:
    if value is not None and not 1 <= value <= 2**31 - 1:
        raise InvalidInput("The MailWizz delivery-server id must be a positive whole number (its server_id).")
    return value


def _page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE or offset < 0:
        raise InvalidInput(f"limit must be 1-{MAX_PAGE} and offset 0 or more.")


def _flush(session: Session, what: str) -> None:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{what} clashes with an existing record (a name, address or id is taken).") from None


def _vmta(value: str) -> str:
    return v.normalise_slug(value, what="VMTA name")


def _pool_name(value: str) -> str:
    return v.normalise_slug(value, what="pool name")


# --- pools -------------------------------------------------------------------------------------


def get_pool(session: Session, pool_id: int) -> Pool:
    pool = session.get(Pool, pool_id)
    if pool is None:
        raise NotFound(f"There is no pool with id {pool_id}.")
    return pool


def create_pool(
    session: Session, *, name: str, purpose: str, notes: str | None = None, now: datetime
) -> Pool:
    name = _checked(_pool_name, name)
    if session.scalar(select(Pool.id).where(Pool.name == name)) is not None:
        raise Conflict(f"A pool named {name!r} exists already.")
    pool = Pool(
        name=name,
        purpose=_purpose(purpose),
        notes=_optional(v.clean_notes, notes),
        created_at=now,
        updated_at=now,
    )
    session.add(pool)
    _flush(session, f"Pool {name!r}")
    return pool


def list_pools(
    session: Session, *, purpose: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[int, list[Pool]]:
    _page(limit, offset)
    query = select(Pool)
    if purpose is not None:
        query = query.where(Pool.purpose == _purpose(purpose))
    return _paginate(session, query, Pool.id, limit, offset)


def update_pool(session: Session, pool_id: int, changes: Mapping[str, Any], *, now: datetime) -> Pool:
    pool = get_pool(session, pool_id)
    if "name" in changes:
        name = _checked(_pool_name, _required(changes["name"], "name"))
        if name != pool.name and session.scalar(select(Pool.id).where(Pool.name == name)) is not None:
            raise Conflict(f"A pool named {name!r} exists already.")
        pool.name = name
    if "purpose" in changes:
        purpose = _purpose(_required(changes["purpose"], "purpose"))
        mismatched = session.scalar(
            select(func.count()).where(SendingIp.pool_id == pool.id, SendingIp.purpose != purpose)
        )
        if mismatched:
            raise Conflict(
                f"The pool holds {mismatched} IP(s) with another purpose; move them out before changing it."
            )
        pool.purpose = purpose
    if "notes" in changes:
        pool.notes = _optional(v.clean_notes, changes["notes"])
    pool.updated_at = now
    _flush(session, f"Pool {pool.name!r}")
    return pool


def delete_pool(session: Session, pool_id: int) -> None:
    pool = get_pool(session, pool_id)
    members = session.scalar(select(func.count()).where(SendingIp.pool_id == pool.id))
    if members:
        raise Conflict(f"Pool {pool.name!r} still holds {members} IP(s); move them out first.")
    session.delete(pool)
    session.flush()


# --- IPs ---------------------------------------------------------------------------------------


def get_ip(session: Session, ip_id: int, *, for_update: bool = False) -> SendingIp:
    if for_update:
        ip = session.scalar(select(SendingIp).where(SendingIp.id == ip_id).with_for_update())
    else:
        ip = session.get(SendingIp, ip_id)
    if ip is None:
        raise NotFound(f"There is no IP with id {ip_id}.")
    return ip


def _check_pool(session: Session, pool_id: int | None, purpose: str) -> None:
    if pool_id is None:
        return
    pool = session.get(Pool, pool_id)
    if pool is None:
        raise InvalidInput(f"There is no pool with id {pool_id}.")
    if pool.purpose != purpose:
        raise InvalidInput(
            f"Pool {pool.name!r} is for {pool.purpose} mail and this IP is for {purpose} mail; "
            "mixing them would share one reputation between different streams."
        )


def _check_unique_ip_fields(
    session: Session, *, exclude_id: int | None, address: str | None, vmta: str | None, mw_id: int | None
) -> None:
    checks = (
        (SendingIp.address, address, "address"),
        (SendingIp.vmta_name, vmta, "VMTA name"),
        (SendingIp.mailwizz_server_id, mw_id, "MailWizz delivery-server id"),
    )
    for column, value, label in checks:
        if value is None:
            continue
        query = select(SendingIp.id).where(column == value)
        if exclude_id is not None:
            query = query.where(SendingIp.id != exclude_id)
        other = session.scalar(query)
        if other is not None:
            raise Conflict(f"The {label} {value!r} is already used by IP {other}.")


def _free_vmta_name(session: Session, base: str) -> str:
    """``base`` when no IP uses it, else ``base-2``, ``base-3`` … (kept within 64 characters)."""
    taken = set(session.scalars(select(SendingIp.vmta_name).where(SendingIp.vmta_name.startswith(base))))
    if base not in taken:
        return base
    number = 2
    while True:
        suffix = f"-{number}"
        candidate = base[: 64 - len(suffix)].rstrip("-") + suffix
        if candidate not in taken:
            return candidate
        number += 1


def create_ip(
    session: Session,
    *,
    address: str,
    hostname: str,
    purpose: str | None = None,
    vmta_name: str | None = None,
    pool_id: int | None = None,
    mailwizz_server_id: int | None = None,
    notes: str | None = None,
    actor: str,
    now: datetime,
) -> SendingIp:
    """Add an IP in ``standby`` (cold); a warmup plan moves it to ``warming``.

    Without a purpose the IP takes its pool's, or ``cold`` (the most conservative profile) without a pool;
    without a VMTA name one is derived from the hostname (``v.vmta_name_for``), numbered when taken.
    """
    address = _checked(v.normalise_address, address)
    hostname = _checked(v.normalise_hostname, hostname)
    if purpose is None:
        pool = session.get(Pool, pool_id) if pool_id is not None else None
        purpose = pool.purpose if pool is not None else v.IpPurpose.COLD.value
    purpose = _purpose(purpose)
    if vmta_name is None:
        vmta_name = _free_vmta_name(session, v.vmta_name_for(hostname))
    vmta_name = _checked(_vmta, vmta_name)
    mailwizz_server_id = _mailwizz_id(mailwizz_server_id)
    _check_pool(session, pool_id, purpose)
    _check_unique_ip_fields(
        session, exclude_id=None, address=address, vmta=vmta_name, mw_id=mailwizz_server_id
    )
    ip = SendingIp(
        address=address,
        hostname=hostname,
        purpose=purpose,
        pool_id=pool_id,
        vmta_name=vmta_name,
        mailwizz_server_id=mailwizz_server_id,
        state=IpState.STANDBY.value,
        notes=_optional(v.clean_notes, notes),
        created_at=now,
        updated_at=now,
    )
    session.add(ip)
    _flush(session, f"IP {address}")
    session.add(
        IpTransition(
            ip_id=ip.id,
            from_state=None,
            to_state=IpState.STANDBY.value,
            reason="added to the inventory",
            actor=actor[:128],
            forced=False,
            at=now,
        )
    )
    session.flush()
    log.info("ip.created", ip_id=ip.id, address=address, vmta=vmta_name, actor=actor)
    return ip


def list_ips(
    session: Session,
    *,
    state: str | None = None,
    purpose: str | None = None,
    pool_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[SendingIp]]:
    _page(limit, offset)
    query = select(SendingIp)
    if state is not None:
        try:
            query = query.where(SendingIp.state == parse_state(state).value)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
    if purpose is not None:
        query = query.where(SendingIp.purpose == _purpose(purpose))
    if pool_id is not None:
        query = query.where(SendingIp.pool_id == pool_id)
    return _paginate(session, query, SendingIp.id, limit, offset)


def _required(value: T | None, field: str) -> T:
    if value is None:
        raise InvalidInput(f"{field} cannot be cleared; give a value.")
    return value


def update_ip(session: Session, ip_id: int, changes: Mapping[str, Any], *, now: datetime) -> SendingIp:
    """Change the fields named in ``changes`` (None clears pool, MailWizz id and notes)."""
    ip = get_ip(session, ip_id)
    hostname = ip.hostname
    purpose = ip.purpose
    vmta = ip.vmta_name
    pool_id = ip.pool_id
    mw_id = ip.mailwizz_server_id
    notes = ip.notes
    if "hostname" in changes:
        hostname = _checked(v.normalise_hostname, _required(changes["hostname"], "hostname"))
    if "purpose" in changes:
        purpose = _purpose(_required(changes["purpose"], "purpose"))
    if "vmta_name" in changes:
        vmta = _checked(_vmta, _required(changes["vmta_name"], "vmta_name"))
    if "pool_id" in changes:
        pool_id = changes["pool_id"]
    if "mailwizz_server_id" in changes:
        mw_id = _mailwizz_id(changes["mailwizz_server_id"])
    if "notes" in changes:
        notes = _optional(v.clean_notes, changes["notes"])
    _check_pool(session, pool_id, purpose)
    _check_unique_ip_fields(session, exclude_id=ip.id, address=None, vmta=vmta, mw_id=mw_id)
    ip.hostname, ip.purpose, ip.vmta_name = hostname, purpose, vmta
    ip.pool_id, ip.mailwizz_server_id, ip.notes = pool_id, mw_id, notes
    ip.updated_at = now
    _flush(session, f"IP {ip.address}")
    return ip


def delete_ip(session: Session, ip_id: int) -> None:
    """Remove an IP that never left standby or that is retired (its history goes with it)."""
    ip = get_ip(session, ip_id)
    moves = session.scalar(select(func.count()).where(IpTransition.ip_id == ip.id)) or 0
    if ip.state != IpState.RETIRED.value and not (ip.state == IpState.STANDBY.value and moves <= 1):
        raise Conflict(
            f"IP {ip.address} is {ip.state} and has a history; retire it (a transition) before deleting it."
        )
    session.delete(ip)
    session.flush()


def transition_ip(
    session: Session,
    *,
    ip_id: int,
    to_state: IpState | str,
    reason: str,
    actor: str,
    now: datetime,
    force: bool = False,
) -> IpTransition:
    """Move an IP to ``to_state`` if the lifecycle table allows it (or ``force``), and record it.

    Raises ``NotFound`` (no such IP), ``InvalidInput`` (unknown state, empty reason) or ``Conflict``
    (the move is not allowed from the current state). Nothing is written when it raises. Checking
    the caller's right to force (admin) is the caller's job; the CLI and API do it.
    """
    try:
        target = to_state if isinstance(to_state, IpState) else parse_state(to_state)
        reason = v.clean_reason(reason)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    if not actor.strip():
        raise InvalidInput("Say who is making the transition (actor).")
    ip = get_ip(session, ip_id, for_update=True)
    current = parse_state(ip.state)
    last = session.scalar(
        select(IpTransition)
        .where(IpTransition.ip_id == ip.id)
        .order_by(IpTransition.at.desc(), IpTransition.id.desc())
        .limit(1)
    )
    entered_from = parse_state(last.from_state) if last is not None and last.from_state else None
    try:
        check_transition(current, target, force=force, reason=reason, entered_from=entered_from)
    except TransitionRefused as exc:
        raise Conflict(str(exc), from_state=current.value, to_state=target.value) from None
    # Compare-and-set: a concurrent transition that committed first makes this one match no row
    # (PostgreSQL also holds the row lock taken above; SQLite serialises the writers).
    moved = session.execute(
        update(SendingIp)
        .where(SendingIp.id == ip.id, SendingIp.state == current.value)
        .values(state=target.value, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(moved, "rowcount", 0) != 1:
        raise Conflict(
            f"IP {ip.address} changed state while this transition was being made; look at its history "
            "and try again.",
            from_state=current.value,
            to_state=target.value,
        )
    set_committed_value(ip, "state", target.value)
    set_committed_value(ip, "updated_at", now)
    record = IpTransition(
        ip_id=ip.id,
        from_state=current.value,
        to_state=target.value,
        reason=reason,
        actor=actor.strip()[:128],
        forced=force,
        at=now,
    )
    session.add(record)
    session.flush()
    log.info(
        "ip.transition",
        ip_id=ip.id,
        from_state=current.value,
        to_state=target.value,
        forced=force,
        actor=record.actor,
    )
    return record


def list_history(
    session: Session, ip_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[int, list[IpTransition]]:
    """The IP's transitions, newest first."""
    _page(limit, offset)
    get_ip(session, ip_id)
    query = select(IpTransition).where(IpTransition.ip_id == ip_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(IpTransition.at.desc(), IpTransition.id.desc()).limit(limit).offset(offset)
    ).all()
    return total, list(rows)


# --- domains -----------------------------------------------------------------------------------


def get_domain(session: Session, domain_id: int) -> SendingDomain:
    domain = session.get(SendingDomain, domain_id)
    if domain is None:
        raise NotFound(f"There is no sending domain with id {domain_id}.")
    return domain


def create_domain(
    session: Session,
    *,
    name: str,
    dkim_selector: str | None = None,
    bounce_domain: str | None = None,
    tracking_domain: str | None = None,
    notes: str | None = None,
    now: datetime,
) -> SendingDomain:
    name = _checked(v.normalise_domain, name)
    if session.scalar(select(SendingDomain.id).where(SendingDomain.name == name)) is not None:
        raise Conflict(f"The sending domain {name} exists already.")
    domain = SendingDomain(
        name=name,
        dkim_selector=_optional(v.normalise_dkim_selector, dkim_selector),
        bounce_domain=_optional(v.normalise_domain, bounce_domain),
        tracking_domain=_optional(v.normalise_domain, tracking_domain),
        notes=_optional(v.clean_notes, notes),
        created_at=now,
        updated_at=now,
    )
    session.add(domain)
    _flush(session, f"Sending domain {name}")
    return domain


def list_domains(session: Session, *, limit: int = 50, offset: int = 0) -> tuple[int, list[SendingDomain]]:
    _page(limit, offset)
    return _paginate(session, select(SendingDomain), SendingDomain.id, limit, offset)


def update_domain(
    session: Session, domain_id: int, changes: Mapping[str, Any], *, now: datetime
) -> SendingDomain:
    domain = get_domain(session, domain_id)
    if "dkim_selector" in changes:
        domain.dkim_selector = _optional(v.normalise_dkim_selector, changes["dkim_selector"])
    if "bounce_domain" in changes:
        domain.bounce_domain = _optional(v.normalise_domain, changes["bounce_domain"])
    if "tracking_domain" in changes:
        domain.tracking_domain = _optional(v.normalise_domain, changes["tracking_domain"])
    if "notes" in changes:
        domain.notes = _optional(v.clean_notes, changes["notes"])
    domain.updated_at = now
    session.flush()
    return domain


def delete_domain(session: Session, domain_id: int) -> None:
    session.delete(get_domain(session, domain_id))
    session.flush()


class Inventory(NamedTuple):
    """Addresses of the sending IPs that are not retired, and the sending domains as (id, name)."""

    ips: list[str]
    domains: list[tuple[int, str]]


def sending_inventory(session: Session) -> Inventory:
    """What sends (IPs, then domains, each in id order): the scope of preflight's checks."""
    ips = session.scalars(
        select(SendingIp.address).where(SendingIp.state != IpState.RETIRED).order_by(SendingIp.id)
    )
    domains = session.execute(select(SendingDomain.id, SendingDomain.name).order_by(SendingDomain.id))
    return Inventory(list(ips), [(domain_id, name) for domain_id, name in domains])


def _paginate(session: Session, query: Any, order: Any, limit: int, offset: int) -> tuple[int, list[Any]]:
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(query.order_by(order).limit(limit).offset(offset)).all()
    return total, list(rows)
