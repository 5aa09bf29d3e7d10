"""The parsedmarc side of bench/dmarc_parsedmarc.py: run with parsedmarc's own interpreter (its venv).

    parsedmarc_side.py agree FILE…     one JSON line per file: the report's metadata and its totals
    parsedmarc_side.py speed FILE…     one JSON line: CPU and wall seconds to parse every file

parsedmarc.parse_report_file(…, offline=True) is parsedmarc's own entry point for one report file
(XML, gzip, zip or e-mail); ``offline`` skips its reverse-DNS and GeoIP lookups per source IP (the
comparison of parsing alone), ``--online NAMESERVER`` makes them against that server.
Standard library and parsedmarc only: this file never imports email_engine.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import parsedmarc


def totals(report: dict[str, Any]) -> dict[str, Any]:
    meta = report["report_metadata"]
    rows: dict[str, int] = {}
    for record in report["records"]:
        evaluated = record["policy_evaluated"]
        key = "|".join(
            (
                str(record["source"]["ip_address"]),
                str(record["identifiers"].get("header_from") or "").lower(),
                str(evaluated.get("disposition") or "none").lower(),
                str(str(evaluated.get("dkim") or "").lower() == "pass"),
                str(str(evaluated.get("spf") or "").lower() == "pass"),
            )
        )
        rows[key] = rows.get(key, 0) + int(record["count"])
    return {
        "org_name": str(meta.get("org_name") or "").lower(),
        "report_id": meta.get("report_id"),
        "domain": report["policy_published"]["domain"],
        "begin": meta.get("begin_date"),
        "end": meta.get("end_date"),
        "rows": rows,
    }


def main() -> None:
    mode, *args = sys.argv[1:]
    options: dict[str, object] = {"offline": True, "always_use_local_files": True}
    if args and args[0] == "--online":
        options = {
            "offline": False,
            "always_use_local_files": True,
            "nameservers": [args[1]],
            "dns_timeout": 1.0,
        }
        args = args[2:]
    if mode == "agree":
        for path in args:
            try:
                parsed = parsedmarc.parse_report_file(path, **options)
            except Exception as exc:  # any refusal is an outcome to compare
                print(json.dumps({"file": path, "error": f"{type(exc).__name__}: {exc}"[:300]}))
                continue
            if parsed["report_type"] != "aggregate":
                print(json.dumps({"file": path, "error": f"not aggregate: {parsed['report_type']}"}))
                continue
            print(json.dumps({"file": path, **totals(parsed["report"])}))
        return
    cpu, wall = time.process_time(), time.perf_counter()
    records = 0
    for path in args:
        records += len(parsedmarc.parse_report_file(path, **options)["report"]["records"])
    print(
        json.dumps(
            {
                "files": len(args),
                "records": records,
                "cpu": time.process_time() - cpu,
                "wall": time.perf_counter() - wall,
            }
        )
    )


if __name__ == "__main__":
    main()
