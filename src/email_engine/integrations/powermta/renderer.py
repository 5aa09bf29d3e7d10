"""Render PowerMTA's configuration from an inventory snapshot (pure: no I/O, no clock).

Three files, as the deployment guide names them, tied together with ``include``:

- ``config``: globals, the MailWizz listener and relay authentication, one ``<virtual-mta>`` per IP,
  the pools, the accounting pipes, the backoff pattern list and the ``<domain>`` throttles;
- ``routing-domains``: a ``domain-macro`` per provider and its ``queue-to`` rollup queue, plus the
  ``mx-rollup`` lines that send every domain hosted at a provider to the same queue;
- ``bounce-classifications``: ``<bounce-category-patterns>`` from the classifier rules.

Pool membership by IP state (reputation first):

====================  ====================  ===================================================
state                 in its pool?          rendered as
====================  ====================  ===================================================
active                yes                   a VMTA with the provider throttles
warming               yes                   a VMTA capped at the warmup plan's hourly limit
standby               no (weight 0)         a VMTA with every queue paused (``max-msg-rate 0``)
resting, quarantined  no (weight 0)         a VMTA with every queue paused
retired               no                    not rendered (the address may no longer be bound)
====================  ====================  ===================================================

PowerMTA rotates round-robin over a pool's VMTAs; an IP's share ("weight") is bounded by its own
rates, so a warming IP gets less traffic than an established one. Paused VMTAs stay defined so a
message that names one (``X-Virtual-MTA``) waits in the queue instead of bouncing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.bounce_patterns import RuleLike, render_bounce_patterns
from email_engine.integrations.powermta.inventory import Inventory, IpEntry, RenderSettings
from email_engine.integrations.powermta.pmta_regex import to_pmta_regex
from email_engine.integrations.powermta.safety import (
    UnsafeValue,
    check_address,
    check_email,
    check_hostname,
    check_name,
    check_path,
    check_secret,
)
from email_engine.integrations.powermta.tables import (
    ProviderThrottle,
    ThrottleTables,
    provider_queue,
    rate_per_hour,
)
from email_engine.integrations.powermta.writer import ConfigWriter

__all__ = [
    "ACCOUNTING_FIELDS",
    "BOUNCE_FILE",
    "CONFIG_FILE",
    "ROUTING_FILE",
    "RenderedConfig",
    "render_config",
]

CONFIG_FILE = "config"
ROUTING_FILE = "routing-domains"
BOUNCE_FILE = "bounce-classifications"
BACKOFF_LIST = "provider-backoff"
AUTH_SOURCE = "{mailwizz-auth}"

# What the engine's accounting parser reads (by header name). PowerMTA always writes ``type`` first.
ACCOUNTING_FIELDS = (
    "timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
    "dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool"
)

SENDING_STATES = frozenset({"active", "warming"})
PAUSED_STATES = frozenset({"standby", "resting", "quarantined"})
EXCLUDED_STATES = frozenset({"retired"})


@dataclass(frozen=True)
class RenderedConfig:
    files: dict[str, str]
    secrets: tuple[str, ...] = ()
    expected_ips: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def redacted(self) -> dict[str, str]:
        """The files with every secret value replaced by ``[redacted]``."""
        out: dict[str, str] = {}
        for name, text in self.files.items():
            shown = text
            for secret in self.secrets:
                shown = shown.replace(secret, "[redacted]")
            out[name] = shown
        return out


@dataclass(frozen=True)
class _Vmta:
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


def _plan(inventory: Inventory) -> list[_Vmta]:
    known_states = SENDING_STATES | PAUSED_STATES | EXCLUDED_STATES
    plan: list[_Vmta] = []
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
        if ip.vmta_name in names:
            raise InvalidInput(f"VMTA name {ip.vmta_name} is used by two IPs.")
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
        plan.append(_Vmta(ip=ip, paused=paused, hourly_cap=None if paused else hourly, provider_caps=shares))
    return plan


def _capped_rate(rate: str, hourly_cap: int) -> str:
    """The lower of a provider rate and the IP's warmup hourly cap (PowerMTA's "0" pauses)."""
    if hourly_cap <= 0:
        return "0"
    return rate if rate_per_hour(rate) <= hourly_cap else f"{hourly_cap}/h"


def _dkim_keys(inventory: Inventory, settings: RenderSettings) -> list[tuple[str, str, str]]:
    keys: list[tuple[str, str, str]] = []
    for domain in sorted(inventory.domains, key=lambda item: item.name):
        name = check_hostname(domain.name, what="sending domain")
        if not domain.dkim_selector:
            continue
        selector = check_name(domain.dkim_selector, what=f"DKIM selector of {name}")
        path = check_path(f"{settings.dkim_key_dir.rstrip('/')}/{name}.{selector}.pem", what="DKIM key path")
        keys.append((selector, name, path))
    return keys


def _pool_members(plan: Sequence[_Vmta], inventory: Inventory) -> dict[str, list[_Vmta]]:
    pools: dict[str, list[_Vmta]] = {check_name(pool.name, what="pool name"): [] for pool in inventory.pools}
    for item in plan:
        if item.ip.pool is None:
            continue
        pools.setdefault(item.ip.pool, []).append(item)
    return pools


def _default_pool(inventory: Inventory, pools: dict[str, list[_Vmta]]) -> str | None:
    purposes = {pool.name: pool.purpose for pool in inventory.pools}
    for preferred in ("marketing", "transactional"):
        for name, members in pools.items():
            if purposes.get(name) == preferred and any(not item.paused for item in members):
                return name
    for name, members in pools.items():
        if any(not item.paused for item in members):
            return name
    return None


def _render_globals(out: ConfigWriter, settings: RenderSettings) -> None:
    out.comment("Global settings")
    out.directive("postmaster", check_email(settings.postmaster, what="PMTA_POSTMASTER"))
    if settings.host_name:
        out.directive("host-name", check_hostname(settings.host_name, what="PMTA_HOST_NAME"))
    out.directive("run-as-root", "no")
    out.directive("log-file", check_path(settings.log_file, what="PMTA_LOG_FILE"))
    out.directive("spool", check_path(settings.spool_dir, what="PMTA_SPOOL_DIR"))
    out.directive("sync-msg-create", "false")
    out.directive("sync-msg-update", "false")
    out.blank()
    out.comment("Management web interface: local only (reach it through an SSH tunnel)")
    out.directive("http-mgmt-port", str(_port(settings.http_mgmt_port, "PMTA_HTTP_MGMT_PORT")))
    out.directive("http-access", "127.0.0.1", "admin")
    out.directive("http-access", "::1", "admin")
    out.directive("http-access", "0/0", "none")
    out.blank()


def _port(value: int, what: str) -> int:
    if not 0 < value < 65536:
        raise UnsafeValue(f"{what} {value} is not a TCP port (1-65535).")
    return value


def _render_listener(out: ConfigWriter, settings: RenderSettings, default_pool: str | None) -> None:
    user = check_name(settings.smtp_user, what="PMTA_SMTP_USER")
    password = check_secret(settings.smtp_password, what="PMTA_SMTP_PASSWORD")
    listen = check_address(settings.listener_address, what="PMTA_LISTENER_ADDRESS")
    port = _port(settings.listener_port, "PMTA_LISTENER_PORT")
    host = f"[{listen}]" if ":" in listen else listen
    out.comment("MailWizz submits over SMTP with authentication")
    out.directive("smtp-listener", f"{host}:{port}")
    out.blank()
    out.open("smtp-user", user)
    out.directive("password", password)
    out.directive("source", AUTH_SOURCE)
    out.close()
    out.blank()
    out.open("source", AUTH_SOURCE)
    out.directive("smtp-service", "yes")
    out.directive("always-allow-relaying", "yes")
    out.directive("process-x-virtual-mta", "yes")
    out.directive("process-x-job", "yes")
    out.directive("process-x-envid", "yes")
    if default_pool:
        out.directive("default-virtual-mta", default_pool)
    out.close()
    out.blank()
    if not settings.mailwizz_ips:
        raise InvalidInput("Set MAILWIZZ_IPS to the address(es) MailWizz connects from; none is allowed now.")
    for address in settings.mailwizz_ips:
        out.open("source", check_address(address, what="MAILWIZZ_IPS entry"))
        out.directive("smtp-service", "yes")
        out.directive("always-allow-relaying", "no")
        out.directive("require-auth", "true")
        out.directive("allow-unencrypted-plain-auth", "no")
        out.directive("log-connections", "no")
        out.close()
    out.open("source", "127.0.0.1")
    out.directive("smtp-service", "yes")
    out.directive("always-allow-relaying", "yes")
    out.directive("process-x-virtual-mta", "yes")
    if default_pool:
        out.directive("default-virtual-mta", default_pool)
    out.close()
    out.open("source", "0/0")
    out.directive("smtp-service", "no")
    out.directive("always-allow-relaying", "no")
    out.close()
    out.blank()


def _render_vmtas(
    out: ConfigWriter,
    plan: Sequence[_Vmta],
    keys: Sequence[tuple[str, str, str]],
    tables: ThrottleTables,
) -> None:
    out.comment("One virtual MTA per IP")
    for item in plan:
        ip = item.ip
        state = f"state {ip.state}, purpose {ip.purpose}"
        if item.paused:
            state += ", paused (weight 0, every queue at max-msg-rate 0)"
        elif item.hourly_cap is not None:
            state += f", warmup cap {item.hourly_cap}/h"
        out.comment(state)
        out.open("virtual-mta", ip.vmta_name)
        out.directive("smtp-source-host", ip.address, ip.hostname)
        for selector, domain, path in keys:
            out.directive("domain-key", f"{selector},{domain},{path}")
        if item.paused or item.hourly_cap is not None:
            default_cap = 0 if item.paused else item.cap_for(None)
            out.open("domain", "*")
            out.directive("max-msg-rate", _capped_rate(tables.default.max_msg_rate, default_cap or 0))
            out.close()
            for provider in tables.providers:
                provider_cap = 0 if item.paused else item.cap_for(provider.name)
                out.open("domain", provider_queue(provider))
                out.directive("max-msg-rate", _capped_rate(provider.max_msg_rate, provider_cap or 0))
                out.close()
        out.close()
    out.blank()


def _render_pools(out: ConfigWriter, pools: dict[str, list[_Vmta]]) -> None:
    out.comment("Pools: sending IPs only; standby, resting and quarantined IPs have weight 0")
    for name, members in pools.items():
        active = [item for item in members if not item.paused]
        held = [item for item in members if item.paused]
        if not active:
            out.comment(f"pool {name} has no sending IP; messages for it wait in the queue")
        out.open("virtual-mta-pool", name)
        for item in active:
            out.directive("virtual-mta", item.ip.vmta_name)
        for item in held:
            out.comment(f"weight 0: {item.ip.vmta_name} ({item.ip.state}, paused)")
        out.close()
    out.blank()


def _render_accounting(out: ConfigWriter, settings: RenderSettings) -> None:
    bounce = check_path(settings.bounce_pipe, what="PMTA_BOUNCE_PIPE")
    delivery = check_path(settings.delivery_pipe, what="PMTA_DELIVERY_PIPE")
    out.comment("Accounting pipes into Email Engine (CSV with a header line; parsed by header name)")
    out.open("acct-file", f"|{bounce}")
    out.directive("records", "b,rb,f")
    out.directive("record-fields", "b", ACCOUNTING_FIELDS)
    out.directive("record-fields", "rb", ACCOUNTING_FIELDS)
    out.directive("record-fields", "f", "*")
    out.close()
    out.open("acct-file", f"|{delivery}")
    out.directive("records", "d")
    out.directive("record-fields", "d", ACCOUNTING_FIELDS)
    out.close()
    out.blank()


def _render_backoff_list(out: ConfigWriter, tables: ThrottleTables) -> None:
    out.comment(
        f"Provider throttling replies: {len(tables.backoff_patterns)} patterns put the queue in backoff"
    )
    out.open("smtp-pattern-list", BACKOFF_LIST)
    current = None
    for item in tables.backoff_patterns:
        if item.provider != current:
            out.comment(item.provider)
            current = item.provider
        out.pattern_line("reply", to_pmta_regex(re.compile(item.pattern)), "mode=backoff")
    out.close()
    out.blank()


def _domain_limits(out: ConfigWriter, tables: ThrottleTables, provider: ProviderThrottle | None) -> None:
    backoff = tables.backoff
    rate = provider.max_msg_rate if provider else tables.default.max_msg_rate
    smtp_out = provider.max_smtp_out if provider else tables.default.max_smtp_out
    per_conn = provider.max_msg_per_connection if provider else tables.default.max_msg_per_connection
    out.directive("max-msg-rate", rate)
    out.directive("max-smtp-out", str(smtp_out))
    out.directive("max-msg-per-connection", str(per_conn))
    if provider is None:
        out.directive("retry-after", tables.default.retry_after)
        out.directive("bounce-after", tables.default.bounce_after)
        out.directive("dkim-sign", "yes")
        out.directive("use-starttls", "yes")
        out.directive("require-starttls", "no")
        out.directive("bounce-upon-no-mx", "yes")
    out.directive("smtp-pattern-list", BACKOFF_LIST)
    out.directive("backoff-max-msg-rate", backoff.max_msg_rate)
    out.directive("backoff-retry-after", backoff.retry_after)
    out.directive("backoff-to-normal-after", backoff.to_normal_after)
    out.directive("backoff-to-normal-after-delivery", "true" if backoff.to_normal_after_delivery else "false")


def _render_domains(out: ConfigWriter, tables: ThrottleTables) -> None:
    out.comment("Destination throttles (per queue: one provider through one IP)")
    out.open("domain", "*")
    _domain_limits(out, tables, None)
    out.close()
    for provider in tables.providers:
        out.comment(f"{provider.label or provider.name}: {provider.max_msg_rate}")
        out.open("domain", provider_queue(provider))
        _domain_limits(out, tables, provider)
        out.close()
    out.blank()


def _render_routing(tables: ThrottleTables) -> str:
    out = ConfigWriter()
    out.comment("Generated by Email Engine; included from config. Edit the throttle tables, not this file.")
    out.comment(
        "Every domain of a provider, and every domain whose MX is at that provider, shares one queue."
    )
    out.blank()
    for provider in tables.providers:
        queue = provider_queue(provider)
        macro = f"{provider.name}-domains"
        out.comment(f"{provider.label or provider.name}")
        out.directive("domain-macro", macro, ",".join(provider.domains))
        out.open("domain", f"${macro}")
        out.directive("queue-to", queue)
        out.close()
        for host in provider.mx:
            out.directive("mx-rollup", queue, host)
        out.blank()
    return out.text()


def render_config(
    inventory: Inventory,
    settings: RenderSettings,
    tables: ThrottleTables,
    bounce_rules: Sequence[RuleLike],
) -> RenderedConfig:
    """Render the three files; raises :class:`InvalidInput` naming the first unsafe or missing value."""
    plan = _plan(inventory)
    keys = _dkim_keys(inventory, settings)
    pools = _pool_members(plan, inventory)
    default_pool = _default_pool(inventory, pools)
    config_dir = check_path(settings.config_dir, what="PMTA_CONFIG_DIR").rstrip("/")

    out = ConfigWriter()
    out.comment("PowerMTA configuration generated by Email Engine (email-engine pmta render).")
    out.comment("Do not edit by hand: change the inventory or the throttle tables and deploy again.")
    out.comment(
        f"{len(plan)} virtual MTAs, {len(pools)} pools, {len(tables.providers)} providers, "
        f"{len(tables.backoff_patterns)} backoff patterns"
    )
    out.blank()
    _render_globals(out, settings)
    _render_listener(out, settings, default_pool)
    _render_vmtas(out, plan, keys, tables)
    _render_pools(out, pools)
    _render_accounting(out, settings)
    _render_backoff_list(out, tables)
    _render_domains(out, tables)
    out.comment("Provider rollups and bounce categories")
    out.directive("include", f"{config_dir}/{ROUTING_FILE}")
    out.directive("include", f"{config_dir}/{BOUNCE_FILE}")

    files = {
        CONFIG_FILE: out.text(),
        ROUTING_FILE: _render_routing(tables),
        BOUNCE_FILE: render_bounce_patterns(bounce_rules),
    }
    return RenderedConfig(
        files=files,
        secrets=(settings.smtp_password,),
        expected_ips=tuple(item.ip.address for item in plan),
    )
