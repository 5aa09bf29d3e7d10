"""The renderer's input: a plain snapshot of the inventory and the settings (no database types).

``service.snapshot_inventory`` builds one from the database; tests build them by hand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = [
    "DkimKey",
    "Inventory",
    "IpEntry",
    "PoolEntry",
    "RenderSettings",
    "SendingDomainEntry",
    "VmtaFacts",
    "VolumeCap",
]


@dataclass(frozen=True)
class VolumeCap:
    """The warmup limit of one IP: messages per day and per hour, and per-provider daily caps
    (``gmail``, ``microsoft``, ``yahoo``, ``other``…) when the plan splits the day by provider."""

    daily: int
    hourly: int
    providers: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class IpEntry:
    id: int
    address: str
    hostname: str
    vmta_name: str
    purpose: str
    state: str
    pool: str | None = None


@dataclass(frozen=True)
class PoolEntry:
    name: str
    purpose: str


@dataclass(frozen=True)
class SendingDomainEntry:
    name: str
    dkim_selector: str | None = None
    bounce_domain: str | None = None
    tracking_domain: str | None = None


@dataclass(frozen=True)
class DkimKey:
    """A private key PowerMTA signs with: ``domain-key SELECTOR,DOMAIN,PATH``."""

    selector: str
    domain: str
    path: str


@dataclass(frozen=True)
class RenderSettings:
    """Everything the renderer needs that is not inventory. Secrets are plain strings here."""

    postmaster: str
    smtp_password: str
    mailwizz_ips: tuple[str, ...]
    smtp_user: str = "mailwizz"
    listener_port: int = 2525
    listener_address: str = "0.0.0.0"  # noqa: S104 - MailWizz connects from another host
    http_mgmt_port: int = 8080
    config_dir: str = "/etc/pmta"
    dkim_key_dir: str = "/etc/pmta/dkim"
    spool_dir: str = "/var/spool/pmta"
    log_file: str = "/var/log/pmta/log"
    bounce_pipe: str = "/opt/email-engine/scripts/bounce-pipe.sh"
    delivery_pipe: str = "/opt/email-engine/scripts/delivery-pipe.sh"
    host_name: str | None = None
    #: ``ADDRESS:PORT`` where PowerMTA accepts asynchronous bounces and feedback-loop reports from
    #: the Internet (renders the processors that produce rb/f records); None: not at all.
    inbound_listener: str | None = None
    #: Addresses mailbox providers send feedback-loop (ARF/JMRP) reports to.
    fbl_addresses: tuple[str, ...] = ()


@dataclass(frozen=True)
class Inventory:
    ips: tuple[IpEntry, ...]
    pools: tuple[PoolEntry, ...] = ()
    domains: tuple[SendingDomainEntry, ...] = ()
    limits: dict[int, VolumeCap] = field(default_factory=dict)


@dataclass(frozen=True)
class VmtaFacts:
    """What the inventory knows about one VMTA that the configuration text cannot say (the linter's
    input beside the files)."""

    state: str
    hourly_cap: int | None = None
