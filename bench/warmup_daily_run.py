"""Warmup speed: the pure planner, and one daily run over many plans on a throwaway SQLite database.

    .venv/bin/python bench/warmup_daily_run.py [--plans 300] [--steps 200000]

Prints planner decisions per second and the time of one `warmup` job pass that decides every plan
(MailWizz pushes are left out: they cost one MySQL round trip per IP, measured by the ips domain).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from email_engine.db import make_engine, make_session_factory
from email_engine.migrate import upgrade_database
from email_engine.plugins import import_all_models
from email_engine.warmup.gates import DayResult
from email_engine.warmup.plan import PRESETS, PlanState, PlanStatus, next_step


def bench_planner(steps: int) -> float:
    spec = PRESETS["cold"].spec
    rng = random.Random(7)
    results = [
        DayResult(
            sent=rng.randint(0, 6000),
            hard_bounces=rng.randint(0, 60),
            complaints=rng.randint(0, 5),
            blocks=rng.randint(0, 30),
            deferred=rng.randint(0, 500),
        )
        for _ in range(1000)
    ]
    state = PlanState(day_index=0, last_day=date(2026, 1, 1))
    today = date(2026, 1, 2)
    started = time.perf_counter()
    for i in range(steps):
        step = next_step(spec, state, results[i % 1000], today)
        state = (
            step.state if step.state.status is PlanStatus.RUNNING else PlanState(day_index=0, last_day=today)
        )
        today += timedelta(days=1)
    return steps / (time.perf_counter() - started)


def bench_daily_run(plans: int) -> tuple[float, float]:
    from email_engine.feedback.models import StatBucket
    from email_engine.ips import service as ips_service
    from email_engine.reputation_signals.settings import SignalSettings
    from email_engine.warmup import daily_run, service

    import_all_models()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
        upgrade_database(url)
        engine = make_engine(url)
        factory = make_session_factory(engine)
        start = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
        with factory() as session:
            for n in range(plans):
                address = f"10.{n // 65536}.{(n // 256) % 256}.{n % 256}"
                ip = ips_service.create_ip(
                    session,
                    address=address,
                    hostname=f"mta{n}.example.test",
                    purpose="cold",
                    vmta_name=f"vmta-{n}",
                    actor="bench",
                    now=start,
                )
                plan = service.create_plan(session, ip_id=ip.id, preset="cold", actor="bench", now=start)
                service.start_plan(session, plan_id=plan.id, actor="bench", now=start, mailwizz=None)
                session.add(
                    StatBucket(
                        hour=start.replace(hour=12),
                        dimension="ip",
                        key=address,
                        sent=20,
                        delivered=20,
                        bounced=0,
                        hard=0,
                        soft=0,
                        block=0,
                        complaints=0,
                        deferred=0,
                    )
                )
            session.commit()
        with factory() as session:
            began = time.perf_counter()
            summary = daily_run.run_warmup(
                session, now=start + timedelta(days=1), mailwizz=None, signals=SignalSettings(_env_file=None)
            )
            session.commit()
            elapsed = time.perf_counter() - began
        assert len(summary["decided"]) == plans
        engine.dispose()
        return elapsed, plans / elapsed


def main() -> None:
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--plans", type=int, default=300)
    parser.add_argument("--steps", type=int, default=200_000)
    args = parser.parse_args()
    print(f"planner: {bench_planner(args.steps):,.0f} decisions/s ({args.steps:,} steps, cold preset)")
    elapsed, rate = bench_daily_run(args.plans)
    print(
        f"daily run: {args.plans} plans decided and recorded in {elapsed:.2f} s ({rate:,.0f} plans/s, SQLite)"
    )


if __name__ == "__main__":
    main()
