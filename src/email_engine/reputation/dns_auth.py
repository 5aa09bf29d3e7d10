"""The DNS-authentication checks, gathered for callers that import them from one place.

The code lives in small modules: ``auth_facts`` (facts, checks, statuses), ``spf`` (RFC 7208 through pyspf),
``dmarc`` (RFC 7489/9989 records, organisational domain), ``records`` (DKIM, PTR, bounce MX, MTA-STS, TLS-RPT)
and ``compliance`` (one domain, every check, the Gmail/Yahoo summary). Import from those in new code.
"""

from __future__ import annotations

from email_engine.reputation.auth_facts import (
    Check,
    CheckStatus,
    DnsFacts,
    Fact,
    MissingFact,
    NeedFacts,
)
from email_engine.reputation.compliance import (
    DomainReport,
    SendingIpFacts,
    compliance,
    initial_questions,
    validate_domain,
)
from email_engine.reputation.dmarc import check_dmarc, organisational_domain, parse_dmarc_record
from email_engine.reputation.records import (
    check_bounce_mx,
    check_dkim,
    check_mta_sts,
    check_ptr,
    check_tls_rpt,
    parse_tags,
)
from email_engine.reputation.spf import SpfEvaluation, check_spf, evaluate_spf

__all__ = [
    "Check",
    "CheckStatus",
    "DnsFacts",
    "DomainReport",
    "Fact",
    "MissingFact",
    "NeedFacts",
    "SendingIpFacts",
    "SpfEvaluation",
    "check_bounce_mx",
    "check_dkim",
    "check_dmarc",
    "check_mta_sts",
    "check_ptr",
    "check_spf",
    "check_tls_rpt",
    "compliance",
    "evaluate_spf",
    "initial_questions",
    "organisational_domain",
    "parse_dmarc_record",
    "parse_tags",
    "validate_domain",
]
