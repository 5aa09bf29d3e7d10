"""The guide's 5-IP inventory in the test database, and PowerMTA settings for the app and the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from email_engine.context import AppContext
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.ips import service as ips
from email_engine.warmup import service as warmup

NOW = datetime(2026, 11, 24, 3, 0, tzinfo=UTC)
PASSWORD = "Vb4-kQ9_zT2mWx7pLr5s"


@dataclass(frozen=True)
class GuideInventory:
    ip_ids: dict[str, int]


@pytest.fixture
def guide_db(ctx: AppContext) -> GuideInventory:
    """transactional + marketing active, cold-1 warming under a plan, cold-2 and cold-3 standby."""
    with ctx.session_factory() as session:
        pools = {
            name: ips.create_pool(session, name=name, purpose=purpose, now=NOW).id
            for name, purpose in (
                ("transactional", "transactional"),
                ("marketing", "marketing"),
                ("cold-outreach", "cold"),
            )
        }
        ids: dict[str, int] = {}
        layout = [
            ("192.0.2.10", "vmta-transactional-1", "transactional", "transactional"),
            ("192.0.2.11", "vmta-marketing-1", "marketing", "marketing"),
            ("192.0.2.12", "vmta-cold-1", "cold", "cold-outreach"),
            ("192.0.2.13", "vmta-cold-2", "cold", "cold-outreach"),
            ("192.0.2.14", "vmta-cold-3", "cold", "cold-outreach"),
        ]
        for index, (address, vmta, purpose, pool) in enumerate(layout, start=1):
            ip = ips.create_ip(
                session,
                address=address,
                hostname=f"mta{index}.mail.example.com",
                purpose=purpose,
                vmta_name=vmta,
                pool_id=pools[pool],
                actor="test",
                now=NOW,
            )
            ids[vmta] = ip.id
        for vmta in ("vmta-transactional-1", "vmta-marketing-1"):
            ips.transition_ip(
                session,
                ip_id=ids[vmta],
                to_state="active",
                reason="warm already",
                actor="test",
                now=NOW,
                force=True,
            )
        plan = warmup.create_plan(
            session, ip_id=ids["vmta-cold-1"], schedule=[240, 480, 960], actor="test", now=NOW
        )
        warmup.start_plan(session, plan_id=plan.id, actor="test", now=NOW, mailwizz=None)
        ips.create_domain(
            session, name="example.com", dkim_selector="s2026", bounce_domain="bounce.example.com", now=NOW
        )
        session.commit()
    return GuideInventory(ip_ids=ids)


def pmta_env(config_dir: Path, **overrides: str) -> dict[str, str]:
    values = {
        "PMTA_CONFIG_DIR": str(config_dir),
        "PMTA_POSTMASTER": "postmaster@example.com",
        "PMTA_SMTP_PASSWORD": PASSWORD,
        "MAILWIZZ_IPS": "198.51.100.7",
        "PMTA_RELOAD_COMMAND": "true",
        "DKIM_KEY_DIR": str(config_dir / "dkim"),
        "PMTA_HOST_NAME": "mta1.mail.example.com",
    }
    values.update(overrides)
    return values


@pytest.fixture
def pmta_settings(ctx: AppContext, tmp_path: Path) -> PowerMtaSettings:
    settings = PowerMtaSettings(_env_file=None, **pmta_env(tmp_path / "pmta"))  # type: ignore[call-arg]
    ctx.settings.install(settings)
    return settings
