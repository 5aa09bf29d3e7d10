"""10,000 DMARC aggregate reports (about 1,000,000 rows) through `email-engine dmarc import`.

    .venv/bin/python bench/dmarc_import.py [--reports 10000] [--records 100] [--database sqlite|postgresql]

The reports are written first as .xml.gz files shaped like Google's (one record per source IP, DKIM
and SPF auth results, ~600 bytes of XML per record); the import is the real CLI in a separate process
on a fresh database (its default --jobs: one parsing process per CPU, at most 4), and a second run of
the same files measures the duplicate path. CPU seconds include the worker processes. RSS of the
importer and its workers together is sampled every half second from /proc (by quarter of the run:
memory stays flat or it does not); the peak of any single process comes from wait4().
PostgreSQL uses the local server (127.0.0.1:5432, a throwaway database dropped afterwards).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from email_engine.migrate import upgrade_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

HEADER = (
    '<?xml version="1.0" encoding="UTF-8" ?>\n<feedback>\n  <version>1.0</version>\n  <report_metadata>\n'
    "    <org_name>google.com</org_name>\n    <email>noreply-dmarc-support@google.com</email>\n"
    "    <extra_contact_info>https://support.google.com/a/answer/2466580</extra_contact_info>\n"
    "    <report_id>{report_id}</report_id>\n    <date_range>\n      <begin>{begin}</begin>\n"
    "      <end>{end}</end>\n    </date_range>\n  </report_metadata>\n  <policy_published>\n"
    "    <domain>example.com</domain>\n    <adkim>r</adkim>\n    <aspf>r</aspf>\n    <p>none</p>\n"
    "    <sp>none</sp>\n    <pct>100</pct>\n    <np>none</np>\n  </policy_published>\n"
)
RECORD = (
    "  <record>\n    <row>\n      <source_ip>{ip}</source_ip>\n      <count>{count}</count>\n"
    "      <policy_evaluated>\n        <disposition>{disposition}</disposition>\n        <dkim>{dkim}</dkim>\n"
    "        <spf>{spf}</spf>\n      </policy_evaluated>\n    </row>\n    <identifiers>\n"
    "      <header_from>example.com</header_from>\n    </identifiers>\n    <auth_results>\n      <dkim>\n"
    "        <domain>example.com</domain>\n        <result>{dkim}</result>\n        <selector>s2024</selector>\n"
    "      </dkim>\n      <spf>\n        <domain>bounce.example.com</domain>\n        <result>{spf}</result>\n"
    "      </spf>\n    </auth_results>\n  </record>\n"
)


def write_reports(folder: Path, reports: int, records: int) -> tuple[int, int]:
    rng = random.Random(19)
    xml_bytes = 0
    for number in range(reports):
        begin = 1_767_225_600 + (number % 365) * 86_400
        parts = [HEADER.format(report_id=f"bench-{number}", begin=begin, end=begin + 86_399)]
        for index in range(records):
            ok = rng.random() < 0.9
            parts.append(
                RECORD.format(
                    ip=f"10.{(number >> 8) & 255}.{number & 255}.{index}",
                    count=rng.randint(1, 400),
                    disposition="none" if ok else rng.choice(("none", "quarantine", "reject")),
                    dkim="pass" if ok else "fail",
                    spf="pass" if ok or rng.random() < 0.5 else "fail",
                )
            )
        parts.append("</feedback>\n")
        data = "".join(parts).encode()
        xml_bytes += len(data)
        (folder / f"google.com!example.com!{begin}!{begin + 86399}!bench-{number}.xml.gz").write_bytes(
            gzip.compress(data, compresslevel=6)
        )
    return reports * records, xml_bytes


def tree_rss_mib(pid: int) -> int:
    """RSS of the import process and its worker processes, MiB."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
        pending += [int(child) for child in children]
    return total // 1024


def run(folder: Path, env: dict[str, str]) -> dict[str, object]:
    command = [
        sys.executable,
        "-c",
        "from email_engine.cli import main; main()",
        "dmarc",
        "import",
        str(folder),
        "--json",
    ]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    samples: list[int] = []
    # Output to files, not pipes: 10,000 JSON lines would fill a pipe nobody reads while sampling.
    with tempfile.TemporaryFile(mode="w+") as out_file, tempfile.TemporaryFile(mode="w+") as err_file:
        process = subprocess.Popen(command, env=env, stdout=out_file, stderr=err_file, text=True)
        while process.poll() is None:
            samples.append(tree_rss_mib(process.pid))
            time.sleep(0.5)
        elapsed = time.perf_counter() - started
        out_file.seek(0)
        err_file.seek(0)
        stdout, stderr = out_file.read(), err_file.read()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    statuses: dict[str, int] = {}
    for line in lines:
        statuses[line["status"]] = statuses.get(line["status"], 0) + 1
    if process.returncode not in (0, 1) or not lines:
        raise SystemExit(f"import failed ({process.returncode}): {stderr[-2000:]}")
    quarter = max(1, len(samples) // 4)
    return {
        "seconds": round(elapsed, 1),
        "rows": sum(int(line["records"]) for line in lines),
        "files": statuses,
        "peak_rss_mib_one_process": usage.ru_maxrss // 1024,
        "peak_rss_mib_all_processes": max(samples, default=0),
        "rss_mib_by_quarter": [max(samples[i : i + quarter]) for i in range(0, len(samples), quarter)][:4],
        "cpu_seconds": round(usage.ru_utime + usage.ru_stime - before.ru_utime - before.ru_stime, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=10_000)
    parser.add_argument("--records", type=int, default=100)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dmarc-bench-") as temp:
        folder = Path(temp) / "reports"
        folder.mkdir()
        started = time.perf_counter()
        rows, xml_bytes = write_reports(folder, args.reports, args.records)
        print(
            f"wrote {args.reports:,} reports, {rows:,} records, {xml_bytes / 2**20:,.0f} MiB of XML "
            f"({sum(p.stat().st_size for p in folder.iterdir()) / 2**20:,.0f} MiB gzipped) in "
            f"{time.perf_counter() - started:.0f} s"
        )
        if args.database == "postgresql":
            from tests.support.databases import throwaway_postgres

            context = throwaway_postgres()
        else:
            from contextlib import nullcontext

            context = nullcontext(f"sqlite:///{temp}/bench.db")
        with context as url:
            upgrade_database(url)
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "REDIS_URL": "",
                "ENVIRONMENT": "test",
                "LOG_LEVEL": "WARNING",
                "JWT_SECRET_KEY": "bench-" + "x" * 40,
            }
            # The machine is shared: the load average says how much of it the run had.
            load = "load average " + " / ".join(f"{value:.1f}" for value in os.getloadavg())
            first = run(folder, env)
            rate = int(first["rows"]) / float(first["seconds"])  # type: ignore[arg-type]
            print(f"import ({args.database}): {json.dumps(first)}  → {rate:,.0f} rows/s, target < 60 s")
            print(f"  before: {load}; after: " + " / ".join(f"{value:.1f}" for value in os.getloadavg()))
            second = run(folder, env)
            print(f"same files again: {json.dumps(second)}")


if __name__ == "__main__":
    main()
