"""Render PowerMTA's configuration from an inventory snapshot (pure: no I/O, no clock).

Only what PowerMTA's User's Guide documents is written (every line goes through the writer, which
checks it against ``reference.yaml``). Three files, tied together with ``include`` (§3.3.1.31):

- ``config``: globals, the MailWizz listener and relay authentication, one ``<virtual-mta>`` per IP,
  the pools, the accounting pipes (and, when inbound reports are configured, the bounce and
  feedback-loop processors that produce ``rb``/``f`` records), the backoff pattern list and the
  ``<domain>`` throttles;
- ``routing-domains`` (:mod:`routing_domains`): the ``<mx-rollup-list>`` that puts every domain hosted at a provider into
  the provider's queue (§10.17), and for providers known only by their domains a ``domain-macro``
  and ``queue-to`` into a queue with ``smtp-hosts`` (§10.9);
- ``bounce-classifications``: ``<bounce-category-patterns>`` from the classifier rules (§10.8).

docs/powermta.md says, for each kind of block, which guide section it follows.

Pool membership by IP state (reputation first; :mod:`vmta_plan` decides it):

====================  ====================  ===================================================
state                 in its pool?          rendered as
====================  ====================  ===================================================
active                yes                   a VMTA with the provider throttles
warming               yes                   a VMTA capped at the warmup plan's hourly limit
standby               no (weight 0)         a VMTA with every queue paused (``max-msg-rate 0``)
resting, quarantined  no (weight 0)         a VMTA with every queue paused
retired               no                    not rendered (the address may no longer be bound)
====================  ====================  ===================================================

Backoff is derived, never configured: every ``<domain>`` block that sets ``max-msg-rate`` also sets
``backoff-max-msg-rate`` to a fraction of that same rate (:func:`tables.backoff_rate`), so whichever
block PowerMTA's inheritance picks, the queue's backoff is slower than its normal rate and below any
warmup cap (§3.3.10.34).

Unmarked mail (no ``X-Virtual-MTA`` header) goes to the first ``marketing`` pool, by name, whose
listed VMTAs are all ``active``; when there is none it goes to ``unmarked-hold``, a VMTA with no
address and every queue paused, so it waits in the queue instead of leaving through a cold IP.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.bounce_patterns import RuleLike, render_bounce_patterns
from email_engine.integrations.powermta.inventory import Inventory, RenderSettings, VmtaFacts
from email_engine.integrations.powermta.pmta_regex import to_pmta_regex
from email_engine.integrations.powermta.routing_domains import render_routing
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
    BackoffPolicy,
    ProviderThrottle,
    ThrottleTables,
    backoff_rate,
    provider_queue,
    rate_per_hour,
)
from email_engine.integrations.powermta.vmta_plan import (
    HOLD_VMTA,
    PlannedVmta,
    default_target,
    facts_of,
    plan_vmtas,
    pool_members,
)
from email_engine.integrations.powermta.writer import ConfigWriter

__all__ = [
    "ACCOUNTING_FIELDS",
    "AUTH_SOURCE",
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
# A named <source> for authenticated MailWizz sessions. Not "{…}": names beginning with "{" are
# reserved (§3.3.7: only {pickup} and {auth} are documented).
AUTH_SOURCE = "mailwizz-auth"
INBOUND_SOURCE = "inbound-reports"
# §12.7.1: Hotmail's JMRP reports carry the complaining recipient in this header of the original
# message; map-header-to-field (§3.3.11.10) puts it in the f record's rcpt field.
HOTMAIL_RECIPIENT_HEADER = "header_X-HmXmrOriginalRecipient"

# What the engine's accounting parser reads (by header name) from d and b records (§11.2.2-3).
# PowerMTA always writes ``type`` first.
ACCOUNTING_FIELDS = (
    "timeLogged,timeQueued,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,bounceCat,srcType,srcMta,"
    "dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,jobId,envId,queue,vmtaPool"
)


@dataclass(frozen=True)
class RenderedConfig:
    files: dict[str, str]
    secrets: tuple[str, ...] = ()
    expected_ips: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    #: What the linter cannot read from the text: each VMTA's state and warmup cap.
    vmtas: Mapping[str, VmtaFacts] = field(default_factory=dict)

    def redacted(self) -> dict[str, str]:
        """The files with every secret value replaced by ``[redacted]``."""
        out: dict[str, str] = {}
        for name, text in self.files.items():
            shown = text
            for secret in self.secrets:
                shown = shown.replace(secret, "[redacted]")
            out[name] = shown
        return out


def _capped_rate(rate: str, hourly_cap: int) -> str:
    """The lower of a provider rate and the IP's warmup hourly cap (PowerMTA's "0" pauses)."""
    if hourly_cap <= 0:
        return "0"
    return rate if rate_per_hour(rate) <= hourly_cap else f"{hourly_cap}/h"


def _dkim_keys(inventory: Inventory, settings: RenderSettings) -> list[tuple[str, str, str]]:
    keys: dict[tuple[str, str], str] = {}
    for domain in sorted(inventory.domains, key=lambda item: item.name):
        name = check_hostname(domain.name, what="sending domain")
        if not domain.dkim_selector:
            continue
        selector = check_name(domain.dkim_selector, what=f"DKIM selector of {name}")
        path = check_path(f"{settings.dkim_key_dir.rstrip('/')}/{name}.{selector}.pem", what="DKIM key path")
        keys[(selector, name)] = path
    return [(selector, name, path) for (selector, name), path in keys.items()]


def _render_globals(out: ConfigWriter, settings: RenderSettings) -> None:
    out.comment("Global settings (User's Guide 3.3.1)")
    out.directive("postmaster", check_email(settings.postmaster, what="PMTA_POSTMASTER"))
    if settings.host_name:
        out.directive("host-name", check_hostname(settings.host_name, what="PMTA_HOST_NAME"))
    out.directive("run-as-root", "no")
    out.directive("log-file", check_path(settings.log_file, what="PMTA_LOG_FILE"))
    out.open("spool", check_path(settings.spool_dir, what="PMTA_SPOOL_DIR"))
    out.close()
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


def _listener(address: str, port: int, what: str) -> str:
    listen = check_address(address, what=what)
    if ":" in listen:
        raise InvalidInput(
            f"{what} {listen} is IPv6; the User's Guide documents smtp-listener only as CIDR:PORT with an "
            "IPv4 address (3.3.1.20). Use an IPv4 address or 0.0.0.0."
        )
    return f"{listen}:{port}"


def _render_listener(out: ConfigWriter, settings: RenderSettings, default_vmta: str) -> None:
    user = check_name(settings.smtp_user, what="PMTA_SMTP_USER")
    password = check_secret(settings.smtp_password, what="PMTA_SMTP_PASSWORD")
    port = _port(settings.listener_port, "PMTA_LISTENER_PORT")
    out.comment("MailWizz submits over SMTP with authentication (3.3.1.20, 10.4.2)")
    out.directive("smtp-listener", _listener(settings.listener_address, port, "PMTA_LISTENER_ADDRESS"))
    out.blank()
    out.open("smtp-user", user)
    out.directive("password", password)
    out.directive("source", AUTH_SOURCE)
    out.close()
    out.blank()
    out.comment(f"Unmarked mail (no X-Virtual-MTA header) goes to {default_vmta}")
    out.open("source", AUTH_SOURCE)
    out.directive("smtp-service", "yes")
    out.directive("always-allow-relaying", "yes")
    out.directive("process-x-virtual-mta", "yes")
    out.directive("process-x-job", "yes")
    out.directive("process-x-envid", "yes")
    out.directive("default-virtual-mta", default_vmta)
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
    out.directive("default-virtual-mta", default_vmta)
    out.close()
    out.open("source", "0/0")
    out.directive("smtp-service", "no")
    out.directive("always-allow-relaying", "no")
    out.close()
    out.blank()


def _queue_limits(out: ConfigWriter, rate: str, policy: BackoffPolicy) -> None:
    """A queue's rate and the backoff rate derived from it, always written together."""
    out.directive("max-msg-rate", rate)
    out.directive("backoff-max-msg-rate", backoff_rate(rate, policy))


