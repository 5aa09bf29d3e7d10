"""End to end: ``email-engine pipe`` into PostgreSQL, and the per-record HTTP baseline beside it.

    .venv/bin/python bench/feedback_pipe_e2e.py [--records 1000000] [--baseline-sample 2000] [--no-forward]
                                                [--stdin file|pipe]

Creates a throwaway PostgreSQL database (TEST_POSTGRES_ADMIN_URL, default postgres@127.0.0.1:5432),
migrates it, writes a generated accounting file (every record type, quoted fields, CRLF, unicode,
garbage, duplicates; see tests/integration/feedback/generate.py), and times the real
``email-engine pipe`` subprocess reading it on stdin until it exits (everything committed); stdin is the
file itself, or with ``--stdin pipe`` a pipe that ``cat`` writes the file into (PowerMTA's case: the pipe
then takes its input with splice). Memory is
sampled from /proc every 0.25 s (VmRSS of the pipe and its ingest process, summed) to show it stays flat; peak RSS is reported.

Baseline (the reference deployment): one HTTP POST per record to ``/api/v1/webhooks/pmta-bounce`` /
``pmta-delivery`` on a real uvicorn server, over one keep-alive connection (kinder than the
reference's one ``curl`` process per record), measured on a sample and extrapolated.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.integration.feedback.generate import HEADER, write_file  # noqa: E402
from tests.support.databases import throwaway_postgres  # noqa: E402

EMAIL_ENGINE = str(Path(sys.executable).parent / "email-engine")


def _rss_kib(pid: int) -> int:
    """RSS of the pipe plus its ingest child process."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    total = 0
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def run_pipe(
    path: Path, database_url: str, spool: Path, *, forward: bool, batch: int, through_pipe: bool = False
) -> dict[str, object]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": database_url,
            "PIPE_SPOOL_DIR": str(spool),
            "PIPE_BATCH_SIZE": str(batch),
            "LOG_LEVEL": "WARNING",
        }
    )
    if forward:
        env["SCRAPER_PRO_BOUNCE_URL"] = "http://127.0.0.1:9/bounces"
        env["SCRAPER_PRO_DELIVERY_URL"] = "http://127.0.0.1:9/deliveries"
    samples: list[tuple[float, int]] = []
    with open(path, "rb") as stdin:
        started = time.perf_counter()
        cat = subprocess.Popen(["cat"], stdin=stdin, stdout=subprocess.PIPE) if through_pipe else None
        process = subprocess.Popen(
            [EMAIL_ENGINE, "pipe", "--json"],
            stdin=cat.stdout if cat is not None and cat.stdout is not None else stdin,
            stdout=subprocess.PIPE,
            env=env,
        )
        if cat is not None and cat.stdout is not None:
            cat.stdout.close()  # the pipe's reader is the only one left: it sees EOF when cat is done
        while process.poll() is None:
            samples.append((time.perf_counter() - started, _rss_kib(process.pid)))
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        out = process.stdout.read() if process.stdout else b""
        if cat is not None:
            cat.wait()
    if process.returncode != 0:
        raise SystemExit(f"pipe failed with exit code {process.returncode}")
    report = json.loads(out)
    rss = [kib for _, kib in samples if kib]
    quarter = max(1, len(rss) // 4)
    return {
        "seconds": round(elapsed, 1),
        "report": report,
        "peak_rss_mib": round(max(rss) / 1024, 1) if rss else None,
        "rss_mib_by_quarter": [
            round(max(rss[i : i + quarter]) / 1024, 1) for i in range(0, len(rss), quarter)
        ][:4],
    }


def baseline(path: Path, database_url: str, sample: int) -> dict[str, float]:
    """One POST per record, the way the reference pipe script does it (after curl start-up)."""
    import httpx
    import uvicorn

    from email_engine.auth import service as auth_service
    from email_engine.auth.roles import Role
    from email_engine.clock import utcnow
    from email_engine.config import Settings
    from email_engine.context import build_context
    from email_engine.main import create_app

    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        DATABASE_URL=database_url,
        ENVIRONMENT="test",
        JWT_SECRET_KEY="bench-" + "k" * 40,
        RATE_LIMIT_ENABLED=False,
        LOG_LEVEL="WARNING",
    )
    ctx = build_context(settings)
    with ctx.session_factory() as session:
        _row, key = auth_service.create_api_key(
            session, name="bench-ingest", role=Role.INGEST, expires_at=None, now=utcnow()
        )
        session.commit()
    server = uvicorn.Server(
        uvicorn.Config(create_app(ctx=ctx), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    bodies = []
    with open(path, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for row in reader:
            if len(row) != len(HEADER):
                continue
            record = {name: value for name, value in zip(HEADER, row, strict=True) if value}
            bodies.append((("pmta-delivery" if record["type"] == "d" else "pmta-bounce"), json.dumps(record)))
            if len(bodies) >= sample:
                break
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}) as client:
        started = time.perf_counter()
        for endpoint, body in bodies:
            client.post(
                f"/api/v1/webhooks/{endpoint}", content=body, headers={"Content-Type": "application/json"}
            )
        elapsed = time.perf_counter() - started
    server.should_exit = True
    thread.join(timeout=10)
    ctx.close()
    return {
        "records": len(bodies),
        "seconds": round(elapsed, 2),
        "records_per_s": round(len(bodies) / elapsed, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--baseline-sample", type=int, default=2000)
    parser.add_argument("--batch", type=int, default=5000, help="PIPE_BATCH_SIZE")
    parser.add_argument("--no-forward", action="store_true", help="do not queue scraper-pro events")
    parser.add_argument(
        "--stdin", choices=("file", "pipe"), default="file", help="what the pipe reads: the file, or a pipe"
    )
    args = parser.parse_args()

    from email_engine.migrate import upgrade_database

    with tempfile.TemporaryDirectory(prefix="ee-bench-") as tmp, throwaway_postgres() as url:
        upgrade_database(url)
        path = Path(tmp) / "acct.csv"
        started = time.perf_counter()
        # Recent times: records older than the replay horizon (14 days) would be set aside, not stored.
        expected = write_file(path, records=args.records, base=datetime.now(UTC) - timedelta(hours=3))
        size_mib = path.stat().st_size / 1024 / 1024
        print(
            f"generated {args.records:,} records ({size_mib:.0f} MiB, {len(expected.garbage_lines)} garbage lines, "
            f"{expected.duplicate_lines} duplicates) in {time.perf_counter() - started:.1f} s"
        )
        result = run_pipe(
            path,
            url,
            Path(tmp) / "spool",
            forward=not args.no_forward,
            batch=args.batch,
            through_pipe=args.stdin == "pipe",
        )
        report = result["report"]
        assert isinstance(report, dict)
        seconds = float(result["seconds"])  # type: ignore[arg-type]
        print(
            f"pipe (stdin: {args.stdin}): {args.records:,} records in {seconds:.1f} s = "
            f"{args.records / seconds:,.0f} records/s "
            f"(stored {report['stored_accepted']:,}, duplicates {report['stored_duplicates']:,}, "
            f"dead letters {report['stored_dead_letters']}, bounce events {report['stored_bounce_events']:,}, "
            f"delivery events {report['stored_delivery_events']:,})"
        )
        print(
            f"pipe memory: peak RSS {result['peak_rss_mib']} MiB; max RSS per quarter of the run "
            f"{result['rss_mib_by_quarter']} MiB"
        )
        if args.baseline_sample:
            base = baseline(path, url, args.baseline_sample)
            per_s = base["records_per_s"]
            print(
                f"baseline (one HTTP POST per record, keep-alive): {base['records']:,} records in "
                f"{base['seconds']} s = {per_s:,.0f} records/s → {args.records:,} records would take "
                f"{args.records / per_s / 60:,.1f} min (pipe: {seconds / 60:.1f} min, "
                f"{(args.records / seconds) / per_s:,.0f}× faster)"
            )
    print(
        json.dumps(
            {
                "machine": f"{os.cpu_count()} cores (shared)",
                **{k: v for k, v in result.items() if k != "report"},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
