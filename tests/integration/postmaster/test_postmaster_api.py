"""The Postmaster Tools v2 adapter against local servers shaped as Google documents them.

References (also in tests/support/google_postmaster.py):
- domains.domainStats.query: https://developers.google.com/workspace/gmail/postmaster/reference/rest/v2/domains.domainStats/query
- domains.getComplianceStatus: https://developers.google.com/workspace/gmail/postmaster/reference/rest/v2/domains/getComplianceStatus
- domains.list: https://developers.google.com/workspace/gmail/postmaster/reference/rest/v2/domains/list
- the v2 discovery document (gmailpostmastertools v2, revision 20260512) for MetricDefinition,
  StatisticValue, DomainStat and the compliance enums
- service-account OAuth 2 (JWT bearer): https://developers.google.com/identity/protocols/oauth2/service-account
- Google error bodies: https://cloud.google.com/apis/design/errors
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from email_engine.context import AppContext
from email_engine.errors import ConfigurationError, DependencyUnavailable
from email_engine.integrations.postmaster import service
from email_engine.integrations.postmaster.jobs import run_postmaster
from email_engine.integrations.postmaster.models import PostmasterCompliance, PostmasterDomainDay
from email_engine.integrations.postmaster.settings import PostmasterSettings
from tests.support.google_postmaster import PostmasterApi, ServiceAccount, TokenEndpoint, google_error

NOW = datetime(2026, 3, 6, 8, 0, tzinfo=UTC)
D1, D2, D3 = date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)
SPAM = ("SPAM_RATE", "")
DKIM = ("AUTH_SUCCESS_RATE", 'auth_type = "dkim"')
SPF = ("AUTH_SUCCESS_RATE", 'auth_type = "spf"')
DMARC = ("AUTH_SUCCESS_RATE", 'auth_type = "dmarc"')
ERRORS = ("DELIVERY_ERROR_RATE", "")
FBL_IDS = ("FEEDBACK_LOOP_ID", "")
COMPLIANCE = {
    "name": "domains/example.com/complianceStatus",
    "complianceData": {
        "domainId": "example.com",
        "rowData": [
            {"requirement": "SPF", "status": {"status": "COMPLIANT"}},
            {"requirement": "DKIM", "status": {"status": "COMPLIANT"}},
            {"requirement": "DMARC_ALIGNMENT", "status": {"status": "COMPLIANT"}},
            {"requirement": "USER_REPORTED_SPAM_RATE", "status": {"status": "NEEDS_WORK"}},
        ],
        "oneClickUnsubscribeVerdict": {"status": {"status": "COMPLIANT"}},
        "honorUnsubscribeVerdict": {"status": {"status": "COMPLIANT"}},
    },
}


def value(number: float) -> dict[str, Any]:
    return {"doubleValue": number}


@pytest.fixture
def google(tmp_path: Path) -> Iterator[tuple[ServiceAccount, TokenEndpoint, PostmasterApi]]:
    account = ServiceAccount(tmp_path / "postmaster-sa.json")
    with TokenEndpoint(account) as tokens, PostmasterApi(tokens) as api:
        account.write(tokens.token_uri)
        yield account, tokens, api


def options(account: ServiceAccount, api: PostmasterApi, **extra: Any) -> PostmasterSettings:
    values: dict[str, Any] = {
        "POSTMASTER_CREDENTIALS_FILE": str(account.path),
        "POSTMASTER_API_URL": api.url,
        "POSTMASTER_DOMAINS": "example.com,mail.example.org,unverified.example.net,stranger.example",
        "POSTMASTER_LOOKBACK_DAYS": 7,
        "POSTMASTER_TIMEOUT": 5,
    }
    values.update(extra)
    return PostmasterSettings(_env_file=None, **values)  # type: ignore[call-arg]


def test_days_compliance_errors_and_unverified_domains(
    session: Session,
    google: tuple[ServiceAccount, TokenEndpoint, PostmasterApi],
    capsys: pytest.CaptureFixture[str],
) -> None:
    account, tokens, api = google
    api.registered = {
        "example.com": "VERIFIED",
        "mail.example.org": "VERIFIED",
        "unverified.example.net": "UNVERIFIED",
    }
    api.stats["example.com"] = {
        D1: {
            SPAM: value(0.0008),
            DKIM: value(1.0),
            SPF: value(0.998),
            DMARC: value(0.997),
            ERRORS: value(0.002),
        },
        D2: {SPAM: value(0.0035), DKIM: value(0.99), FBL_IDS: {"stringList": {"values": ["campaign-7"]}}},
        D3: {
            SPAM: {"floatValue": 0.0012},
            ("FEEDBACK_LOOP_SPAM_RATE", 'feedback_loop_id = "campaign-7"'): value(0.004),
        },
    }
    api.raw_entries["example.com"] = [
        {"metric": "spam_rate", "value": value(0.5)},  # no date
        {
            "metric": "dkim_success_rate",
            "date": {"year": 2026, "month": 3, "day": 2},
            "value": {"stringValue": "high"},
        },
        {
            "metric": "spam_rate",
            "date": {"year": 2026, "month": 3, "day": 2},
            "value": value(35.0),
        },  # a percent
    ]
    api.compliance["example.com"] = COMPLIANCE
    api.errors["mail.example.org"] = (
        403,
        google_error(403, "PERMISSION_DENIED", "The caller does not have permission"),
    )

    summary = service.fetch_and_store(session, options(account, api), now=NOW)
    session.commit()
    assert summary["skipped"] == {
        "unverified.example.net": "registered but unverified",
        "stranger.example": "not registered in Postmaster Tools for this service account",
    }
    assert summary["errors"] == {
        "mail.example.org": "Postmaster Tools answered HTTP 403 PERMISSION_DENIED: The caller does not have permission"
    }
    done = summary["domains"]["example.com"]
    assert (
        done["days"] == 4 and done["compliant"] is False and done["needs_work"] == ["USER_REPORTED_SPAM_RATE"]
    )
    assert done["problems"] == [
        "entry 9 (spam_rate): no valid date",  # the tenth entry of the answer
        "2026-03-02 dkim_success_rate: {'stringValue': 'high'} is not a rate between 0 and 1",
        "2026-03-02 spam_rate: {'doubleValue': 35.0} is not a rate between 0 and 1",
    ]
    rows = {row.day: row for row in session.scalars(select(PostmasterDomainDay))}
    assert (
        rows[D1].spam_rate == 0.0008
        and rows[D1].spf_success_rate == 0.998
        and rows[D1].delivery_error_rate == 0.002
    )
    assert rows[D2].spam_rate == 0.0035 and rows[D2].dmarc_success_rate is None
    assert rows[D2].extra["feedback_loop_ids"] == ["campaign-7"]
    assert rows[D3].spam_rate == pytest.approx(0.0012) and rows[D3].fbl_spam_rate == 0.004
    assert rows[date(2026, 3, 2)].spam_rate is None  # the malformed day is there, with nothing invented
    compliance = session.scalar(select(PostmasterCompliance))
    assert compliance is not None and compliance.requirements["USER_REPORTED_SPAM_RATE"] == "NEEDS_WORK"

    # The requests were shaped as documented, and authorised with a token from the JWT bearer flow.
    query = next(r for r in api.requests if r.path.endswith("domainStats:query"))
    body = query.json()
    assert body["aggregationGranularity"] == "DAILY"
    assert body["timeQuery"] == {
        "dateRanges": {
            "dateRanges": [
                {"start": {"year": 2026, "month": 2, "day": 27}, "end": {"year": 2026, "month": 3, "day": 6}}
            ]
        }
    }
    assert {"name": "spam_rate", "baseMetric": {"standardMetric": "SPAM_RATE"}} in body["metricDefinitions"]
    assert len([r for r in tokens.requests if r.answered == 200]) == 1  # one token, reused
    assert any("nextPageToken" not in r.query for r in api.requests)
    # Nothing secret in the output: neither the key file's path nor its contents.
    output = capsys.readouterr()
    assert str(account.path) not in output.out + output.err and "PRIVATE KEY" not in output.out + output.err

    # Fetching again refreshes the same days: nothing doubles.
    service.fetch_and_store(session, options(account, api), now=NOW)
    session.commit()
    assert session.scalar(select(func.count()).select_from(PostmasterDomainDay)) == 4


def test_empty_answer_is_no_data(
    session: Session, google: tuple[ServiceAccount, TokenEndpoint, PostmasterApi]
) -> None:
    account, _tokens, api = google
    api.registered = {"example.com": "VERIFIED"}
    api.compliance["example.com"] = {"name": "domains/example.com/complianceStatus"}  # no data yet
    summary = service.fetch_and_store(
        session, options(account, api, POSTMASTER_DOMAINS="example.com"), now=NOW
    )
    assert summary["domains"]["example.com"] == {
        "days": 0,
        "problems": [],
        "compliant": None,
        "needs_work": [],
    }


def test_refused_service_account_and_broken_key_file(
    session: Session, google: tuple[ServiceAccount, TokenEndpoint, PostmasterApi], tmp_path: Path
) -> None:
    account, tokens, api = google
    api.registered = {"example.com": "VERIFIED"}
    tokens.refuse = "Invalid JWT Signature."
    with pytest.raises(
        DependencyUnavailable, match=r"token endpoint refused the service account.*invalid_grant"
    ):
        service.fetch_and_store(session, options(account, api), now=NOW)
    assert api.requests == []  # no API call without a token

    broken = tmp_path / "secret-path" / "key.json"
    broken.parent.mkdir()
    broken.write_text('{"type": "service_account"}')
    for path in (broken, tmp_path / "missing.json"):
        with pytest.raises(ConfigurationError) as caught:
            service.fetch_and_store(
                session, options(account, api, POSTMASTER_CREDENTIALS_FILE=str(path)), now=NOW
            )
        assert "POSTMASTER_CREDENTIALS_FILE" in caught.value.detail and str(path) not in caught.value.detail


def test_api_down_or_throttling_fails_the_run(
    session: Session, google: tuple[ServiceAccount, TokenEndpoint, PostmasterApi]
) -> None:
    account, _tokens, api = google
    api.registered = {"example.com": "VERIFIED"}
    api.errors["example.com"] = (429, google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"))
    with pytest.raises(DependencyUnavailable, match="429 RESOURCE_EXHAUSTED"):
        service.fetch_and_store(session, options(account, api, POSTMASTER_DOMAINS="example.com"), now=NOW)
    api.down()
    with pytest.raises(DependencyUnavailable, match="did not answer"):
        service.fetch_and_store(session, options(account, api, POSTMASTER_DOMAINS="example.com"), now=NOW)


def test_job_defaults_to_inventory_domains(
    ctx: AppContext, google: tuple[ServiceAccount, TokenEndpoint, PostmasterApi]
) -> None:
    from email_engine.ips import service as ips_service

    account, _tokens, api = google
    ctx.settings.install(PostmasterSettings(_env_file=None))  # type: ignore[call-arg]
    assert run_postmaster(ctx, NOW) == {"skipped": "POSTMASTER_CREDENTIALS_FILE is not set"}
    with ctx.session_factory() as session:
        ips_service.create_domain(session, name="example.com", dkim_selector="s1", now=NOW)
        session.commit()
    api.registered = {"example.com": "VERIFIED"}
    api.stats["example.com"] = {D3: {SPAM: value(0.0011)}}
    api.compliance["example.com"] = COMPLIANCE
    ctx.settings.install(options(account, api, POSTMASTER_DOMAINS=""))
    summary = run_postmaster(ctx, NOW)
    assert list(summary["domains"]) == ["example.com"] and summary["domains"]["example.com"]["days"] == 1
