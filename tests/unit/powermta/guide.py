"""The deployment guide's 5-IP layout as a renderer snapshot, shared by the PowerMTA tests."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_engine.integrations.powermta.inventory import (
    Inventory,
    IpEntry,
    PoolEntry,
    RenderSettings,
    SendingDomainEntry,
    VolumeCap,
)

PASSWORD = "Qm7-vX2_pL9sTz4wRk8n"


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    category: str


# A fixed rule list so the golden files do not move when the classifier is tuned.
SAMPLE_RULES = (
    Rule(re.compile(r"\b5\.1\.1\b|user unknown|no such user", re.IGNORECASE), "bad-mailbox"),
    Rule(re.compile(r"\b5\.2\.2\b|mailbox (?:is )?full|over quota", re.IGNORECASE), "quota-issues"),
    Rule(re.compile(r"spamhaus|blocked using|blacklist", re.IGNORECASE), "spam-related"),
    Rule(re.compile(r"https?://example\.test/errors#(?P<code>\d+)"), "policy-related"),
    Rule(re.compile(r"n'existe pas|adresse inconnue|ungültig", re.IGNORECASE), "bad-mailbox"),
)


def guide_inventory() -> Inventory:
    return Inventory(
        ips=(
            IpEntry(
                1,
                "192.0.2.10",
                "mta1.mail.example.com",
                "vmta-transactional-1",
                "transactional",
                "active",
                "transactional",
            ),
            IpEntry(
                2,
                "192.0.2.11",
                "mta2.mail.example.com",
                "vmta-marketing-1",
                "marketing",
                "active",
                "marketing",
            ),
            IpEntry(
                3, "192.0.2.12", "mta3.mail.example.com", "vmta-cold-1", "cold", "warming", "cold-outreach"
            ),
            IpEntry(
                4, "192.0.2.13", "mta4.mail.example.com", "vmta-cold-2", "cold", "standby", "cold-outreach"
            ),
            IpEntry(
                5, "192.0.2.14", "mta5.mail.example.com", "vmta-cold-3", "cold", "standby", "cold-outreach"
            ),
        ),
        pools=(
            PoolEntry("transactional", "transactional"),
            PoolEntry("marketing", "marketing"),
            PoolEntry("cold-outreach", "cold"),
        ),
        domains=(
            SendingDomainEntry("example.com", "s2026", "bounce.example.com", "click.example.com"),
            SendingDomainEntry("example.org", "s2026", "bounce.example.org", None),
        ),
        limits={3: VolumeCap(daily=200, hourly=20)},
    )


def guide_settings(**overrides: object) -> RenderSettings:
    values: dict[str, object] = {
        "postmaster": "postmaster@example.com",
        "smtp_password": PASSWORD,
        "mailwizz_ips": ("198.51.100.7",),
        "host_name": "mta1.mail.example.com",
    }
    values.update(overrides)
    return RenderSettings(**values)  # type: ignore[arg-type]