def _render_vmtas(
    out: ConfigWriter,
    plan: Sequence[PlannedVmta],
    keys: Sequence[tuple[str, str, str]],
    tables: ThrottleTables,
    default_vmta: str,
) -> None:
    out.comment("One virtual MTA per IP (8.2, 3.3.12); per-queue caps in domain blocks inside it")
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
            _queue_limits(out, _capped_rate(tables.default.max_msg_rate, default_cap or 0), tables.backoff)
            out.close()
            for provider in tables.providers:
                provider_cap = 0 if item.paused else item.cap_for(provider.name)
                out.open("domain", provider_queue(provider))
                _queue_limits(out, _capped_rate(provider.max_msg_rate, provider_cap or 0), tables.backoff)
                out.close()
        out.close()
    if default_vmta == HOLD_VMTA:
        out.comment(
            "No marketing pool of active IPs: unmarked mail waits here (no address, every queue paused)"
        )
        out.open("virtual-mta", HOLD_VMTA)
        out.open("domain", "*")
        _queue_limits(out, "0", tables.backoff)
        out.close()
        for provider in tables.providers:
            out.open("domain", provider_queue(provider))
            _queue_limits(out, "0", tables.backoff)
            out.close()
        out.close()
    out.blank()


def _render_pools(out: ConfigWriter, pools: dict[str, list[PlannedVmta]]) -> None:
    out.comment("Pools (8.3, 3.3.13): sending IPs only; standby, resting and quarantined IPs have weight 0")
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


