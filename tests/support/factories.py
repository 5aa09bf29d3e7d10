"""What tests make over and over: sending IPs in the inventory, free loopback ports, console users."""

from __future__ import annotations

import socket
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from email_engine.ips import service as ips_service
from email_engine.ips.models import Pool, SendingIp

__all__ = ["USER_PASSWORD", "free_port", "make_ip"]

#: The password of the users the ``make_user`` fixture makes.
USER_PASSWORD = "console password of the team"

# How a new IP (standby) reaches each state without force. "warm-standby" is standby entered straight from
# active: the warm reserve that may take over at full volume.
_PATHS: dict[str, tuple[str, ...]] = {
    "standby": (),
    "warming": ("warming",),
    "active": ("warming", "active"),
    "warm-standby": ("warming", "active", "standby"),
    "resting": ("resting",),
    "quarantined": ("quarantined",),
    "retired": ("retired",),
}


def make_ip(
    session: Session,
    address: str,
    *,
    now: datetime,
    state: str = "standby",
    purpose: str = "cold",
    hostname: str | None = None,
    vmta_name: str | None = None,
    pool: str | None = None,
    server_id: int | None = None,
) -> SendingIp:
    """An IP added through the inventory service and moved to ``state`` along the lifecycle, in pool
    ``pool`` (created on first use) when given. Flushed, not committed."""
    pool_id = None
    if pool is not None:
        pool_id = session.scalar(select(Pool.id).where(Pool.name == pool))
        if pool_id is None:
            pool_id = ips_service.create_pool(session, name=pool, purpose=purpose, now=now).id
    name = "vmta-" + address.replace(".", "-").replace(":", "-")
    ip = ips_service.create_ip(
        session,
        address=address,
        hostname=hostname or f"{name}.example.test",
        purpose=purpose,
        vmta_name=vmta_name or name,
        pool_id=pool_id,
        mailwizz_server_id=server_id,
        actor="test",
        now=now,
    )
    for target in _PATHS[state]:
        ips_service.transition_ip(
            session, ip_id=ip.id, to_state=target, reason="test setup", actor="test", now=now
        )
    session.flush()
    return ip


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (the system picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
