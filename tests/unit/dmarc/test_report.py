"""The aggregate-report reader against real reports (tests/data/dmarc-reports, parsedmarc's samples).

Expected rows were read off each XML file by eye (RFC 7489 Appendix C: ``policy_evaluated/dkim`` and
``/spf`` are the aligned DMARC verdicts, ``auth_results`` the raw ones); the 2,286-record report is
counted independently with ``xml.dom.minidom``.
"""

from __future__ import annotations

import xml.dom.minidom
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from email_engine.dmarc.archive import Limits, report_payloads
from email_engine.dmarc.report import (
    AggregateReport,
    Disposition,
    ReportError,
    RowKey,
    parse_aggregate_report,
    report_day,
)

DATA = Path(__file__).resolve().parents[2] / "data" / "dmarc-reports"
N, Q, R, P = Disposition.NONE, Disposition.QUARANTINE, Disposition.REJECT, Disposition.PASS


def read(name: str, *, chunk: int = 997) -> AggregateReport:
    data = (DATA / name).read_bytes()
    payloads = list(report_payloads(name, data, Limits()))
    assert len(payloads) == 1
    pieces = b"".join(payloads[0].chunks)
    return parse_aggregate_report(pieces[i : i + chunk] for i in range(0, len(pieces), chunk))