def _bounce_domains(inventory: Inventory) -> list[str]:
    return sorted(
        {
            check_hostname(domain.bounce_domain, what=f"bounce domain of {domain.name}")
            for domain in inventory.domains
            if domain.bounce_domain
        }
    )


def _render_inbound(out: ConfigWriter, settings: RenderSettings, inventory: Inventory) -> tuple[bool, bool]:
    """The listener, named source and processors that turn incoming bounces and complaints into
    ``rb`` and ``f`` records (§12.6, §12.7). Returns (bounce processor written, FBL processor written)."""
    if not settings.inbound_listener:
        return False, False
    address, _, port = settings.inbound_listener.rpartition(":")
    if not port.isdigit():
        raise InvalidInput("PMTA_INBOUND_LISTENER must be ADDRESS:PORT, e.g. 0.0.0.0:25.")
    listener = _listener(address, _port(int(port), "PMTA_INBOUND_LISTENER port"), "PMTA_INBOUND_LISTENER")
    bounce_domains = _bounce_domains(inventory)
    fbl = [check_email(address, what="PMTA_FBL_ADDRESSES entry") for address in settings.fbl_addresses]
    if not bounce_domains and not fbl:
        return False, False
    out.comment(
        "Inbound reports (12.6, 12.7): mail from anywhere, for the bounce domains and FBL addresses only"
    )
    out.directive("smtp-listener", listener, f"source={INBOUND_SOURCE}")
    out.open("source", INBOUND_SOURCE)
    out.directive("smtp-service", "yes")
    out.directive("always-allow-relaying", "no")
    out.directive("process-x-virtual-mta", "no")
    out.close()
    for domain in bounce_domains:
        out.directive("relay-domain", domain)
    for address in fbl:
        out.directive("relay-address", address)
    _processor(out, "bounce-processor", "domain", bounce_domains)
    _processor(out, "feedback-loop-processor", "address", fbl)
    out.blank()
    return bool(bounce_domains), bool(fbl)


def _processor(out: ConfigWriter, tag: str, kind: str, targets: Sequence[str]) -> None:
    """A processor for the mail sent to ``targets``; matched and unmatched mail is discarded after
    processing (§3.3.3.1-2), never delivered back to ourselves."""
    if not targets:
        return
    out.open(tag)
    out.directive("deliver-unmatched-email", "no")
    out.directive("deliver-matched-email", "no")
    out.open("address-list")
    for target in targets:
        out.directive(kind, target)
    out.close()
    out.close()


def _render_accounting(out: ConfigWriter, settings: RenderSettings, *, remote: bool, fbl: bool) -> None:
    bounce = check_path(settings.bounce_pipe, what="PMTA_BOUNCE_PIPE")
    delivery = check_path(settings.delivery_pipe, what="PMTA_DELIVERY_PIPE")
    records = ",".join(["b", *(["rb"] if remote else []), *(["f"] if fbl else [])])
    out.comment("Accounting pipes into Email Engine (11.3; CSV with a header line, parsed by header name)")
    out.open("acct-file", f"|{bounce}")
    out.directive("records", records)
    out.directive("record-fields", "b", ACCOUNTING_FIELDS)
    if remote:
        out.directive("record-fields", "rb", "*")
    if fbl:
        out.directive("record-fields", "f", "*")
        out.directive("map-header-to-field", "f", HOTMAIL_RECIPIENT_HEADER, "rcpt")
    out.close()
    out.open("acct-file", f"|{delivery}")
    out.directive("records", "d")
    out.directive("record-fields", "d", ACCOUNTING_FIELDS)
    out.close()
    out.blank()


