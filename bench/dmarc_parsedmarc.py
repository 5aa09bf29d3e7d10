"""Our DMARC report reader against parsedmarc's: agreement on the real sample reports, and speed.

    .venv/bin/python bench/dmarc_parsedmarc.py [--reports 300] [--parsedmarc-python PATH]

parsedmarc (https://github.com/domainaware/parsedmarc, the best-known DMARC report processor) is not a
dependency of the engine: on the first run this script makes its own virtual environment,
bench/.parsedmarc-venv, and installs parsedmarc==11.1.0 there from PyPI (or pass the Python of an
environment that has it). Its side runs in that interpreter (bench/support/parsedmarc_side.py).

Agreement: every file of tests/data/dmarc-reports (parsedmarc's own samples) is read by both; per
report, the metadata and the messages per (source IP, header-from, disposition, DKIM aligned, SPF
aligned) must be equal. Speed: ``--reports`` generated reports of 100 records (the shape of
bench/dmarc_import.py) are parsed by each, one process, no storage and, for parsedmarc, ``offline=True``
(no reverse-DNS or GeoIP lookup per source IP: parsing alone; with lookups, parsedmarc asks the DNS
once per source IP, 2 s timeout each, and that is where reports of thousands of IPs take hours).
"""

from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from dmarc_import import write_reports  # noqa: E402
from email_engine.dmarc import service  # noqa: E402
from email_engine.dmarc.archive import Limits  # noqa: E402

SAMPLES = ROOT / "tests" / "data" / "dmarc-reports"
SIDE = ROOT / "bench" / "support" / "parsedmarc_side.py"
VENV = ROOT / "bench" / ".parsedmarc-venv"
PARSEDMARC = "parsedmarc==11.1.0"


def parsedmarc_python(given: str | None) -> str:
    if given:
        return given
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"making {VENV.relative_to(ROOT)} with {PARSEDMARC} (first run only)…", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", PARSEDMARC], check=True)
    return str(python)


def ours(path: Path) -> list[dict[str, object]]:
    read = service.read_file(path.name, path.read_bytes(), Limits())
    if read.errors:
        return [{"error": "; ".join(reason for _name, reason in read.errors)[:300]}]
    found = []
    for _name, report in read.reports:
        meta = report.metadata
        rows: dict[str, int] = {}
        for key, messages in report.rows.items():
            label = "|".join(
                (
                    key.source_ip,
                    key.header_from,
                    key.disposition.value,
                    str(key.dkim_aligned),
                    str(key.spf_aligned),
                )
            )
            rows[label] = rows.get(label, 0) + messages
        found.append(
            {
                # parsedmarc fills an empty org_name from the e-mail's domain and lower-cases it, as
                # our `reporter` does (without the lower-casing): compared case-insensitively.
                "org_name": meta.reporter.lower(),
                "report_id": meta.report_id,
                "domain": meta.policy_domain,
                "begin": meta.begin.strftime("%Y-%m-%d %H:%M:%S"),
                "end": meta.end.strftime("%Y-%m-%d %H:%M:%S"),
                "rows": rows,
            }
        )
    return found


def theirs(python: str, mode: str, paths: Iterable[Path]) -> list[dict[str, object]]:
    done = subprocess.run(
        [python, str(SIDE), mode, *map(str, paths)], check=True, capture_output=True, text=True
    )
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def agreement(python: str) -> None:
    files = sorted(p for p in SAMPLES.iterdir() if p.name not in ("LICENSE", "README.md"))
    parsed = theirs(python, "agree", files)
    agree = recovered = 0
    print(f"{'file':64} ours          parsedmarc    verdict")
    for path, them in zip(files, parsed, strict=True):
        (us, *more) = ours(path)
        if more:
            print(f"{path.name[:64]:64} {len(more) + 1} reports: only the first is compared")
        our_state = "refused" if "error" in us else f"{len(us['rows'])} rows"  # type: ignore[arg-type]
        their_state = "refused" if "error" in them else f"{len(them['rows'])} rows"  # type: ignore[arg-type]
        notes = []
        if "error" in us or "error" in them:
            if "error" in us and "error" in them:
                verdict = "both refuse"
            elif "error" in us:
                # parsedmarc re-parses broken XML with lxml's recover=True and drops undecodable
                # bytes; we refuse it and keep the file in the dead letters for a person to look at.
                verdict = "we refuse, parsedmarc recovers"
            else:
                verdict = "DIFFER"
            notes.append(str(us.get("error") or them.get("error"))[:120])
        else:
            same = all(us[k] == them[k] for k in ("org_name", "report_id", "domain", "rows"))
            verdict = "same" if same else "DIFFER"
            for k in ("org_name", "report_id", "domain"):
                if us[k] != them[k]:
                    notes.append(f"{k}: {us[k]!r} / {them[k]!r}")
            if us["rows"] != them["rows"]:
                notes.append(f"rows: {us['rows']} / {them['rows']}"[:300])
            if (us["begin"], us["end"]) != (them["begin"], them["end"]):
                notes.append(
                    f"range (not compared): {us['begin']}–{us['end']} / {them['begin']}–{them['end']}"
                )
        agree += verdict in ("same", "both refuse")
        recovered += verdict == "we refuse, parsedmarc recovers"
        print(f"{path.name[:64]:64} {our_state:13} {their_state:13} {verdict}")
        for note in notes:
            print(f"    {note}")
    print(
        f"agreement: {agree} of {len(files)} files the same; {recovered} broken files we refuse (dead "
        f"letters) and parsedmarc recovers; {len(files) - agree - recovered} other differences"
    )


def speed(python: str, reports: int) -> None:
    with tempfile.TemporaryDirectory(prefix="dmarc-vs-parsedmarc-") as temp:
        folder = Path(temp)
        rows, _xml = write_reports(folder, reports, 100)
        files = sorted(folder.iterdir())
        gc.freeze()
        gc.set_threshold(50_000, 20, 100)  # what `dmarc import` sets
        cpu, wall = time.process_time(), time.perf_counter()
        read = sum(len(service.read_file(p.name, p.read_bytes(), Limits()).reports) for p in files)
        our = {"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall}
        assert read == reports
        (their,) = theirs(python, "speed", files)
    print(f"\nparse only, one process, {reports:,} reports × 100 records ({rows:,} records):")
    for name, got in (("email-engine", our), ("parsedmarc (offline)", their)):
        per_million = float(got["cpu"]) * 1_000_000 / rows  # type: ignore[arg-type]
        print(
            f"  {name:22} {float(got['cpu']):7.2f} CPU-s {float(got['wall']):7.2f} s wall"  # type: ignore[arg-type]
            f"  → {rows / float(got['cpu']):9,.0f} records per CPU-s, {per_million:6.0f} CPU-s per million"  # type: ignore[arg-type]
        )
    print(f"  parsedmarc / email-engine CPU: {float(their['cpu']) / our['cpu']:.1f}×")  # type: ignore[arg-type]
    print(f"measured {datetime.now(tz=UTC):%Y-%m-%d %H:%M} UTC")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=300, help="generated reports for the speed part")
    parser.add_argument("--parsedmarc-python", help="a Python that has parsedmarc installed")
    args = parser.parse_args()
    python = parsedmarc_python(args.parsedmarc_python)
    agreement(python)
    speed(python, args.reports)


if __name__ == "__main__":
    main()
