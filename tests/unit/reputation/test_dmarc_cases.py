"""DMARC records: checkdmarc's record cases and RFC 7489 Appendix B.2 (tests/data/dmarc/record-cases.yaml).

Done means at least 47 of the 49 agree; every case that does not is listed in KNOWN_DIFFERENCES with the reason,
which docs/reputation.md repeats.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from email_engine.reputation.auth_facts import DnsFacts, Fact
from email_engine.reputation.dmarc import (
    check_dmarc,
    external_destinations,
    organisational_domain,
    parse_dmarc_record,
)

CASES_FILE = Path(__file__).resolve().parents[2] / "data" / "dmarc" / "record-cases.yaml"
CASES: list[dict[str, Any]] = yaml.safe_load(CASES_FILE.read_text(encoding="utf-8"))["cases"]
#: Cases where the engine deliberately reads the record differently (none today).
KNOWN_DIFFERENCES: dict[str, str] = {}


def disagreement(case: dict[str, Any]) -> str | None:
    """Why the reading differs from the case, or None when it agrees."""
    checked = parse_dmarc_record(case["record"])
    if (checked.status != "fail") != case["valid"]:
        return f"status {checked.status} (problems: {checked.problems})"
    if "policy" in case and checked.policy != case["policy"]:
        return f"policy {checked.policy}"
    for tag, value in (case.get("tags") or {}).items():
        if checked.tags.get(tag) != value:
            return f"{tag}={checked.tags.get(tag)!r}"
    for tag in case.get("absent") or ():
        if tag in checked.tags:
            return f"{tag} should not be read"
    if "warning" in case and not any(case["warning"] in text for text in checked.warnings):
        return f"no warning about {case['warning']!r}: {checked.warnings}"
    if "no_warning" in case and any(case["no_warning"] in text for text in checked.warnings):
        return f"unexpected warning about {case['no_warning']!r}"
    if "error" in case and not any(case["error"] in text for text in checked.errors):
        return f"no error about {case['error']!r}: {checked.errors}"
    return None


def test_the_table_has_49_cases_from_both_sources() -> None:
    assert len(CASES) == 49
    assert sum(case["source"].startswith("checkdmarc") for case in CASES) == 45
    assert sum(case["source"].startswith("RFC 7489") for case in CASES) == 4


def test_at_least_47_of_49_agree() -> None:
    differing = {
        f"{case['source']}: {case['record']}": why
        for case in CASES
        if (why := disagreement(case)) is not None
    }
    assert len(CASES) - len(differing) >= 47, differing
    assert set(differing) == set(KNOWN_DIFFERENCES), differing


@pytest.mark.parametrize("case", CASES, ids=[f"{i:02d}" for i in range(len(CASES))])
def test_case(case: dict[str, Any]) -> None:
    key = f"{case['source']}: {case['record']}"
    if key in KNOWN_DIFFERENCES:
        pytest.skip(KNOWN_DIFFERENCES[key])
    assert disagreement(case) is None, case


def test_report_size_limits_and_external_destinations() -> None:
    b24 = parse_dmarc_record(CASES[-1]["record"])  # RFC 7489 B.2.4
    assert [uri.max_size for uri in b24.rua] == [None, "10m"]
    assert [(uri.host, name) for uri, name in external_destinations("example.com", b24)] == [
        ("thirdparty.example.net", "example.com._report._dmarc.thirdparty.example.net")
    ]
    same_org = parse_dmarc_record("v=DMARC1; p=none; rua=mailto:d@reports.example.com")
    assert external_destinations("mail.example.com", same_org) == []


def _facts(entries: dict[tuple[str, str], list[str] | Fact]) -> DnsFacts:
    facts = DnsFacts()
    for (name, rdtype), value in entries.items():
        facts.put(name, rdtype, value if isinstance(value, Fact) else Fact("records", tuple(value)))
    return facts


B23 = (
    "v=DMARC1; p=none; rua=mailto:dmarc-feedback@example.com; ruf=mailto:auth-reports@thirdparty.example.net"
)


def test_third_party_destination_authorised_per_rfc_7489_b3() -> None:
    record = {("_dmarc.example.com", "TXT"): [B23]}
    authorised = check_dmarc(
        "example.com",
        _facts({**record, ("example.com._report._dmarc.thirdparty.example.net", "TXT"): ["v=DMARC1"]}),
    )
    assert authorised.status == "pass" and authorised.data["unverified_destinations"] == []
    refused = check_dmarc(
        "example.com",
        _facts({**record, ("example.com._report._dmarc.thirdparty.example.net", "TXT"): Fact("nxdomain")}),
    )
    assert refused.status == "warn"
    assert "does not publish" in refused.sentence and "example.com._report._dmarc.thirdparty.example.net" in (
        refused.sentence
    )
    unanswered = check_dmarc(
        "example.com",
        _facts({**record, ("example.com._report._dmarc.thirdparty.example.net", "TXT"): Fact("timeout")}),
    )
    assert unanswered.status == "unknown"


@pytest.mark.parametrize(
    ("domain", "organisational"),
    [
        ("a.b.example.co.uk", "example.co.uk"),
        ("mail.example.com", "example.com"),
        ("example.com", "example.com"),
        ("news.example.com.au", "example.com.au"),
        ("x.example.pvt.k12.ma.us", "example.pvt.k12.ma.us"),  # a deep ICANN suffix no heuristic knows
        ("co.uk", "co.uk"),
        ("Example.COM.", "example.com"),
    ],
)
def test_organisational_domain_from_the_public_suffix_list(domain: str, organisational: str) -> None:
    assert organisational_domain(domain) == organisational