def _render_backoff_list(out: ConfigWriter, tables: ThrottleTables) -> None:
    out.comment(
        f"Provider throttling replies (3.3.15): {len(tables.backoff_patterns)} patterns put the queue in backoff"
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


def _smtp_hosts(provider: ProviderThrottle) -> str | None:
    """§10.9: a queue that domains are combined into with queue-to needs smtp-hosts; a provider
    grouped by MX (§10.17, rollup-by-ip) does not."""
    return None if provider.mx else f"lookup-mx:{provider.domains[0]}"


def _domain_limits(out: ConfigWriter, tables: ThrottleTables, provider: ProviderThrottle | None) -> None:
    backoff = tables.backoff
    rate = provider.max_msg_rate if provider else tables.default.max_msg_rate
    smtp_out = provider.max_smtp_out if provider else tables.default.max_smtp_out
    per_conn = provider.max_msg_per_connection if provider else tables.default.max_msg_per_connection
    hosts = _smtp_hosts(provider) if provider else None
    if hosts:
        out.directive("smtp-hosts", hosts)
    _queue_limits(out, rate, backoff)
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
    out.directive("backoff-retry-after", backoff.retry_after)
    out.directive("backoff-to-normal-after", backoff.to_normal_after)
    out.directive("backoff-to-normal-after-delivery", "true" if backoff.to_normal_after_delivery else "false")


def _render_domains(out: ConfigWriter, tables: ThrottleTables) -> None:
    out.comment("Destination throttles (3.3.10; per queue: one provider through one IP)")
    out.open("domain", "*")
    _domain_limits(out, tables, None)
    out.close()
    for provider in tables.providers:
        out.comment(f"{provider.label or provider.name}: {provider.max_msg_rate}")
        out.open("domain", provider_queue(provider))
        _domain_limits(out, tables, provider)
        out.close()
    out.blank()


def render_config(
    inventory: Inventory,
    settings: RenderSettings,
    tables: ThrottleTables,
    bounce_rules: Sequence[RuleLike],
) -> RenderedConfig:
    """Render the three files; raises :class:`InvalidInput` naming the first unsafe or missing value."""
    plan = plan_vmtas(inventory)
    keys = _dkim_keys(inventory, settings)
    pools = pool_members(plan, inventory)
    default_vmta = default_target(inventory, pools)
    config_dir = check_path(settings.config_dir, what="PMTA_CONFIG_DIR").rstrip("/")
    notes: list[str] = []
    if default_vmta == HOLD_VMTA:
        notes.append(
            "No marketing pool holds only active IPs, so mail without an X-Virtual-MTA header is held "
            f"in the paused VMTA {HOLD_VMTA} (it never leaves through a warming or standby IP). Set "
            "X-Virtual-MTA on every MailWizz delivery server."
        )

    out = ConfigWriter()
    out.comment("PowerMTA configuration generated by Email Engine (email-engine pmta render).")
    out.comment("Do not edit by hand: change the inventory or the throttle tables and deploy again.")
    out.comment("Every line follows PowerMTA's User's Guide v5.0; section numbers are in docs/powermta.md.")
    out.comment(
        f"{len(plan)} virtual MTAs, {len(pools)} pools, {len(tables.providers)} providers, "
        f"{len(tables.backoff_patterns)} backoff patterns"
    )
    out.blank()
    _render_globals(out, settings)
    _render_listener(out, settings, default_vmta)
    _render_vmtas(out, plan, keys, tables, default_vmta)
    _render_pools(out, pools)
    remote, fbl = _render_inbound(out, settings, inventory)
    if settings.inbound_listener and not (remote or fbl):
        notes.append(
            "PMTA_INBOUND_LISTENER is set but no sending domain has a bounce domain and PMTA_FBL_ADDRESSES "
            "is empty: no bounce or feedback-loop processor was rendered."
        )
    if remote or fbl:
        notes.append(
            "The bounce/feedback-loop processors take effect only after `pmta restart` (User's Guide 12.6), "
            "not after a reload."
        )
    _render_accounting(out, settings, remote=remote, fbl=fbl)
    _render_backoff_list(out, tables)
    _render_domains(out, tables)
    out.comment("Provider rollups and bounce categories")
    out.directive("include", f"{config_dir}/{ROUTING_FILE}")
    out.directive("include", f"{config_dir}/{BOUNCE_FILE}")

    files = {
        CONFIG_FILE: out.text(),
        ROUTING_FILE: render_routing(tables),
        BOUNCE_FILE: render_bounce_patterns(bounce_rules),
    }
    return RenderedConfig(
        files=files,
        secrets=(settings.smtp_password,),
        expected_ips=tuple(item.ip.address for item in plan),
        notes=tuple(notes),
        vmtas=facts_of(plan),
    )
