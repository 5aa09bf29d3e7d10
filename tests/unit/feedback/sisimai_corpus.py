"""Sisimai's labels on the shared bounce corpus, mapped to PowerMTA categories as the corpus README suggests.

Used by the corpus test and by bench/feedback_corpus_agreement.py. Every row counts except the reasons that
are not bounces at all (delivered, feedback, vacation).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

NOT_BOUNCES = frozenset({"delivered", "feedback", "vacation"})

_SIMPLE = {
    "userunknown": "bad-mailbox",
    "hasmoved": "bad-mailbox",
    "hostunknown": "bad-domain",
    "notaccept": "bad-domain",
    "suspend": "inactive-mailbox",
    "mailboxfull": "quota-issues",
    "exceedlimit": "quota-issues",
    "mesgtoobig": "quota-issues",
    "systemfull": "quota-issues",
    "norelaying": "relaying-issues",
    "spamdetected": "spam-related",
    "badreputation": "spam-related",
    "blocked": "spam-related",
    "policyviolation": "policy-related",
    "authfailure": "policy-related",
    "requireptr": "policy-related",
    "securityerror": "policy-related",
    "speeding": "policy-related",
    "rejected": "invalid-sender",
    "contenterror": "content-related",
    "notcompliantrfc": "content-related",
    "virusdetected": "virus-related",
    "syntaxerror": "protocol-errors",
    "expired": "message-expired",
    "toomanyconn": "bad-connection",
    "failedstarttls": "bad-connection",
}
# Sisimai's reason is coarser than PowerMTA here; the README names several acceptable categories.
_ANY_OF = {
    "networkerror": frozenset({"no-answer-from-host", "bad-connection", "routing-errors"}),
    "systemerror": frozenset({"bad-configuration", "routing-errors"}),
}
_USER_UNKNOWN = re.compile(
    r"user unknown|unknown user|no such user|does not exist|not found|mailbox unavailable|invalid recipient"
    r"|doesn.t have an? .{0,40}account",
    re.IGNORECASE,
)
_PSEUDO_STATUS = re.compile(r"([45])\.0\.9\d\d")


@dataclass(frozen=True)
class CorpusRow:
    file: str
    idx: int
    status: str
    diag: str
    reason: str
    #: Categories that count as agreement (one, except for Sisimai's coarse network/system reasons).
    expected: frozenset[str]


def expected_categories(reason: str, diag: str) -> frozenset[str]:
    if reason in _ANY_OF:
        return _ANY_OF[reason]
    if reason == "filtered":
        return frozenset({"bad-mailbox" if _USER_UNKNOWN.search(diag) else "content-related"})
    return frozenset({_SIMPLE.get(reason, "other")})


def real_status(status: str) -> str:
    """Sisimai writes its own pseudo-codes 4.0.9xx/5.0.9xx; keep only the class a server could have sent."""
    return _PSEUDO_STATUS.sub(r"\1.0.0", status)


def corpus_rows(folder: Path) -> Iterator[CorpusRow]:
    """Every bounce row of expected.jsonl (non-bounce reasons excluded, see NOT_BOUNCES)."""
    with (folder / "expected.jsonl").open(encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row["reason"] in NOT_BOUNCES:
                continue
            diag = row["diagnosticcode"] or ""
            yield CorpusRow(
                file=row["file"],
                idx=int(row["idx"]),
                status=real_status(row["deliverystatus"] or ""),
                diag=diag,
                reason=row["reason"],
                expected=expected_categories(row["reason"], diag),
            )
