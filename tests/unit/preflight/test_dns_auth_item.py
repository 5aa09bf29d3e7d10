"""The DNS line of the checklist, decided from reputation's stored report (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from email_engine.platform.preflight import Item
from email_engine.reputation.auth_facts import CheckStatus
from email_engine.reputation.auth_service import StoredCheck, StoredDomainReport
from email_engine.reputation.compliance import ComplianceStatus
from email_engine.reputation.preflight import dns_auth_item

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=48)
GOOD = [
    StoredCheck("spf:192.0.2.10", CheckStatus.PASS, "SPF passes for 192.0.2.10."),
    StoredCheck(
        "dkim", CheckStatus.PASS, "DKIM key at s1._domainkey.example.com is a valid 2048-bit RSA key."
    ),
    StoredCheck("dmarc", CheckStatus.PASS, "DMARC p=none."),
    StoredCheck("ptr:192.0.2.10", CheckStatus.PASS, "PTR confirmed."),
    StoredCheck("mta_sts", CheckStatus.INFO, "MTA-STS is not published."),
]


def _report(
    checks: list[StoredCheck],
    *,
    age: timedelta = timedelta(hours=1),
    compliance: ComplianceStatus = ComplianceStatus.DNS_COMPLIANT,
) -> StoredDomainReport:
    status = CheckStatus.FAIL if any(c.status == CheckStatus.FAIL for c in checks) else CheckStatus.PASS
    return StoredDomainReport("example.com", NOW - age, status, compliance, checks)


def item(report: StoredDomainReport | None) -> Item:
    return dns_auth_item(7, "example.com", report, now=NOW, max_age=MAX_AGE)


def test_a_clean_recent_report_passes() -> None:
    line = item(_report(GOOD))
    assert (line.name, line.status) == ("dns example.com", "pass")
    assert "validated 1.0 h ago" in line.detail and line.fix == ""


def test_warnings_pass_but_are_pointed_at() -> None:
    weak = [
        *GOOD[:1],
        StoredCheck("dkim", CheckStatus.WARN, "DKIM key is 1024 bits; 2048 is recommended."),
        *GOOD[2:],
    ]
    line = item(_report(weak))
    assert line.status == "pass" and "1 warnings: `email-engine auth-check example.com`" in line.detail


def test_never_validated_fails_with_the_endpoint() -> None:
    line = item(None)
    assert line.status == "fail" and "/api/v1/domains/7/validate" in line.fix


def test_too_old_fails() -> None:
    line = item(_report(GOOD, age=timedelta(hours=49)))
    assert line.status == "fail" and "49 h ago" in line.detail and "again" in line.fix


def test_a_failing_check_fails_with_its_sentence_and_the_records_to_publish() -> None:
    broken = [
        *GOOD[:2],
        StoredCheck("dmarc", CheckStatus.FAIL, "No DMARC record at _dmarc.example.com."),
        *GOOD[3:],
    ]
    line = item(_report(broken, compliance=ComplianceStatus.NON_COMPLIANT))
    assert line.status == "fail"
    assert line.detail == "dmarc: No DMARC record at _dmarc.example.com."
    assert "`email-engine dns records example.com`" in line.fix


def test_non_compliant_without_a_failing_check_still_fails() -> None:
    softfail = [
        StoredCheck("spf:192.0.2.10", CheckStatus.WARN, "SPF gives softfail (~all) for 192.0.2.10."),
        *GOOD[1:],
    ]
    line = item(_report(softfail, compliance=ComplianceStatus.NON_COMPLIANT))
    assert line.status == "fail" and "Gmail/Yahoo" in line.detail


def test_records_that_could_not_be_read_are_not_a_pass() -> None:
    timed_out = [
        *GOOD[:2],
        StoredCheck(
            "dmarc", CheckStatus.UNKNOWN, "The DMARC record at _dmarc.example.com did not answer (timeout)."
        ),
        *GOOD[3:],
    ]
    line = item(_report(timed_out, compliance=ComplianceStatus.UNKNOWN))
    assert line.status == "fail" and line.detail.startswith("not verified: dmarc:")
    assert "name servers" in line.fix
    # The status decides, not the wording: a warning that happens to say "could not be" is a warning.
    worded = [*GOOD[:2], StoredCheck("dmarc", CheckStatus.WARN, "Reports could not be sent to x."), *GOOD[3:]]
    assert item(_report(worded)).status == "pass"
