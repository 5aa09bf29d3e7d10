"""Which VMTA each IP becomes (pure): the renderer's plan of the inventory, before any line is written.

An IP is checked for what may reach a rendered file, placed by its state (sending, paused with
every queue at 0, or left out when retired; the table is in :mod:`renderer`), capped at its warmup
plan's hourly limit and each provider's share of it. Unmarked mail goes to the first ``marketing``
pool of active IPs only (:func:`default_target`), else to :data:`HOLD_VMTA`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.inventory import Inventory, IpEntry, VmtaFacts
from email_engine.integrations.powermta.safety import check_address, check_hostname, check_name
from email_engine.ips.lifecycle import SENDING_STATES, IpState

__all__ = [
    "HOLD_VMTA",
    "PlannedVmta",
    "default_target",
    "facts_of",
    "plan_vmtas",
    "pool_members",
    "vmta_facts",
]

#: A VMTA with no address and every queue paused: unmarked mail waits there when no pool may take it.
HOLD_VMTA = "unmarked-hold"

PAUSED_STATES = frozenset({IpState.STANDBY, IpState.RESTING, IpState.QUARANTINED})
EXCLUDED_STATES = frozenset({IpState.RETIRED})


@dataclass(frozen=True)
class PlannedVmta:
    """One IP as the renderer writes it: paused (every queue at 0) or sending, with its hourly cap."""

    ip: IpEntry
    paused: bool
    hourly_cap: int | None
    provider_caps: dict[str, int] = field(default_factory=dict)

    def cap_for(self, provider: str | None) -> int | None:
        """The hourly cap of one provider queue: the IP's hourly limit times the provider's share of
        the day (``other`` for providers the plan does not name and for ``<domain *>``)."""
        if self.hourly_cap is None:
            return None
        share = self.provider_caps.get(provider or "other", self.provider_caps.get("other"))
        return self.hourly_cap if share is None else min(self.hourly_cap, max(1, share))


def _checked_ip(ip: IpEntry) -> IpEntry:
    what = f"IP {ip.id}"
    return IpEntry(
        id=ip.id,
        address=check_address(ip.address, what=f"{what} address"),
        hostname=check_hostname(ip.hostname, what=f"{what} hostname"),
        vmta_name=check_name(ip.vmta_name, what=f"{what} VMTA name"),
        purpose=check_name(ip.purpose, what=f"{what} purpose"),
        state=check_name(ip.state, what=f"{what} state"),
        pool=check_name(ip.pool, what=f"{what} pool") if ip.pool is not None else None,
    )


def plan_vmtas(inventory: Inventory) -> list[PlannedVmta]:
    known_states = SENDING_STATES | PAUSED_STATES | EXCLUDED_STATES
    plan: list[PlannedVmta] = []
    addresses: dict[str, str] = {}
    names: set[str] = set()
    for raw in sorted(inventory.ips, key=lambda item: item.vmta_name):
        ip = _checked_ip(raw)
        if ip.state not in known_states:
            raise InvalidInput(
                f"IP {ip.address} is in state {ip.state!r}, which the renderer does not know; "
                f"expected one of {', '.join(sorted(known_states))}."
            )
        if ip.state in EXCLUDED_STATES:
            continue
        if ip.address in addresses:
            raise InvalidInput(
                f"IP address {ip.address} appears twice (VMTAs {addresses[ip.address]} and {ip.vmta_name})."
            )
        if ip.vmta_name in names or ip.vmta_name == HOLD_VMTA:
            raise InvalidInput(f"VMTA name {ip.vmta_name} is used twice (or is the reserved {HOLD_VMTA}).")
        addresses[ip.address] = ip.vmta_name
        names.add(ip.vmta_name)
        cap = inventory.limits.get(ip.id)
        hourly = max(cap.hourly, 0) if cap is not None and ip.state in SENDING_STATES else None
        # A paused warmup plan gives 0/h: the IP leaves its pool like a standby one.
        paused = ip.state in PAUSED_STATES or hourly == 0
        shares: dict[str, int] = {}
        if cap is not None and hourly and cap.daily > 0:
            # A provider's daily cap as a share of the day, applied to the hour.
            shares = {name: int(hourly * limit / cap.daily) for name, limit in cap.providers.items()}
        plan.append(
            PlannedVmta(ip=ip, paused=paused, hourly_cap=None if paused else hourly, provider_caps=shares)
        )
    return plan


def pool_members(plan: Sequence[PlannedVmta], inventory: Inventory) -> dict[str, list[PlannedVmta]]:
    pools: dict[str, list[PlannedVmta]] = {
        check_name(pool.name, what="pool name"): [] for pool in inventory.pools
    }
    for item in plan:
        if item.ip.pool is None:
            continue
        pools.setdefault(item.ip.pool, []).append(item)
    return pools


def default_target(inventory: Inventory, pools: Mapping[str, Sequence[PlannedVmta]] | None = None) -> str:
    """Where unmarked mail goes: the first ``marketing`` pool (by name) whose listed VMTAs are all
    ``active`` (at least one), else :data:`HOLD_VMTA`. Never a pool with a warming IP in it: a cold
    IP must carry only the volume its warmup plan allows."""
    members = pools if pools is not None else pool_members(plan_vmtas(inventory), inventory)
    purposes = {pool.name: pool.purpose for pool in inventory.pools}
    for name in sorted(members):
        listed = [item for item in members[name] if not item.paused]
        if (
            purposes.get(name) == "marketing"
            and listed
            and all(item.ip.state == IpState.ACTIVE for item in listed)
        ):
            return name
    return HOLD_VMTA


def facts_of(plan: Sequence[PlannedVmta]) -> dict[str, VmtaFacts]:
    return {
        item.ip.vmta_name: VmtaFacts(state=item.ip.state, hourly_cap=0 if item.paused else item.hourly_cap)
        for item in plan
    }


def vmta_facts(inventory: Inventory) -> dict[str, VmtaFacts]:
    """Each VMTA's state and warmup hourly cap (0 when paused), for ``lint --inventory``."""
    return facts_of(plan_vmtas(inventory))
