"""Linter checks of the VMTAs and pools (pure): pool names and membership, where unmarked mail goes,
backoff slower than the normal rate and within the warmup cap, one VMTA per source IP."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from fractions import Fraction

from email_engine.integrations.powermta.config_tree import Block, Directive, Severity
from email_engine.integrations.powermta.inheritance import queue_views
from email_engine.integrations.powermta.inventory import VmtaFacts
from email_engine.integrations.powermta.lint_findings import LintRun
from email_engine.integrations.powermta.rates import rate_per_hour
from email_engine.ips.lifecycle import IpState

__all__ = ["check_backoff", "check_default_vmta", "check_pools", "check_source_ips"]


def check_pools(lint: LintRun) -> None:
    vmtas = {block.argument.lower() for block in lint.tree.blocks("virtual-mta")}
    with_domains: dict[str, list[str]] = {}
    for pool in lint.tree.blocks("virtual-mta-pool"):
        if pool.argument.lower() in vmtas:
            lint.at(
                pool, "pool-name-taken", f"pool {pool.argument} has the name of a VMTA", lint.ref.cite("8.3")
            )
        if any(child.tag == "domain" for child in pool.blocks):
            for item in pool.directives:
                if item.name == "virtual-mta":
                    with_domains.setdefault(item.value, []).append(pool.argument)
    for vmta, pools in with_domains.items():
        if len(pools) > 1:
            block = next(b for b in lint.tree.blocks("virtual-mta-pool") if b.argument == pools[1])
            lint.at(
                block,
                "vmta-in-two-pools",
                f"VMTA {vmta} is in pools {', '.join(pools)}, which both define <domain> settings",
                lint.ref.cite("3.3.13.2"),
            )


def _paused(vmta: Block) -> bool:
    """Every queue of the VMTA at ``max-msg-rate 0`` (its own ``<domain *>`` says so)."""
    for child in vmta.blocks:
        if child.tag == "domain" and child.argument == "*":
            rate = child.first("max-msg-rate")
            return rate is not None and rate.value == "0"
    return False


def check_default_vmta(lint: LintRun, facts: Mapping[str, VmtaFacts]) -> None:
    """Unmarked mail must not leave through a paused, warming or standby IP (§3.3.7.29 selects the
    VMTA or pool; §8.2: a VMTA without smtp-source-host sends from the host's own addresses)."""
    vmtas = {block.argument: block for block in lint.tree.blocks("virtual-mta")}
    pools = {
        block.argument: [item.value for item in block.directives if item.name == "virtual-mta"]
        for block in lint.tree.blocks("virtual-mta-pool")
    }

    def unsafe(name: str) -> bool:
        block = vmtas.get(name)
        if block is None:
            return False  # an unknown-reference finding already
        if block.first("smtp-source-host") is None:
            return not _paused(block)
        return _paused(block) or (name in facts and facts[name].state != IpState.ACTIVE)

    for item in lint.tree.directives("default-virtual-mta"):
        members = pools.get(item.value, [item.value])
        bad = [name for name in members if unsafe(name)] if members else ["(an empty pool)"]
        if bad:
            lint.at(
                item,
                "default-vmta-unsafe",
                f"default-virtual-mta {item.value} sends unmarked mail through {', '.join(bad)}, which is "
                "paused, warming, on standby or has no address of its own; use a pool of active IPs only",
                lint.ref.cite("3.3.7.29"),
            )


def _per_hour(item: Directive | None) -> Fraction | None:
    """A setting's rate in messages per hour; None when absent, unlimited or unreadable (the last is
    a bad-value finding already)."""
    if item is None:
        return None
    try:
        return rate_per_hour(item.value)
    except ValueError:
        return None


def check_backoff(lint: LintRun, facts: Mapping[str, VmtaFacts]) -> None:
    """§3.3.10.34: in backoff mode ``backoff-max-msg-rate`` replaces ``max-msg-rate``; it defaults to
    the queue's ``max-msg-rate``. Slowing down must mean slower, for every queue through every VMTA,
    whichever inheritance order PowerMTA applies; with the inventory, within the warmup cap too."""
    section = lint.ref.cite("3.3.10.34")
    reported: set[tuple[str, int]] = set()

    def report(item: Directive, code: str, message: str, severity: Severity = "error") -> None:
        if (item.file, item.line) not in reported:
            reported.add((item.file, item.line))
            lint.at(item, code, message, section, severity=severity)

    judged: set[tuple[int, int | None]] = set()
    for view in queue_views(lint.tree):
        fact = facts.get(view.vmta)
        cap = fact.hourly_cap if fact is not None else None
        # VMTAs without blocks of their own share one settings object: judge it once per cap.
        if (id(view.settings), cap) in judged:
            continue
        judged.add((id(view.settings), cap))
        normal_item = view.settings.get("max-msg-rate")
        backoff_item = view.settings.get("backoff-max-msg-rate")
        normal, backoff = _per_hour(normal_item), _per_hour(backoff_item)
        where = f"queue {view.queue} through {view.vmta}"
        if cap is not None and normal_item is not None and (normal is None or normal > cap):
            report(
                normal_item,
                "over-warmup-cap",
                f"{where}: max-msg-rate {normal_item.value} is above the warmup cap {cap}/h",
            )
        if normal is None or normal_item is None:
            continue  # no finite rate to compare with (or a bad-value finding already)
        if backoff_item is None:
            if normal > 0 and "smtp-pattern-list" in view.settings:
                report(
                    normal_item,
                    "backoff-default",
                    f"{where}: no backoff-max-msg-rate, so backoff runs at max-msg-rate {normal_item.value}",
                    "warning",
                )
            continue
        if backoff_item.value != "unlimited" and backoff is None:
            continue  # unreadable: a bad-value finding already
        if normal == 0 and backoff != 0:
            report(
                backoff_item,
                "backoff-not-slower",
                f"{where} is paused (max-msg-rate 0) but backoff-max-msg-rate is {backoff_item.value}",
            )
        elif normal > 0 and (backoff is None or backoff >= normal):
            report(
                backoff_item,
                "backoff-not-slower",
                f"{where}: backoff-max-msg-rate {backoff_item.value} is not slower than max-msg-rate "
                f"{normal_item.value} ({normal_item.file}:{normal_item.line})",
            )
        elif cap and backoff is not None and backoff >= cap:
            report(
                backoff_item,
                "over-warmup-cap",
                f"{where}: backoff-max-msg-rate {backoff_item.value} is not below the warmup cap {cap}/h",
            )


def check_source_ips(lint: LintRun, expected_ips: Iterable[str], entry: str) -> None:
    seen: dict[str, Directive] = {}
    for item in lint.tree.directives("smtp-source-host"):
        words = item.value.split()
        if not words:
            continue
        try:
            canonical = str(ipaddress.ip_address(words[0]))
        except ValueError:
            continue  # a range, or already a bad-value finding
        if canonical in seen:
            first = seen[canonical]
            lint.at(
                item,
                "duplicate-ip",
                f"source IP {canonical} is already used at {first.file}:{first.line}",
                lint.ref.cite_directive("smtp-source-host"),
            )
        else:
            seen[canonical] = item
    for address in expected_ips:
        canonical = str(ipaddress.ip_address(address))
        if canonical not in seen:
            lint.add(
                entry,
                0,
                "missing-ip",
                f"inventory IP {canonical} has no virtual MTA (smtp-source-host)",
                lint.ref.cite("8.2"),
            )
