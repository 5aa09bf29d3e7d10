"""The pipe before and after the compact, partitioned storage, on the same file and machine, alternating.

    git worktree add /tmp/before 5689df6     # the last commit with the earlier accounting schema
    .venv/bin/python bench/accounting_before_after.py --before /tmp/before/src [--records 500000] [--rounds 2]

For each round and each side (``--before`` checkout's ``src``, then this checkout's), a throwaway
PostgreSQL database is migrated by that side's code and the same generated file (recent times) goes
through that side's ``email-engine pipe`` on a pipe. Printed per run: wall seconds, records/s, CPU
seconds of the pipe and its ingest process (client side; the PostgreSQL server's work is not in it),
and bytes per stored record (every relation of ``accounting_record`` with its indexes, plus the
dictionaries after). Alternating the sides spreads the shared machine's noise over both.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.feedback.generate import write_file  # noqa: E402
from tests.support.databases import throwaway_postgres  # noqa: E402

EMAIL_ENGINE = str(Path(sys.executable).parent / "email-engine")
SIZE_SQL = (
    "SELECT (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c WHERE c.oid IN "
    "(SELECT relid FROM pg_partition_tree('accounting_record') UNION SELECT 'accounting_record'::regclass)) "
    "+ coalesce((SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relname IN "
    "('accounting_outcome', 'accounting_route', 'accounting_domain') AND c.relkind = 'r'), 0), "
    "(SELECT count(*) FROM accounting_record)"
)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(src: Path, path: Path, records: int) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src), "LOG_LEVEL": "WARNING", "PIPE_BATCH_SIZE": "5000"}
    with tempfile.TemporaryDirectory(prefix="ee-ba-") as tmp, throwaway_postgres() as url:
        migrate = (
            "import sys; from email_engine.migrate import upgrade_database; upgrade_database(sys.argv[1])"
        )
        subprocess.run([sys.executable, "-c", migrate, url], env=env, check=True)
        env.update({"DATABASE_URL": url, "PIPE_SPOOL_DIR": str(Path(tmp) / "spool")})
        cpu = _children_cpu()
        started = time.perf_counter()
        with open(path, "rb") as stdin:
            cat = subprocess.Popen(["cat"], stdin=stdin, stdout=subprocess.PIPE)
            done = subprocess.run(
                [EMAIL_ENGINE, "pipe", "--json"], stdin=cat.stdout, env=env, capture_output=True, check=False
            )
            cat.wait()
        seconds = time.perf_counter() - started
        cpu = _children_cpu() - cpu
        if done.returncode != 0:
            raise SystemExit(done.stderr.decode()[-2000:])
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            size, count = conn.execute(SIZE_SQL).fetchone()  # type: ignore[misc]
    return {
        "seconds": round(seconds, 1),
        "records_per_s": round(records / seconds),
        "cpu_seconds": round(cpu, 1),
        "bytes_per_record": round(float(size) / int(count), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--before", type=Path, required=True, help="src/ of a checkout of the earlier schema")
    parser.add_argument("--records", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ee-ba-file-") as tmp:
        path = Path(tmp) / "acct.csv"
        write_file(
            path,
            records=args.records,
            base=datetime.now(UTC) - timedelta(hours=1, milliseconds=7 * args.records),
        )
        results: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
        for _ in range(args.rounds):
            for side, src in (("before", args.before), ("after", ROOT / "src")):
                load = Path("/proc/loadavg").read_text().split()[0]
                run = one_run(src.resolve(), path, args.records)
                results[side].append(run)
                print(
                    f"{side}: {args.records:,} records in {run['seconds']} s = {run['records_per_s']:,}/s, "
                    f"{run['cpu_seconds']} CPU-s (pipe + ingest), {run['bytes_per_record']} bytes/record (load {load})"
                )
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