# file: (reporter, report id, policy domain, day, {row: messages})
SAMPLES = {
    "!example.com!1538204542!1538463818.xml": (
        "accurateplastics.com",
        "example.com:1538463741",
        "example.com",
        date(2018, 10, 1),
        {RowKey("12.20.127.122", "example.com", N, False, False, "none", "none"): 1},
    ),
    "addisonfoods.com!example.com!1536105600!1536191999.xml": (
        "addisonfoods.com",
        "3ceb5548498640beaeb47327e202b0b9",
        "example.com",
        date(2018, 9, 5),
        {RowKey("109.203.100.17", "example.com", N, False, False, "pass", "none"): 1},
    ),
    "empty_reason.xml": (
        "example.org",
        "20240125141224705995",
        "example.com",
        date(2024, 1, 25),
        {RowKey("198.51.100.123", "example.com", N, True, False, "pass", "pass"): 2},
    ),
    "example.net!example.com!1529366400!1529452799.xml": (
        "example.net",
        "b043f0e264cf4ea995e93765242f6dfb",
        "example.com",
        date(2018, 6, 19),
        {RowKey("199.230.200.36", "example.com", N, False, False, "none", "none"): 1},
    ),
    "ikea.com!example.de!1538690400!1538776800.xml": (
        "ikea.com",
        "aggr_report_2018_10_05_5bc7e9b4f3e8a",
        "example.de",
        date(2018, 10, 5),  # 22:00 to 22:00 UTC: the middle of the range is the 5th
        {RowKey("234.234.234.234", "example.de", N, False, False, "pass", "none"): 1},
    ),
    "old_draft_from_wiki.xml": (
        "acme.com",
        "9391651994964116463",
        "example.com",
        date(2012, 4, 28),
        {RowKey("72.150.241.94", "example.com", N, False, True, "fail", "pass"): 2},
    ),
    "protection.outlook.com!example.com!1711756800!1711843200.xml": (
        "Outlook.com",
        "cfeafefe4129445e8c81018bd9177197",
        "example.com",
        date(2024, 3, 30),
        {RowKey("100.24.188.149", "example.com", N, False, False, "none", "fail"): 1},
    ),
    "rfc9990-example.net!example.com!1700000000!1700086399.xml": (
        "example.net",
        "dmarcbis-test-report-001",
        "example.com",
        date(2023, 11, 15),
        {
            RowKey("198.51.100.1", "example.com", N, True, True, "pass", "pass"): 5,
            RowKey("203.0.113.10", "example.com", R, False, False, "none", "fail"): 2,
        },
    ),
    "rfc9990-sample.xml": (  # DMARCbis namespace, disposition "pass"
        "Sample Reporter",
        "3v98abbp8ya9n3va8yr8oa3ya",
        "example.com",
        date(1979, 8, 7),
        {RowKey("192.0.2.123", "example.com", P, True, False, "pass", "fail"): 123},
    ),
    "usssa.com!example.com!1538784000!1538870399.xml": (
        "usssa.com",
        "8953b4d4a4ee4218b6ac0e2cb2667ee1",
        "example.com",
        date(2018, 10, 6),
        {
            RowKey("12.20.127.40", "example.com", N, False, False, "none", "none"): 1,
            RowKey("199.230.200.36", "example.com", N, False, False, "none", "none"): 1,
        },
    ),
    "veeam.com!example.com!1530133200!1530219600.xml": (
        "veeam.com",
        "sonexushealth.com:1530233361",
        "example.com",
        date(2018, 6, 28),
        {RowKey("199.230.200.36", "example.com", N, False, False, "none", "none"): 1},
    ),
    "report_with_upper_cased_pass.xml": (  # "None" and "Pass" as the reporter wrote them
        "example.com",
        "aggr_report_example.com_20191202_1638",
        "example.com",
        date(2019, 11, 30),  # a four-day range (28 Nov to 2 Dec): its middle day
        {RowKey("23.104.41.189", "example.com", N, True, True, "pass", "pass"): 1},
    ),
    "fastmail.com!example.com!1516060800!1516147199!102675056.xml.gz": (
        "FastMail Pty Ltd",
        "102675056",
        "indemed.com",
        date(2018, 1, 16),
        {RowKey("104.195.80.20", "example.com", N, False, False, "none", "softfail"): 1},
    ),
    "estadocuenta1.infonacot.gob.mx!example.com!1536853302!1536939702!2940.xml.zip": (
        "XYZ Corporation",
        "2940",
        "example.com",
        date(2018, 9, 14),
        {RowKey("148.243.137.254", "example.com", N, False, False, "none", "none"): 1},
    ),
    "mimecast-weird-gzip.eml": (
        "Mimecast",
        "157a5fe30ec76f4bc0d8bccfc96c118a167a1280fee7c7465af5115e73082e5e",
        "ab.id.au",
        date(2023, 8, 30),
        {RowKey("40.93.199.22", "ab.id.au", N, True, True, "pass", "pass"): 1},
    ),
    "twilight.eml": (
        "google.com",
        "1627703331531660819",
        "twlnet.com",
        date(2019, 2, 10),
        {RowKey("87.106.127.28", "twlnet.com", N, True, True, "pass", "pass"): 1},
    ),
    "Report domain- borschow.com Submitter- google.com Report-ID- 949348866075514174.eml": (
        "google.com",
        "949348866075514174",
        "borschow.com",
        date(2019, 2, 12),
        {RowKey("92.53.116.102", "borschow.com", R, False, False, "none", "fail"): 1},
    ),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_real_reports_read_exactly(name: str) -> None:
    reporter, report_id, domain, day, rows = SAMPLES[name]
    report = read(name)
    assert report.metadata.reporter == reporter
    assert report.metadata.report_id == report_id
    assert report.metadata.policy_domain == domain
    assert report_day(report.metadata.begin, report.metadata.end) == day
    assert report.rows == rows
    assert report.records == len(rows)


@pytest.mark.parametrize("chunk", [1, 7, 4096, 10**7])
def test_any_split_of_the_input_reads_the_same(chunk: int) -> None:
    assert (
        read("rfc9990-example.net!example.com!1700000000!1700086399.xml", chunk=chunk).rows
        == SAMPLES["rfc9990-example.net!example.com!1700000000!1700086399.xml"][4]
    )


def test_large_report_totals_match_an_independent_count() -> None:
    name = "!large-example.com!1711897200!1711983600.xml"
    document = xml.dom.minidom.parse(str(DATA / name))
    expected: Counter[str] = Counter()
    for record in document.getElementsByTagName("record"):
        ip = record.getElementsByTagName("source_ip")[0].firstChild.data  # type: ignore[union-attr]
        expected[ip.strip()] += int(record.getElementsByTagName("count")[0].firstChild.data)  # type: ignore[union-attr]
    report = read(name)
    got: Counter[str] = Counter()
    for key, messages in report.rows.items():
        got[key.source_ip] += messages
    assert report.records == 2286
    assert got == expected


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("invalid_xml.xml", "not well-formed XML"),
        ("invalid_utf_8.xml", "not well-formed XML"),
    ],
)
def test_broken_reports_are_refused_with_the_reason(name: str, needle: str) -> None:
    with pytest.raises(ReportError, match=needle):
        read(name)


