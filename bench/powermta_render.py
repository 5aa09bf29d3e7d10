"""Render and lint PowerMTA configurations of growing size; print time and output size.

    .venv/bin/python bench/powermta_render.py

Pure code only (no database): the renderer's cost is what `pmta render`, `pmta deploy` and
GET /api/v1/pmta/config add on top of one inventory query.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc

from email_engine.feedback.bounce import load_rules
from email_engine.integrations.powermta.inventory import (
    Inventory,
    IpEntry,
    PoolEntry,
    RenderSettings,
    SendingDomainEntry,
    VolumeCap,
)
from email_engine.integrations.powermta.linter import lint_files
from email_engine.integrations.powermta.renderer import CONFIG_FILE, render_config
from email_engine.integrations.powermta.tables import default_tables

STATES = ("active", "active", "warming", "standby", "quarantined")
POOLS = (("transactional", "transactional"), ("marketing", "marketing"), ("cold-outreach", "cold"))


def inventory(size: int) -> Inventory:
    ips = tuple(
        IpEntry(
            id=index,
            address=f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256}",
            hostname=f"mta{index}.mail.example.com",
            vmta_name=f"vmta-{index}",
            purpose=POOLS[index % 3][1],
            state=STATES[index % len(STATES)],
            pool=POOLS[index % 3][0],
        )
        for index in range(1, size + 1)
    )
    domains = tuple(SendingDomainEntry(f"brand{n}.example.com", "s2026") for n in range(max(1, size // 50)))
    limits = {ip.id: VolumeCap(500, 40) for ip in ips if ip.state == "warming"}
    return Inventory(ips=ips, pools=tuple(PoolEntry(*pool) for pool in POOLS), domains=domains, limits=limits)


def main() -> None:
    settings = RenderSettings(
        postmaster="postmaster@example.com",
        smtp_password="Bench-Pass-1234567890",
        mailwizz_ips=("198.51.100.7",),
    )
    tables = default_tables()
    rules = load_rules()
    print(f"{'IPs':>6} {'render ms':>10} {'lint ms':>9} {'lines':>8} {'KiB':>7} {'peak MiB':>9}")
    for size in (5, 50, 200, 1000):
        snapshot = inventory(size)
        render_times, lint_times = [], []
        for _ in range(5):
            start = time.perf_counter()
            rendered = render_config(snapshot, settings, tables, rules)
            middle = time.perf_counter()
            report = lint_files(
                rendered.files, entry=CONFIG_FILE, expected_ips=rendered.expected_ips, vmtas=rendered.vmtas
            )
            end = time.perf_counter()
            assert report.ok(strict=True), report.issues[:3]
            render_times.append((middle - start) * 1000)
            lint_times.append((end - middle) * 1000)
        tracemalloc.start()
        rendered = render_config(snapshot, settings, tables, rules)
        lint_files(
            rendered.files, entry=CONFIG_FILE, expected_ips=rendered.expected_ips, vmtas=rendered.vmtas
        )
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        text = "".join(rendered.files.values())
        print(
            f"{size:>6} {statistics.median(render_times):>10.1f} {statistics.median(lint_times):>9.1f} "
            f"{text.count(chr(10)):>8} {len(text.encode()) / 1024:>7.0f} {peak:>9.1f}"
        )


if __name__ == "__main__":
    main()
