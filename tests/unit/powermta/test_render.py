"""The renderer on the guide's 5-IP inventory: golden files, throttles, pipes, pools, safety."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.inventory import Inventory, IpEntry, VolumeCap
from email_engine.integrations.powermta.linter import lint_files
from email_engine.integrations.powermta.renderer import (
    ACCOUNTING_FIELDS,
    BOUNCE_FILE,
    CONFIG_FILE,
    ROUTING_FILE,
    RenderedConfig,
    render_config,
)
from email_engine.integrations.powermta.tables import default_tables, parse_tables
from tests.unit.powermta.guide import PASSWORD, SAMPLE_RULES, guide_inventory, guide_settings

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "powermta" / "guide"
REQUIRED_FIELDS = [
    "timeLogged",
    "timeQueued",
    "orig",
    "rcpt",
    "orcpt",
    "dsnAction",
    "dsnStatus",
    "dsnDiag",
    "dsnMta",
    "bounceCat",
    "srcType",
    "srcMta",
    "dlvType",
    "dlvSourceIp",
    "dlvDestinationIp",
    "dlvSize",
    "vmta",
    "jobId",
    "envId",
    "queue",
    "vmtaPool",
]


def _render(inventory: Inventory | None = None, **settings: object) -> RenderedConfig:
    return render_config(
        inventory or guide_inventory(), guide_settings(**settings), default_tables(), SAMPLE_RULES
    )


def _blocks(text: str, tag: str) -> dict[str, list[str]]:
    """Top-level ``<tag name> … </tag>`` bodies by name (directive lines, stripped)."""
    blocks: dict[str, list[str]] = {}
    current: str | None = None
    depth = 0
    for line in text.splitlines():
        stripped = line.strip()
        if current is None and depth == 0 and stripped.startswith(f"<{tag} "):
            current = stripped[len(tag) + 2 : -1]
            blocks[current] = []
            continue
        if current is not None:
            if stripped == f"</{tag}>" and line == f"</{tag}>":
                current = None
                continue
            blocks[current].append(stripped)
    return blocks


@pytest.fixture(scope="module")
def rendered() -> RenderedConfig:
    return _render()


def test_golden_files(rendered: RenderedConfig) -> None:
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for name, text in rendered.files.items():
            (GOLDEN / name).write_text(text, encoding="utf-8")
    for name in (CONFIG_FILE, ROUTING_FILE, BOUNCE_FILE):
        expected = (GOLDEN / name).read_text(encoding="utf-8")
        assert rendered.files[name] == expected, f"{name} differs from tests/data/powermta/guide/{name}"


def test_rendered_guide_config_passes_the_linter_strictly(rendered: RenderedConfig) -> None:
    report = lint_files(rendered.files, entry=CONFIG_FILE, expected_ips=rendered.expected_ips)
    assert report.issues == []
    assert report.files == [CONFIG_FILE, ROUTING_FILE, BOUNCE_FILE]
    assert set(rendered.expected_ips) == {
        "192.0.2.10",
        "192.0.2.11",
        "192.0.2.12",
        "192.0.2.13",
        "192.0.2.14",
    }


def test_no_placeholder_anywhere(rendered: RenderedConfig) -> None:
    everything = "\n".join(rendered.files.values())
    for token in ("IP1_ADDRESS", "CHANGE_ME", "YOUR_", "{{", "XXX", "example_placeholder"):
        assert token not in everything


@pytest.mark.parametrize(
    ("queue", "rate", "smtp_out", "per_connection"),
    [
        ("*", "500/h", None, None),
        ("gmail.rollup", "50/h", None, None),
        ("microsoft.rollup", "50/h", "1", None),
        ("yahoo.rollup", "30/h", None, "2"),
        ("aol.rollup", "50/h", None, None),
        ("orange.rollup", "30/h", None, None),
        ("free.rollup", "30/h", None, None),
        ("sfr.rollup", "30/h", None, None),
        ("t-online.rollup", "30/h", None, None),
        ("webde.rollup", "30/h", None, None),
        ("comcast.rollup", "50/h", None, None),
        ("att.rollup", "50/h", None, None),
        ("cox.rollup", "50/h", None, None),
        ("charter.rollup", "50/h", None, None),
        ("icloud.rollup", "50/h", None, None),
    ],
)
def test_guide_throttles(
    rendered: RenderedConfig, queue: str, rate: str, smtp_out: str | None, per_connection: str | None
) -> None:
    body = _blocks(rendered.files[CONFIG_FILE], "domain")[queue]
    assert f"max-msg-rate {rate}" in body
    if smtp_out:
        assert f"max-smtp-out {smtp_out}" in body
    if per_connection:
        assert f"max-msg-per-connection {per_connection}" in body
    # Backoff on every queue: a fifth of its own rate (50/h -> 10/h, 30/h -> 6/h, 500/h -> 100/h),
    # retry every 20 minutes, normal after 1 h or a delivery.
    slower = f"{int(rate.split('/', maxsplit=1)[0]) // 5}/h"
    for line in (
        "smtp-pattern-list provider-backoff",
        f"backoff-max-msg-rate {slower}",
        "backoff-retry-after 20m",
        "backoff-to-normal-after 1h",
        "backoff-to-normal-after-delivery true",
    ):
        assert line in body


def test_backoff_list_has_at_least_80_real_patterns(rendered: RenderedConfig) -> None:
    body = _blocks(rendered.files[CONFIG_FILE], "smtp-pattern-list")["provider-backoff"]
    replies = [line for line in body if line.startswith("reply /") and line.endswith(" mode=backoff")]
    assert len(replies) >= 80
    joined = "\n".join(replies)
    for needle in ("4\\.7\\.28", "TSS04", "4\\.7\\.650", "S775", "Trop de connexions", "RP-00"):
        assert needle in joined


def test_every_big_provider_is_rolled_up_by_mx(rendered: RenderedConfig) -> None:
    """§10.17: an <mx-rollup-list> of "mx PATTERN QUEUE.rollup rollup-by-ip" lines (no top-level
    mx-rollup directive, no hyphenated macro names)."""
    routing = rendered.files[ROUTING_FILE]
    rollups = re.findall(r"^    mx (\S+) (\S+\.rollup)(?: (rollup-by-ip))?$", routing, re.MULTILINE)
    assert "<mx-rollup-list>" in routing and "</mx-rollup-list>" in routing
    assert {queue for _, queue, _ in rollups} == {f"{p.name}.rollup" for p in default_tables().providers}
    assert ("*.google.com", "gmail.rollup", "rollup-by-ip") in rollups
    assert ("*.mail.protection.outlook.com", "microsoft.rollup", "rollup-by-ip") in rollups
    # wildcards always with rollup-by-ip (delivery to the domain's own MX); exact names without
    assert all(by_ip == ("rollup-by-ip" if pattern.startswith("*.") else "") for pattern, _, by_ip in rollups)
    assert "mx-rollup " not in routing and "domain-macro" not in routing  # every provider has MX patterns
    defined = set(_blocks(rendered.files[CONFIG_FILE], "domain"))
    assert {queue for _, queue, _ in rollups} <= defined


def test_a_provider_known_only_by_domains_is_combined_with_queue_to_and_smtp_hosts() -> None:
    """§10.9: domains combined with queue-to need smtp-hosts on the target queue; §3.3.1.33.4: the
    macro name has letters, digits and '_' only."""
    tables = default_tables().model_copy(deep=True)
    data = tables.model_dump()
    data["providers"].append(
        {
            "name": "mail-ru",
            "label": "Mail.ru",
            "max_msg_rate": "20/h",
            "domains": ["mail.ru", "inbox.ru", "bk.ru"],
        }
    )
    custom = parse_tables(data)
    result = render_config(guide_inventory(), guide_settings(), custom, SAMPLE_RULES)
    routing = result.files[ROUTING_FILE]
    assert "domain-macro mail_ru_domains mail.ru,inbox.ru,bk.ru" in routing
    assert "<domain $mail_ru_domains>\n    queue-to mail-ru.rollup\n</domain>" in routing
    body = _blocks(result.files[CONFIG_FILE], "domain")["mail-ru.rollup"]
    assert body[0] == "smtp-hosts lookup-mx:mail.ru"
    report = lint_files(result.files, entry=CONFIG_FILE, expected_ips=result.expected_ips, vmtas=result.vmtas)
    assert report.issues == []


def test_both_accounting_pipes(rendered: RenderedConfig) -> None:
    blocks = _blocks(rendered.files[CONFIG_FILE], "acct-file")
    bounce = blocks["|/opt/email-engine/scripts/bounce-pipe.sh"]
    delivery = blocks["|/opt/email-engine/scripts/delivery-pipe.sh"]
    # No inbound listener configured: PowerMTA receives no remote bounces or FBL reports, so rb/f are
    # not listed (§12.6/§12.7 write them only for mail their processors recognised).
    assert "records b" in bounce
    assert "records d" in delivery
    for body, kind in ((bounce, "b"), (delivery, "d")):
        fields = (
            next(line for line in body if line.startswith(f"record-fields {kind} ")).split()[2].split(",")
        )
        assert set(REQUIRED_FIELDS) <= set(fields)
    assert "<bounce-processor>" not in rendered.files[CONFIG_FILE]


def test_inbound_reports_render_the_processors_rb_and_f_need() -> None:
    result = _render(inbound_listener="0.0.0.0:25", fbl_addresses=("fbl@fbl.example.com",))
    config = result.files[CONFIG_FILE]
    bounce = _blocks(config, "acct-file")["|/opt/email-engine/scripts/bounce-pipe.sh"]
    assert bounce[:2] == ["records b,rb,f", f"record-fields b {ACCOUNTING_FIELDS}"]
    assert "record-fields rb *" in bounce and "record-fields f *" in bounce
    # §12.7.1: Hotmail's JMRP recipient, mapped with the guide's header-mapping directive
    assert "map-header-to-field f header_X-HmXmrOriginalRecipient rcpt" in bounce
    assert "smtp-listener 0.0.0.0:25 source=inbound-reports" in config
    assert _blocks(config, "source")["inbound-reports"] == [
        "smtp-service yes",
        "always-allow-relaying no",
        "process-x-virtual-mta no",
    ]
    assert re.findall(r"^relay-domain (\S+)$", config, re.MULTILINE) == [
        "bounce.example.com",
        "bounce.example.org",
    ]
    assert "relay-address fbl@fbl.example.com" in config
    assert (
        "    <address-list>\n        domain bounce.example.com\n        domain bounce.example.org\n    </address-list>"
        in config
    )
    assert (
        "<feedback-loop-processor>\n    deliver-unmatched-email no\n    deliver-matched-email no\n    <address-list>\n        address fbl@fbl.example.com"
        in config
    )
    assert any("restart" in note for note in result.notes)
    report = lint_files(result.files, entry=CONFIG_FILE, expected_ips=result.expected_ips, vmtas=result.vmtas)
    assert report.issues == []


def test_inbound_without_bounce_domains_or_fbl_addresses_lists_no_rb_or_f() -> None:
    base = guide_inventory()
    domains = tuple(dataclasses.replace(domain, bounce_domain=None) for domain in base.domains)
    result = _render(dataclasses.replace(base, domains=domains), inbound_listener="0.0.0.0:25")
    assert "records b\n" in result.files[CONFIG_FILE]
    assert "source=inbound-reports" not in result.files[CONFIG_FILE]
    assert result.notes and "no bounce or feedback-loop processor" in result.notes[0]


def test_listener_auth_and_management_port(rendered: RenderedConfig) -> None:
    config = rendered.files[CONFIG_FILE]
    assert "smtp-listener 0.0.0.0:2525" in config
    # a plain named source: names beginning with "{" are reserved (§3.3.7)
    assert _blocks(config, "smtp-user")["mailwizz"] == [f"password {PASSWORD}", "source mailwizz-auth"]
    mailwizz = _blocks(config, "source")["198.51.100.7"]
    assert "require-auth true" in mailwizz and "smtp-service yes" in mailwizz
    assert "always-allow-relaying yes" in _blocks(config, "source")["mailwizz-auth"]
    assert "always-allow-relaying no" in _blocks(config, "source")["0/0"]
    assert "postmaster postmaster@example.com" in config
    assert "http-mgmt-port 8080" in config
    access = re.findall(r"^http-access (\S+) (\S+)$", config, re.MULTILINE)
    assert access == [("127.0.0.1", "admin"), ("::1", "admin"), ("0/0", "none")]


def test_vmtas_pools_and_weights(rendered: RenderedConfig) -> None:
    config = rendered.files[CONFIG_FILE]
    vmtas = _blocks(config, "virtual-mta")
    assert set(vmtas) == {
        "vmta-transactional-1",
        "vmta-marketing-1",
        "vmta-cold-1",
        "vmta-cold-2",
        "vmta-cold-3",
    }
    assert "smtp-source-host 192.0.2.10 mta1.mail.example.com" in vmtas["vmta-transactional-1"]
    assert "domain-key s2026,example.com,/etc/pmta/dkim/example.com.s2026.pem" in vmtas["vmta-marketing-1"]
    assert "domain-key s2026,example.org,/etc/pmta/dkim/example.org.s2026.pem" in vmtas["vmta-marketing-1"]
    # Warming IP: every queue capped at the warmup hourly limit (20/h is below every provider rate).
    assert vmtas["vmta-cold-1"].count("max-msg-rate 20/h") == 1 + len(default_tables().providers)
    # Standby IPs: defined, every queue paused, and weight 0 (not in the pool).
    assert vmtas["vmta-cold-2"].count("max-msg-rate 0") == 1 + len(default_tables().providers)
    assert not any(line.startswith("<domain") for line in vmtas["vmta-marketing-1"])
    pools = _blocks(config, "virtual-mta-pool")
    assert pools["transactional"] == ["virtual-mta vmta-transactional-1"]
    assert pools["marketing"] == ["virtual-mta vmta-marketing-1"]
    assert [line for line in pools["cold-outreach"] if not line.startswith("#")] == [
        "virtual-mta vmta-cold-1"
    ]


def test_states_other_than_sending(rendered: RenderedConfig) -> None:
    base = guide_inventory()
    ips = list(base.ips)
    ips[1] = dataclasses.replace(ips[1], state="quarantined")
    ips[0] = dataclasses.replace(ips[0], state="retired")
    result = _render(dataclasses.replace(base, ips=tuple(ips)))
    config = result.files[CONFIG_FILE]
    assert "vmta-transactional-1" not in config and "192.0.2.10" not in config
    assert "192.0.2.10" not in result.expected_ips
    pools = _blocks(config, "virtual-mta-pool")
    assert not [line for line in pools["marketing"] if line.startswith("virtual-mta ")]
    assert _blocks(config, "virtual-mta")["vmta-marketing-1"].count("max-msg-rate 0") >= 1
    assert lint_files(result.files, entry=CONFIG_FILE, expected_ips=result.expected_ips).ok()


def test_paused_warmup_plan_leaves_the_pool() -> None:
    base = guide_inventory()
    result = _render(dataclasses.replace(base, limits={3: VolumeCap(daily=0, hourly=0)}))
    pools = _blocks(result.files[CONFIG_FILE], "virtual-mta-pool")
    assert not [line for line in pools["cold-outreach"] if line.startswith("virtual-mta ")]


def test_warmup_cap_above_a_provider_rate_keeps_the_provider_rate() -> None:
    base = guide_inventory()
    result = _render(dataclasses.replace(base, limits={3: VolumeCap(daily=2000, hourly=40)}))
    body = _blocks(result.files[CONFIG_FILE], "virtual-mta")["vmta-cold-1"]
    index = body.index("<domain yahoo.rollup>")
    assert body[index + 1] == "max-msg-rate 30/h"
    index = body.index("<domain gmail.rollup>")
    assert body[index + 1] == "max-msg-rate 40/h"


def test_secrets_are_redacted(rendered: RenderedConfig) -> None:
    redacted = rendered.redacted()
    assert PASSWORD not in "\n".join(redacted.values())
    assert "password [redacted]" in redacted[CONFIG_FILE]
    assert PASSWORD in rendered.files[CONFIG_FILE]


HOSTILE = [
    "evil\nname",
    "evil{name}",
    'evil"name',
    "evil'name",
    "evil;rm -rf /",
    "evil$(id)",
    "evil`id`",
    "evil|cat",
    "evil&name",
    "evil<tag>",
    "evil#comment",
    "evil name",
    "",
    "x" * 300,
]


@pytest.mark.parametrize("value", HOSTILE)
@pytest.mark.parametrize("field", ["vmta_name", "hostname", "pool", "purpose", "state"])
def test_hostile_ip_fields_never_reach_the_files(field: str, value: str) -> None:
    base = guide_inventory()
    ips = list(base.ips)
    ips[0] = dataclasses.replace(ips[0], **{field: value})
    with pytest.raises(InvalidInput):
        _render(dataclasses.replace(base, ips=tuple(ips)))


@pytest.mark.parametrize("value", [value for value in HOSTILE if value])
@pytest.mark.parametrize("field", ["name", "dkim_selector"])
def test_hostile_domain_and_selector_are_refused(field: str, value: str) -> None:
    base = guide_inventory()
    domains = list(base.domains)
    domains[0] = dataclasses.replace(domains[0], **{field: value})
    with pytest.raises(InvalidInput):
        _render(dataclasses.replace(base, domains=tuple(domains)))


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("smtp_password", "pass word"),
        ("smtp_password", "pass#word"),
        ("smtp_password", 'pa"ss'),
        ("smtp_password", "pa\nss"),
        ("smtp_password", "pa$ss"),
        ("postmaster", "post master@example.com"),
        ("postmaster", "x@evil\n<source 0/0>"),
        ("bounce_pipe", "/opt/x.sh; rm -rf /"),
        ("bounce_pipe", "relative/pipe.sh"),
        ("delivery_pipe", "/opt/x.sh|nc evil 1"),
        ("smtp_user", "mail wizz"),
        ("mailwizz_ips", ("not-an-ip",)),
        ("mailwizz_ips", ()),
        ("host_name", "host name"),
        ("dkim_key_dir", "/etc/pmta/dkim keys"),
        ("listener_port", 0),
    ],
)
def test_hostile_settings_are_refused(setting: str, value: object) -> None:
    with pytest.raises(InvalidInput):
        _render(**{setting: value})


def test_duplicate_address_and_unknown_state_are_refused() -> None:
    base = guide_inventory()
    ips = list(base.ips)
    ips[1] = dataclasses.replace(ips[1], address="192.0.2.10")
    with pytest.raises(InvalidInput, match="appears twice"):
        _render(dataclasses.replace(base, ips=tuple(ips)))
    ips = list(base.ips)
    ips[1] = dataclasses.replace(ips[1], state="promoted")
    with pytest.raises(InvalidInput, match="does not know"):
        _render(dataclasses.replace(base, ips=tuple(ips)))


def test_ipv6_source_address_and_the_undocumented_ipv6_listener() -> None:
    base = guide_inventory()
    ips = (
        *base.ips,
        IpEntry(9, "2001:db8::25", "mta6.mail.example.com", "vmta-v6", "marketing", "active", "marketing"),
    )
    result = _render(dataclasses.replace(base, ips=ips))
    assert "smtp-source-host 2001:db8::25 mta6.mail.example.com" in result.files[CONFIG_FILE]
    assert lint_files(result.files, entry=CONFIG_FILE, expected_ips=result.expected_ips).ok(strict=True)
    # §3.3.1.20 documents smtp-listener as CIDR:PORT only; an IPv6 listener is refused, not guessed
    with pytest.raises(InvalidInput, match="IPv4"):
        _render(listener_address="::")


def test_render_is_deterministic() -> None:
    assert _render().files == _render().files


def test_warmup_provider_shares_split_the_hourly_cap() -> None:
    base = guide_inventory()
    cap = VolumeCap(daily=240, hourly=20, providers={"gmail": 84, "microsoft": 72, "yahoo": 48, "other": 120})
    body = _blocks(_render(dataclasses.replace(base, limits={3: cap})).files[CONFIG_FILE], "virtual-mta")[
        "vmta-cold-1"
    ]

    def rate(queue: str) -> str:
        return body[body.index(f"<domain {queue}>") + 1]

    assert rate("*") == "max-msg-rate 10/h"  # "other": half the day -> half the hour
    assert rate("gmail.rollup") == "max-msg-rate 7/h"
    assert rate("microsoft.rollup") == "max-msg-rate 6/h"
    assert rate("yahoo.rollup") == "max-msg-rate 4/h"
    assert rate("orange.rollup") == "max-msg-rate 10/h"  # not named by the plan: "other"
