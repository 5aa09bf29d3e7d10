"""DMARC import, end to end: the CLI as a real subprocess and the HTTP API on the real app.

Done means (issue 19): real reports from at least five reporters import with exact per-source
totals; the same files again change nothing; a zip bomb and an XXE file are refused with a clear
error while everything else in the same run imports.
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import xml.dom.minidom
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.dmarc import service
from email_engine.dmarc.archive import Limits
from email_engine.dmarc.models import DmarcDeadLetter, DmarcRecord, DmarcReport, DmarcSource
from email_engine.ips import service as ips_service
from email_engine.resolver import make_async_resolver
from tests.conftest import make_settings
from tests.support.cli_runner import run_cli
from tests.support.dns_server import DnsServer

DATA = Path(__file__).resolve().parents[2] / "data" / "dmarc-reports"
NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
GOOD = [
    "protection.outlook.com!example.com!1711756800!1711843200.xml",  # Microsoft
    "twilight.eml",  # Google (zip in an e-mail)
    "Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml",
    "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz",  # FastMail
    "mimecast-weird-gzip.eml",  # Mimecast
    "estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip",
    "ikea.com!example.de!1538690400!1538776800.xml",
    "usssa.com!example.com!1538784000!1538870399.xml",
    "rfc9990-example.net!example.com!1700000000!1700086399.xml",
    "!large-example.com!1711897200!1711983600.xml",
]
# (day, source IP, header-from, reporter) -> messages, dkim aligned, spf aligned, dispositions
EXPECTED = {
    ("2024-03-30", "100.24.188.149", "example.com", "Outlook.com"): (1, 0, 0, {"none": 1}),
    ("2019-02-10", "87.106.127.28", "twlnet.com", "google.com"): (1, 1, 1, {"none": 1}),
    ("2019-02-12", "92.53.116.102", "borschow.com", "google.com"): (1, 0, 0, {"reject": 1}),
    ("2018-01-16", "104.195.80.20", "example.com", "FastMail Pty Ltd"): (1, 0, 0, {"none": 1}),
    ("2023-08-30", "40.93.199.22", "ab.id.au", "Mimecast"): (1, 1, 1, {"none": 1}),
    ("2018-09-14", "148.243.137.254", "example.com", "XYZ Corporation"): (1, 0, 0, {"none": 1}),
    ("2018-10-05", "234.234.234.234", "example.de", "ikea.com"): (1, 0, 0, {"none": 1}),
    ("2018-10-06", "12.20.127.40", "example.com", "usssa.com"): (1, 0, 0, {"none": 1}),
    ("2018-10-06", "199.230.200.36", "example.com", "usssa.com"): (1, 0, 0, {"none": 1}),
    ("2023-11-15", "198.51.100.1", "example.com", "example.net"): (5, 5, 5, {"none": 5}),
    ("2023-11-15", "203.0.113.10", "example.com", "example.net"): (2, 0, 0, {"reject": 2}),
}


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("google.com!example.com!1!2.xml", b"<feedback>" + b"\0" * (120 * 1024 * 1024))
    return buffer.getvalue()


XXE = (
    (DATA / "veeam.com!example.com!1530133200!1530219600.xml")
    .read_bytes()
    .replace(
        b'<?xml version="1.0" encoding="UTF-8" ?>',
        b'<?xml version="1.0" encoding="UTF-8" ?>\n<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>',
    )
    .replace(b"<org_name>veeam.com</org_name>", b"<org_name>&xxe;</org_name>")
)


def all_sources(session: Session) -> dict[tuple[str, str, str, str], tuple[int, int, int, dict[str, int]]]:
    _total, items = service.source_rows(
        session, since=date(2000, 1, 1), until=date(2026, 12, 31), limit=10_000
    )
    return {
        (item["day"], item["source_ip"], item["header_from"], item["reporter"]): (
            item["count"],
            item["dkim_aligned"],
            item["spf_aligned"],
            item["disposition"],
        )
        for item in items
    }


def independent_count(path: Path) -> dict[str, int]:
    """Messages per source IP, read with xml.dom.minidom (not the engine's parser)."""
    counts: dict[str, int] = {}
    for record in xml.dom.minidom.parse(str(path)).getElementsByTagName("record"):
        ip = record.getElementsByTagName("source_ip")[0].firstChild.data.strip()  # type: ignore[union-attr]
        count = int(record.getElementsByTagName("count")[0].firstChild.data)  # type: ignore[union-attr]
        counts[ip] = counts.get(ip, 0) + count
    return counts


def cli_lines(result: Any) -> list[dict[str, Any]]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


@pytest.mark.slow
def test_cli_import_exact_totals_idempotent_and_hostile_files_refused(
    tmp_path: Path, database_url: str, session: Session
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    for name in GOOD:
        shutil.copy(DATA / name, folder / name)
    (folder / "zz-bomb.zip").write_bytes(zip_bomb())
    (folder / "zz-xxe.xml").write_bytes(XXE)

    first = run_cli("dmarc", "import", str(folder), "--json", database_url=database_url)
    assert first.returncode == 1, first.stderr  # two files refused
    lines = {Path(line["file"]).name: line for line in cli_lines(first)}
    assert set(lines) == {*GOOD, "zz-bomb.zip", "zz-xxe.xml"}
    for name in GOOD:
        assert lines[name]["status"] == "imported", lines[name]
        assert lines[name]["error"] is None
    assert lines["!large-example.com!1711897200!1711983600.xml"]["records"] == 2286
    assert lines["zz-bomb.zip"] == {
        "file": str(folder / "zz-bomb.zip"),
        "status": "error",
        "records": 0,
        "error": lines["zz-bomb.zip"]["error"],
    }
    assert "decompression bomb" in lines["zz-bomb.zip"]["error"]
    assert lines["zz-xxe.xml"]["status"] == "error" and "DTD or an entity" in lines["zz-xxe.xml"]["error"]

    session.expire_all()
    sources = all_sources(session)
    small = {key: value for key, value in sources.items() if key[3] != "accurateplastics.com"}
    assert small == EXPECTED
    reporters = {key[3] for key in sources}
    assert len(reporters) >= 5
    large = {key[1]: value[0] for key, value in sources.items() if key[3] == "accurateplastics.com"}
    assert large == independent_count(DATA / "!large-example.com!1711897200!1711983600.xml")
    rows = session.scalar(select(func.count()).select_from(DmarcRecord))
    reports = session.scalar(select(func.count()).select_from(DmarcReport))
    dead = session.scalars(select(DmarcDeadLetter).order_by(DmarcDeadLetter.filename)).all()
    assert [Path(d.filename).name for d in dead] == ["zz-bomb.zip", "zz-xxe.xml"]
    assert dead[1].raw == XXE  # small enough to keep for a retry

    # The same files again: every good one is a duplicate, nothing changes.
    second = run_cli("dmarc", "import", str(folder), "--json", database_url=database_url)
    statuses = {Path(line["file"]).name: (line["status"], line["records"]) for line in cli_lines(second)}
    assert all(statuses[name] == ("duplicate", 0) for name in GOOD), statuses
    session.expire_all()
    assert all_sources(session) == sources
    assert session.scalar(select(func.count()).select_from(DmarcRecord)) == rows
    assert session.scalar(select(func.count()).select_from(DmarcReport)) == reports
    assert session.scalar(select(func.count()).select_from(DmarcDeadLetter)) == 2


@pytest.mark.slow
def test_cli_human_output_and_missing_file(tmp_path: Path, database_url: str, ctx: AppContext) -> None:
    shutil.copy(DATA / GOOD[0], tmp_path / "a.xml")
    result = run_cli(
        "dmarc", "import", str(tmp_path / "a.xml"), str(tmp_path / "missing.xml"), database_url=database_url
    )
    assert result.returncode == 1
    # The table wraps long paths at the terminal width, so compare words, not lines.
    words = " ".join(result.stdout.split())
    assert "imported" in words and "cannot read" in words
    assert "1 imported, 0 duplicate, 1 refused" in result.stderr
    help_text = run_cli("dmarc", "import", "--help", database_url=database_url).stdout
    assert "--json" in help_text and "duplicate" in help_text


def test_api_post_report_sources_and_dead_letters(
    client: TestClient, operator_headers: dict[str, str], viewer_headers: dict[str, str]
) -> None:
    body = gzip.compress((DATA / GOOD[0]).read_bytes())
    answer = client.post("/api/v1/dmarc/reports?filename=ms.xml.gz", content=body, headers=operator_headers)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "imported" and answer.json()["records"] == 1
    again = client.post("/api/v1/dmarc/reports", content=body, headers=operator_headers)
    assert again.status_code == 200 and again.json()["status"] == "duplicate"

    refused = client.post("/api/v1/dmarc/reports?filename=x.xml", content=XXE, headers=operator_headers)
    assert refused.status_code == 422
    assert refused.json()["status"] == "error" and "DTD" in refused.json()["error"]
    junk = client.post("/api/v1/dmarc/reports", content=b"\x00\x01junk", headers=operator_headers)
    assert junk.status_code == 422 and "not XML, gzip, zip" in junk.json()["error"]
    empty = client.post("/api/v1/dmarc/reports", content=b"", headers=operator_headers)
    assert empty.status_code == 422

    assert client.post("/api/v1/dmarc/reports", content=body, headers=viewer_headers).status_code == 403
    sources = client.get(
        "/api/v1/dmarc/sources", params={"since": "2024-03-01", "until": "2024-03-31"}, headers=viewer_headers
    )
    assert sources.status_code == 200
    assert sources.json()["items"] == [
        {
            "day": "2024-03-30",
            "source_ip": "100.24.188.149",
            "header_from": "example.com",
            "reporter": "Outlook.com",
            "count": 1,
            "dkim_aligned": 0,
            "spf_aligned": 0,
            "dmarc_pass": 0,
            "disposition": {"none": 1},
            "classification": "unknown",
            "ptr": None,
        }
    ]
    bad_range = client.get(
        "/api/v1/dmarc/sources", params={"since": "2024-03-31", "until": "2024-03-01"}, headers=viewer_headers
    )
    assert bad_range.status_code in (400, 422)
    letters = client.get("/api/v1/dmarc/dead-letters", headers=viewer_headers).json()
    assert letters["total"] == 3
    kept = next(item for item in letters["items"] if item["filename"] == "x.xml")
    raw = client.get(f"/api/v1/dmarc/dead-letters/{kept['id']}/raw", headers=viewer_headers)
    assert raw.content == XXE
    reports = client.get("/api/v1/dmarc/reports", headers=viewer_headers).json()
    assert reports["total"] == 1 and reports["items"][0]["reporter"] == "Outlook.com"


def test_oversize_post_refused_before_reading(client: TestClient, operator_headers: dict[str, str]) -> None:
    answer = client.post(
        "/api/v1/dmarc/reports", content=b"<" + b" " * (21 * 1024 * 1024), headers=operator_headers
    )
    assert answer.status_code == 413


def test_sources_classified_ours_forwarder_unknown(
    ctx: AppContext, session: Session, database_url: str
) -> None:
    # Ours by inventory, a forwarder by forward-confirmed PTR, a fake PTR that does not confirm, no PTR.
    xml = (DATA / "usssa.com!example.com!1538784000!1538870399.xml").read_bytes()
    service.import_file(session, name="usssa.xml", data=xml, source="test", limits=Limits(), now=NOW)
    xml2 = (DATA / "rfc9990-example.net!example.com!1700000000!1700086399.xml").read_bytes()
    service.import_file(session, name="bis.xml", data=xml2, source="test", limits=Limits(), now=NOW)
    ips_service.create_ip(
        session,
        address="198.51.100.1",
        hostname="mta1.example.com",
        purpose="marketing",
        vmta_name="vmta-1",
        mailwizz_server_id=None,
        actor="test",
        now=NOW,
    )
    session.commit()
    zone = """
        $ORIGIN test.
        36.200.230.199.in-addr.arpa. 300 IN PTR mail-qt1-f36.google.com.
        mail-qt1-f36.google.com. 300 IN A 199.230.200.36
        40.127.20.12.in-addr.arpa. 300 IN PTR mx.google.com.
        mx.google.com. 300 IN A 192.0.2.99
    """
    with DnsServer(zone) as dns:
        dns.servfail("10.113.0.203.in-addr.arpa")
        settings = make_settings(database_url, None, DNS_NAMESERVERS=dns.nameserver, DNS_TIMEOUT=1)
        resolver = make_async_resolver(settings)
        when = datetime(2018, 10, 7, tzinfo=UTC)
        counts = service.classify_sources(session, resolver, now=when, lookback_days=10_000)
        session.commit()
    assert counts["looked_up"] == 3 and counts["forwarder"] == 1 and counts["unanswered"] == 1
    stored = {row.address: row for row in session.scalars(select(DmarcSource))}
    assert (
        stored["199.230.200.36"].classification == "forwarder"
        and stored["199.230.200.36"].matched == "Google"
    )
    assert stored["12.20.127.40"].ptr == "mx.google.com" and not stored["12.20.127.40"].confirmed
    assert stored["12.20.127.40"].classification == "unknown"
    assert not stored["203.0.113.10"].answered
    classes = {
        item["source_ip"]: item["classification"]
        for item in service.source_rows(session, since=date(2018, 1, 1), until=date(2024, 1, 1))[1]
    }
    assert classes == {
        "198.51.100.1": "ours",
        "199.230.200.36": "forwarder",
        "12.20.127.40": "unknown",
        "203.0.113.10": "unknown",
    }


def small_report(number: int) -> bytes:
    """An RFC 7489 Appendix C report with three records from 198.51.100.x (``number`` makes it unique)."""
    begin = 1_767_225_600 + number * 86_400
    records = "".join(
        f"<record><row><source_ip>198.51.100.{index}</source_ip><count>{number + index}</count>"
        "<policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>fail</spf>"
        "</policy_evaluated></row><identifiers><header_from>example.com</header_from></identifiers></record>"
        for index in range(1, 4)
    )
    return (
        '<?xml version="1.0"?><feedback><report_metadata><org_name>example.net</org_name>'
        f"<email>dmarc@example.net</email><report_id>batch-{number}</report_id><date_range><begin>{begin}"
        f"</begin><end>{begin + 86_399}</end></date_range></report_metadata><policy_published>"
        f"<domain>example.com</domain><p>none</p></policy_published>{records}</feedback>"
    ).encode()


@pytest.mark.slow
def test_cli_workers_answer_in_file_order_across_batches(
    tmp_path: Path, database_url: str, session: Session
) -> None:
    """More files than one hand-over to a worker (16): lines come back in file order, a junk file and a
    second copy of a report in the same run are told apart, and a run in one process agrees."""
    folder = tmp_path / "many"
    folder.mkdir()
    for number in range(40):
        (folder / f"r{number:02d}.xml.gz").write_bytes(gzip.compress(small_report(number)))
    (folder / "r17-junk.xml").write_bytes(b"<not-a-report/>")
    (folder / "r39-copy.xml").write_bytes(small_report(3))
    names = sorted(path.name for path in folder.iterdir())

    first = run_cli("dmarc", "import", str(folder), "--json", "--jobs", "2", database_url=database_url)
    assert first.returncode == 1, first.stderr
    lines = cli_lines(first)
    assert [Path(line["file"]).name for line in lines] == names
    statuses = {Path(line["file"]).name: (line["status"], line["records"]) for line in lines}
    assert statuses.pop("r17-junk.xml")[0] == "error"
    assert statuses.pop("r39-copy.xml") == ("duplicate", 0)
    assert set(statuses.values()) == {("imported", 3)}
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(DmarcReport)) == 40
    assert session.scalar(select(func.sum(DmarcRecord.messages))) == sum(
        number + index for number in range(40) for index in range(1, 4)
    )

    again = run_cli("dmarc", "import", str(folder), "--json", "--jobs", "1", database_url=database_url)
    statuses = {Path(line["file"]).name: line["status"] for line in cli_lines(again)}
    assert statuses.pop("r17-junk.xml") == "error"
    assert set(statuses.values()) == {"duplicate"}
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(DmarcReport)) == 40
    assert session.scalar(select(func.count()).select_from(DmarcDeadLetter)) == 1
