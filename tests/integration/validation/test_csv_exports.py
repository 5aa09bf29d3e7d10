"""No formula survives any CSV export: validation results (API and CLI), suppressions, dead letters, stats.

Each export is fed the payload table of tests/support/csv_payloads.py through the real input path
(an upload, a CLI file, the suppression API, the accounting webhook) and read back as a spreadsheet
would see it.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from email_engine.clock import utcnow
from email_engine.config import Settings
from email_engine.context import AppContext
from email_engine.validation.jobs import JOBS
from tests.support.cli_runner import run_cli
from tests.support.csv_payloads import PAYLOADS, formula_cells
from tests.support.dns_server import DnsServer

# A DDE payload that is also a valid address with a typo'd domain: the engine's own suggestion repeats it.
DDE_ADDRESS = "=cmd|'/Ccalc'!A0@gmal.com"
# A CSV file with NUL bytes is refused as binary, and the JSON and CSV inputs below cannot carry one.
TEXT_PAYLOADS = [payload.replace("\x00", "") for payload in PAYLOADS]


def _hostile_csv() -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["=Name", "email", "note"])
    writer.writerow(["dde", DDE_ADDRESS, "typo suggestion"])
    for index, payload in enumerate(TEXT_PAYLOADS):
        writer.writerow([payload, f"user{index}@good.mail.test", payload])
        writer.writerow([f"row{index}", payload + "@good.mail.test", "hostile address"])
    return buffer.getvalue().encode()


def test_validation_result_download_has_no_formula(
    client: TestClient, operator_headers: dict[str, str], ctx: AppContext
) -> None:
    upload = client.post(
        "/api/v1/validation/jobs",
        files={"file": ("hostile.csv", _hostile_csv(), "text/csv")},
        data={"column": "email"},
        headers=operator_headers,
    )
    assert upload.status_code == 202, upload.text
    JOBS[0].run(ctx, utcnow())
    job = client.get(f"/api/v1/validation/jobs/{upload.json()['id']}", headers=operator_headers).json()
    assert job["status"] == "done", job
    for verdict in ("", "?verdict=risky", "?verdict=invalid"):
        result = client.get(job["result_url"] + verdict, headers=operator_headers)
        assert result.status_code == 200
        assert formula_cells(result.text) == []
    rows = list(csv.DictReader(io.StringIO(client.get(job["result_url"], headers=operator_headers).text)))
    dde = next(row for row in rows if row["'=Name"] == "dde")
    assert dde["suggestion"] == "'" + DDE_ADDRESS.replace("gmal.com", "gmail.com")
    assert dde["email"] == "'" + DDE_ADDRESS


@pytest.mark.slow
def test_cli_output_has_no_formula(
    tmp_path: Path, settings: Settings, dns_server: DnsServer, database_url: str
) -> None:
    source = tmp_path / "hostile.csv"
    source.write_bytes(_hostile_csv())
    output = tmp_path / "out.csv"
    done = run_cli(
        "validate",
        str(source),
        "-o",
        str(output),
        "--column",
        "email",
        "--split",
        "--json",
        database_url=database_url,
        env={"DNS_NAMESERVERS": dns_server.nameserver, "VALIDATION_ALLOW_TEST_DOMAINS": "true"},
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["rows"] == 2 * len(TEXT_PAYLOADS) + 1
    for written in tmp_path.glob("out*.csv"):
        assert formula_cells(written.read_text(encoding="utf-8")) == [], written.name


def test_feedback_exports_have_no_formula(
    client: TestClient, operator_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    for index, payload in enumerate(TEXT_PAYLOADS):
        added = client.post(
            "/api/v1/suppressions",
            json={"value": f"victim{index}@example.org", "note": payload},
            headers=operator_headers,
        )
        assert added.status_code == 201, added.text
    # Accounting lines that are garbage (dead letters) and records whose domains and VMTA carry payloads.
    logged = (utcnow() - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S+0000")
    lines = ["type,timeLogged,rcpt,dsnStatus,dsnDiag,vmta,dlvSourceIp"]
    for index, payload in enumerate(TEXT_PAYLOADS):
        cell = payload.replace('"', "'").replace("\r", " ").replace("\n", " ")
        lines.append(
            f'b,{logged},"x{index}@{cell}.example",5.1.1,"smtp;550 {cell}","{cell}",203.0.113.{index}'
        )
        lines.append(f'"{cell}","not a record",{index}')
    batch = client.post(
        "/api/v1/webhooks/pmta-batch", content="\n".join(lines).encode(), headers=operator_headers
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["dead_letters"] > 0

    exports = ["/api/v1/suppressions.csv", "/api/v1/dead-letters.csv"]
    exports += [
        f"/api/v1/stats/{name}.csv" for name in ("domains", "ips", "providers", "vmtas", "sender-domains")
    ]
    for url in exports:
        response = client.get(url, headers=viewer_headers)
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/csv")
        assert formula_cells(response.text) == [], url
    vmtas = list(
        csv.DictReader(io.StringIO(client.get("/api/v1/stats/vmtas.csv", headers=viewer_headers).text))
    )
    assert {row["window"] for row in vmtas} == {"1h", "24h", "7d"}
    assert any(row["key"].startswith("'=") for row in vmtas)
    letters = client.get("/api/v1/dead-letters.csv", headers=viewer_headers).text
    assert len(list(csv.DictReader(io.StringIO(letters)))) == batch.json()["dead_letters"]
