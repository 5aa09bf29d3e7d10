"""Inventory and MailWizz adapter figures.

    .venv/bin/python bench/ips_inventory.py [--ips 2000] [--no-mariadb]

Prints: validator throughput (addresses, hostnames), lifecycle checks per second, service timings on a
fresh SQLite database (create IPs, transitions, filtered page reads; p50/p95), and, unless
--no-mariadb, MailWizz delivery-server pushes on the local MariaDB (a write that changes the row vs a
push that finds nothing to change; p50/p95). No targets are asserted: these are measurements.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from email_engine.config import Settings  # noqa: E402
from email_engine.db import make_engine, make_session_factory  # noqa: E402
from email_engine.integrations.mailwizz.quota import DesiredServer  # noqa: E402
from email_engine.ips import service  # noqa: E402
from email_engine.ips import validators as v  # noqa: E402
from email_engine.ips.lifecycle import TRANSITIONS, IpState, check_transition  # noqa: E402
from email_engine.logging import configure_logging  # noqa: E402
from email_engine.migrate import upgrade_database  # noqa: E402
from email_engine.plugins import import_all_models  # noqa: E402

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def rate(label: str, fn: Callable[[int], object], n: int) -> None:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    elapsed = time.perf_counter() - start
    print(f"{label:<44} {n / elapsed:>12,.0f} /s")


def timings(label: str, samples: list[float]) -> None:
    ms = sorted(s * 1000 for s in samples)
    p95 = ms[min(len(ms) - 1, int(len(ms) * 0.95))]
    print(f"{label:<44} p50 {statistics.median(ms):7.2f} ms   p95 {p95:7.2f} ms   (n={len(ms)})")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench_pure() -> None:
    rate(
        "normalise_address (v4+v6)",
        lambda i: v.normalise_address(f"2001:db8::{i % 65535:x}" if i % 2 else f"198.51.100.{i % 250}"),
        200_000,
    )
    rate("normalise_hostname", lambda i: v.normalise_hostname(f"mta{i}.mail.example.com"), 200_000)
    pairs = [(a, b) for a in IpState for b in TRANSITIONS[a]]
    rate(
        "check_transition (allowed moves)",
        lambda i: check_transition(
            *pairs[i % len(pairs)], force=False, reason="x", entered_from=IpState.ACTIVE
        ),
        500_000,
    )


def bench_service(n_ips: int) -> None:
    import_all_models()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        with factory() as session:
            pool = service.create_pool(session, name="cold-1", purpose="cold", now=NOW)
            session.commit()
            creates = []
            for i in range(n_ips):
                creates.append(
                    timed(
                        lambda i=i: service.create_ip(
                            session,
                            address=f"198.18.{i // 250}.{i % 250 + 1}",
                            hostname=f"mta{i}.example.com",
                            purpose="cold",
                            vmta_name=f"vmta-{i}",
                            pool_id=pool.id if i % 2 else None,
                            mailwizz_server_id=i + 1,
                            actor="bench",
                            now=NOW,
                        )
                    )
                )
            session.commit()
            timings(f"create_ip (with {n_ips} in the table)", creates)
            moves = []
            for ip_id in range(1, n_ips + 1):
                moves.append(
                    timed(
                        lambda ip_id=ip_id: service.transition_ip(
                            session, ip_id=ip_id, to_state="warming", reason="bench", actor="bench", now=NOW
                        )
                    )
                )
            session.commit()
            timings("transition_ip standby->warming", moves)
            reads = [
                timed(
                    lambda: service.list_ips(session, state="warming", pool_id=pool.id, limit=50, offset=100)
                )
                for _ in range(300)
            ]
            timings("list_ips state+pool filter, page of 50", reads)
            history = [timed(lambda: service.list_history(session, 7, limit=50)) for _ in range(300)]
            timings("list_history one IP", history)
        engine.dispose()


def bench_mariadb() -> None:
    sys.path.insert(0, str(ROOT))
    from tests.support.mailwizz_db import throwaway_mailwizz_db

    with throwaway_mailwizz_db() as db:
        server_id = db.add_server(status="inactive")
        adapter = db.adapter()
        writes = [
            timed(
                lambda i=i: adapter.apply(
                    server_id, DesiredServer(hourly_quota=10 + i, daily_quota=1000 + i, status="active")
                )
            )
            for i in range(200)
        ]
        timings("MailWizz apply, row changes (1 UPDATE)", writes)
        same = [
            timed(
                lambda: adapter.apply(
                    server_id, DesiredServer(hourly_quota=209, daily_quota=1199, status="active")
                )
            )
            for _ in range(200)
        ]
        timings("MailWizz apply, nothing to change", same)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--ips", type=int, default=2000)
    parser.add_argument("--no-mariadb", action="store_true")
    args = parser.parse_args()
    configure_logging(Settings(_env_file=None, LOG_LEVEL="WARNING"))  # type: ignore[call-arg]
    bench_pure()
    bench_service(args.ips)
    if not args.no_mariadb:
        bench_mariadb()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
