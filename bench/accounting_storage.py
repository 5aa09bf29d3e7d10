"""A year of accounting on one PostgreSQL: bytes per record, ingest rate empty vs. full, stats latency, partition drop.

    .venv/bin/python bench/accounting_storage.py [--records 1000000] [--prefill 20000000] [--requests 300]

On a throwaway PostgreSQL database (TEST_POSTGRES_ADMIN_URL, default postgres@127.0.0.1:5432):

1. a generated accounting file of ``--records`` records (every record type, 23k distinct diagnostics per
   200k records; tests/integration/feedback/generate.py) through the real ``email-engine pipe`` on a pipe,
   into the empty database: records/s, and **bytes per stored record** = size of every partition of
   ``accounting_record`` with its indexes (``pg_total_relation_size``), then also with the dictionaries
   (outcomes, routes, domains), divided by the records stored;
2. ``--prefill`` more records written straight into 30 earlier day partitions with SQL (the same
   dictionaries, spread over 30 days, keys as the pipe makes them), then a second file of the same size
   through the pipe: records/s into the full database, as a share of the empty-database rate;
3. 30 days of hourly aggregates (stat_bucket: 50 IPs, 50 VMTAs, 20 sender domains, 1,000 recipient
   domains, 20 providers, 17 categories per hour) and ``--requests`` calls each of
   ``GET /api/v1/stats/summary`` over 30 days and ``GET /api/v1/stats/providers`` on a real uvicorn: p50/p99;
4. dropping the oldest prefilled day's partition (``DROP TABLE`` of one partition): seconds.

The machine is shared: the script prints the load average before and after each timed part.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.feedback_pipe_e2e import run_pipe  # noqa: E402
from tests.integration.feedback.generate import write_file  # noqa: E402
from tests.support.databases import throwaway_postgres  # noqa: E402

BASELINE_BYTES = 363  # the measurement of the earlier schema after 1,000,000 records
DAYS = 30


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _bytes(conn: psycopg.Connection) -> dict[str, float]:
    records = conn.execute("SELECT count(*) FROM accounting_record").fetchone()[0]  # type: ignore[index]
    table = conn.execute(
        "SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree('accounting_record')"
    ).fetchone()[0]  # type: ignore[index]
    dictionaries = conn.execute(
        "SELECT pg_total_relation_size('accounting_outcome') + pg_total_relation_size('accounting_route') "
        "+ pg_total_relation_size('accounting_domain')"
    ).fetchone()[0]  # type: ignore[index]
    outcomes = conn.execute("SELECT count(*) FROM accounting_outcome").fetchone()[0]  # type: ignore[index]
    return {
        "records": records,
        "outcomes": outcomes,
        "bytes_per_record_table": round(table / records, 1),
        "bytes_per_record_with_dictionaries": round((table + dictionaries) / records, 1),
    }


def _prefill(url: str, total: int) -> float:
    from sqlalchemy import create_engine

    from email_engine.feedback.partitions import ensure_partitions

    today = datetime.now(UTC).date()
    days = [today - timedelta(days=offset) for offset in range(2, DAYS + 2)]
    engine = create_engine(url)
    ensure_partitions(engine, "accounting_record", days)
    engine.dispose()
    per_day = total // DAYS
    started = time.perf_counter()
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        for day in days:
            conn.execute(
                "WITH o AS (SELECT array_agg(id) AS ids FROM accounting_outcome), "
                "r AS (SELECT array_agg(id) AS ids FROM accounting_route), "
                "d AS (SELECT array_agg(id) AS ids FROM accounting_domain) "
                "INSERT INTO accounting_record (time_logged, record_key, outcome_id, route_id, domain_id, "
                "queued_seconds, rcpt_local) "
                "SELECT %(start)s::timestamptz + g * (interval '86399 seconds' / %(n)s), "
                "('x' || substr(md5(%(day)s || g), 1, 16))::bit(64)::bigint, "
                "o.ids[1 + g %% cardinality(o.ids)], r.ids[1 + g %% cardinality(r.ids)], "
                "d.ids[1 + g %% cardinality(d.ids)], g %% 600, 'user.' || (g %% 5000000) "
                "FROM generate_series(0, %(n)s - 1) AS g, o, r, d",
                {
                    "start": datetime(day.year, day.month, day.day, tzinfo=UTC),
                    "n": per_day,
                    "day": day.isoformat(),
                },
            )
        conn.execute("ANALYZE accounting_record")
    return time.perf_counter() - started


def _stat_buckets(url: str) -> int:
    keys = {
        "all": ["*"],
        "ip": [f"192.0.2.{i}" for i in range(50)],
        "vmta": [f"vmta-{i}" for i in range(50)],
        "sender_domain": [f"sender{i}.example" for i in range(20)],
        "rcpt_domain": [f"domain{i}.example" for i in range(1000)],
        "provider": [f"provider{i}" for i in range(20)],
        "category": [f"category{i}" for i in range(17)],
    }
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=DAYS)
    with psycopg.connect(_plain(url), autocommit=True) as conn:
        for dimension, names in keys.items():
            conn.execute(
                "INSERT INTO stat_bucket (hour, dimension, key, sent, delivered, bounced, hard, soft, block, "
                "complaints, deferred) SELECT %(start)s::timestamptz + h * interval '1 hour', %(dimension)s, k, "
                "100, 95, 5, 2, 2, 1, 0, 3 FROM generate_series(0, %(hours)s) AS h, unnest(%(keys)s::text[]) AS k "
                "ON CONFLICT DO NOTHING",
                {"start": start, "dimension": dimension, "hours": DAYS * 24, "keys": names},
            )
        conn.execute("ANALYZE stat_bucket")
        return int(conn.execute("SELECT count(*) FROM stat_bucket").fetchone()[0])  # type: ignore[index]


def _latencies(url: str, requests: int) -> dict[str, dict[str, float]]:
    import httpx
    import uvicorn

    from email_engine.config import Settings
    from email_engine.context import build_context
    from email_engine.main import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=url,
        ENVIRONMENT="test",
        API_KEY="bench-" + "a" * 40,
        JWT_SECRET_KEY="bench-" + "k" * 40,
        RATE_LIMIT_ENABLED=False,
        LOG_LEVEL="WARNING",
    )
    ctx = build_context(settings)
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx=ctx), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    now = datetime.now(UTC)
    calls = {
        "summary_30d": (
            "/api/v1/stats/summary",
            {"since": (now - timedelta(days=DAYS)).isoformat(), "until": now.isoformat()},
        ),
        "providers": ("/api/v1/stats/providers", {}),
    }
    out: dict[str, dict[str, float]] = {}
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": "bench-" + "a" * 40}
    ) as client:
        for name, (path, params) in calls.items():
            for _ in range(5):  # warm-up
                client.get(path, params=params).raise_for_status()
            times = []
            for _ in range(requests):
                started = time.perf_counter()
                client.get(path, params=params).raise_for_status()
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            out[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
                "max_ms": round(times[-1], 1),
            }
    server.should_exit = True
    thread.join(timeout=10)
    ctx.close()
    return out


def _drop_oldest(url: str) -> dict[str, object]:
    with psycopg.connect(_plain(url)) as conn:
        name, rows = conn.execute(
            "SELECT c.relname, c.reltuples::bigint FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'accounting_record'::regclass ORDER BY c.relname LIMIT 1"
        ).fetchone()  # type: ignore[misc]
        started = time.perf_counter()
        conn.execute(f'DROP TABLE "{name}"')
        conn.commit()
        return {"partition": name, "rows": rows, "seconds": round(time.perf_counter() - started, 3)}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--prefill", type=int, default=20_000_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()

    from email_engine.migrate import upgrade_database

    results: dict[str, object] = {"machine": f"{os.cpu_count()} cores (shared)"}
    with tempfile.TemporaryDirectory(prefix="ee-bench-") as tmp, throwaway_postgres() as url:
        upgrade_database(url)
        now = datetime.now(UTC)
        first, second = Path(tmp) / "first.csv", Path(tmp) / "second.csv"
        span = timedelta(milliseconds=7 * args.records)  # the generator's spacing
        write_file(first, records=args.records, base=now - timedelta(hours=1) - 2 * span)
        write_file(second, records=args.records, base=now - timedelta(hours=1) - span)

        load = _load()
        empty = run_pipe(first, url, Path(tmp) / "spool", forward=True, batch=5000, through_pipe=True)
        empty_rate = args.records / float(empty["seconds"])  # type: ignore[arg-type]
        print(
            f"pipe into an empty database: {args.records:,} records in {empty['seconds']} s = {empty_rate:,.0f} records/s (load {load} → {_load()})"
        )
        with psycopg.connect(_plain(url)) as conn:
            sizes = _bytes(conn)
        print(
            f"bytes per stored record: {sizes['bytes_per_record_table']} (records and their indexes), "
            f"{sizes['bytes_per_record_with_dictionaries']} with the dictionaries "
            f"({sizes['outcomes']:,} outcomes for {sizes['records']:,} records); before: {BASELINE_BYTES}"
        )
        results.update(empty_rate=round(empty_rate), **sizes)

        if args.prefill:
            load = _load()
            seconds = _prefill(url, args.prefill)
            print(
                f"prefilled {args.prefill:,} records over {DAYS} days in {seconds:.0f} s (load {load} → {_load()})"
            )
            load = _load()
            full = run_pipe(second, url, Path(tmp) / "spool", forward=True, batch=5000, through_pipe=True)
            full_rate = args.records / float(full["seconds"])  # type: ignore[arg-type]
            print(
                f"pipe into the full database: {args.records:,} records in {full['seconds']} s = {full_rate:,.0f} "
                f"records/s = {full_rate / empty_rate:.0%} of the empty-database rate (load {load} → {_load()})"
            )
            results.update(full_rate=round(full_rate), full_share=round(full_rate / empty_rate, 3))

        buckets = _stat_buckets(url)
        load = _load()
        latencies = _latencies(url, args.requests)
        for name, figures in latencies.items():
            print(
                f"GET {name}: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms ({args.requests} calls, {buckets:,} hourly buckets; load {load} → {_load()})"
            )
        results["stats"] = latencies
        dropped = _drop_oldest(url)
        print(
            f"DROP of one day's partition ({dropped['partition']}, ~{dropped['rows']:,} rows): {dropped['seconds']} s"
        )
        results["drop"] = dropped
    print(json.dumps(results, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