REPORT = b"""<?xml version="1.0"?>%s
<feedback><report_metadata><org_name>evil</org_name><email>a@evil.test</email>
<report_id>%s</report_id><date_range><begin>1700000000</begin><end>1700086399</end></date_range>
</report_metadata><policy_published><domain>example.com</domain><p>none</p></policy_published>
<record><row><source_ip>192.0.2.1</source_ip><count>%s</count><policy_evaluated><disposition>none</disposition>
<dkim>pass</dkim><spf>fail</spf></policy_evaluated></row><identifiers><header_from>example.com</header_from>
</identifiers><auth_results/></record></feedback>"""

XXE = REPORT % (b'\n<!DOCTYPE feedback [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', b"&xxe;", b"1")
LAUGHS = REPORT % (
    b'\n<!DOCTYPE feedback [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>',
    b"&c;",
    b"1",
)


@pytest.mark.parametrize("document", [XXE, LAUGHS], ids=["xxe", "billion-laughs"])
@pytest.mark.parametrize("chunk", [3, 11, 64 * 1024])
def test_dtds_and_entities_are_refused_before_parsing(document: bytes, chunk: int) -> None:
    with pytest.raises(ReportError, match="DTD or an entity"):
        parse_aggregate_report(document[i : i + chunk] for i in range(0, len(document), chunk))


def test_a_dtd_late_in_a_large_document_is_refused_too() -> None:
    document = REPORT % (b"", b"1", b"1")
    padded = document.replace(b"<feedback>", b"<feedback>" + b"<!-- padding -->" * 1000 + b"<!DOCTYPE x>")
    with pytest.raises(ReportError, match="DTD"):
        parse_aggregate_report(padded[i : i + 100] for i in range(0, len(padded), 100))


@pytest.mark.parametrize(
    ("report_id", "count", "ip", "needle"),
    [
        (b"", b"1", b"192.0.2.1", "report_id is empty"),
        (b"x", b"-1", b"192.0.2.1", "count '-1' is not a whole number"),
        (b"x", b"ten", b"192.0.2.1", "count 'ten'"),
        (b"x", b"1", b"192.0.2.300", "not an IP address"),
    ],
)
def test_bad_fields_say_which_record(report_id: bytes, count: bytes, ip: bytes, needle: str) -> None:
    document = (REPORT % (b"", report_id, count)).replace(b"192.0.2.1", ip)
    with pytest.raises(ReportError, match=needle):
        parse_aggregate_report([document])


def test_not_a_report_is_refused() -> None:
    with pytest.raises(ReportError, match="no <feedback>"):
        parse_aggregate_report([b"<html><body>hello</body></html>"])
    with pytest.raises(ReportError, match="no <report_metadata>"):
        parse_aggregate_report([b"<feedback><record/></feedback>"])


def test_ipv6_sources_are_normalised() -> None:
    document = (REPORT % (b"", b"v6", b"4")).replace(b"192.0.2.1", b"2001:DB8:0:0::1")
    report = parse_aggregate_report([document])
    assert [key.source_ip for key in report.rows] == ["2001:db8::1"]


def test_records_of_one_source_and_result_are_summed() -> None:
    record = b"<record><row><source_ip>192.0.2.9</source_ip><count>3</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>Example.COM.</header_from></identifiers></record>"
    document = (REPORT % (b"", b"sum", b"1")).replace(b"</feedback>", record * 4 + b"</feedback>")
    report = parse_aggregate_report([document])
    assert report.records == 5
    assert report.rows[RowKey("192.0.2.9", "example.com", N, True, True, "none", "none")] == 12
    assert report.messages == 13
