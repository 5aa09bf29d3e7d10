"""Bounce typing on real replies: the provider references table, the shared corpus, and the typing rules.

Floors are set a little under what bench/feedback_reply_tables.py measured (docs/bounces.md), so a rule change
that loses ground fails here; 0 blocks typed hard and 0 transient replies typed hard are absolute.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from email_engine.feedback.bounce import BounceType, classify_bounce, load_rules
from tests.unit.feedback.reply_tables import ReplyRow, corpus_table, reference_table

REFERENCES = reference_table()


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text.lower().replace("\u2019", "'").replace('"', "'")).strip()


def test_the_reference_table_has_400_distinct_sourced_replies() -> None:
    assert len({_normalised(row.diag) for row in REFERENCES}) == len(REFERENCES) >= 400
    # A few providers' pages are only served (or stored) over plain http; every source is a web address.
    assert all(row.source.startswith(("https://", "http://")) for row in REFERENCES)
    providers = {row.provider for row in REFERENCES}
    assert providers >= {"gmail", "microsoft", "yahoo", "apple", "orange", "mimecast"}
    # provider-pages.yaml: mailbox providers and gateways read from their own pages (or reports of their codes).
    assert providers >= {"comcast", "gmx", "t-online", "mail.ru", "yandex"}
    assert providers >= {"proofpoint", "barracuda", "cisco"}


def _check_table(
    rows: list[ReplyRow], *, category_floor: float, type_floor: float, default_ceiling: float
) -> None:
    verdicts = [(row, classify_bounce(row.status, row.diag)) for row in rows]
    block_as_hard = [
        row.diag for row, v in verdicts if row.type is BounceType.BLOCK and v.type is BounceType.HARD
    ]
    transient_hard = [
        row.diag for row, v in verdicts if row.status.startswith("4") and v.type is BounceType.HARD
    ]
    assert block_as_hard == []
    assert transient_hard == []
    total = len(rows)
    category = sum(v.category in row.categories for row, v in verdicts) / total
    kind = sum(v.type == row.type for row, v in verdicts) / total
    default = sum(v.rule == "default" for _row, v in verdicts) / total
    assert category >= category_floor, category
    assert kind >= type_floor, kind
    assert default <= default_ceiling, default


def test_provider_references_agreement() -> None:
    # Measured: category 79.8 %, type 96.2 %, default rule 0.2 % (docs/bounces.md).
    _check_table(REFERENCES, category_floor=0.79, type_floor=0.96, default_ceiling=0.01)


def test_shared_corpus_agreement(shared_data: Path) -> None:
    # Measured: category 84.8 %, type 96.1 %, default rule 3.0 % (docs/bounces.md).
    rows = corpus_table(shared_data / "bounce-corpus")
    _check_table(rows, category_floor=0.84, type_floor=0.95, default_ceiling=0.035)


@pytest.mark.parametrize(
    ("status", "diag", "kind"),
    [
        # 4xx: never hard; a block only when the text names our reputation, volume or authentication.
        ("4.2.1", "450 4.2.1 The user you are trying to contact is receiving email too quickly.", "soft"),
        ("4.7.1", "451 4.7.1 Greylisting in action, please come back later", "soft"),
        ("4.3.0", "451 4.3.0 Temporary local problem, please try again", "soft"),
        (
            "4.1.1",
            "450 4.1.1 <a@example.org>: Recipient address rejected: User unknown in local table",
            "soft",
        ),
        ("4.2.2", "452 4.2.2 Mailbox full", "soft"),
        (
            "4.7.28",
            "421 4.7.28 Gmail has detected an unusual rate of email originating from your IP address.",
            "block",
        ),
        (
            "4.7.0",
            "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to user complaints",
            "block",
        ),
        ("4.7.26", "421 4.7.26 This email has been rate limited because it is unauthenticated.", "block"),
        ("4.7.1", "450 4.7.1 Client host rejected: cannot find your reverse hostname, [192.0.2.1]", "block"),
        ("4.0.0", "421 Rate limit reached. Please try again later", "block"),  # the sending IP's volume (1&1)
        ("4.0.0", "450 Reject due to policy violations.", "block"),  # the sending IP's delivery rate (1&1)
        # An authentication check that could not complete (Cisco AsyncOS defaults) is not a failed one.
        ("4.4.3", "451 #4.4.3 Temporary error occurred during SPF verification.", "soft"),
        ("4.7.1", "451 #4.7.1 Unable to perform DMARC verification.", "soft"),
        # 5xx: words that say the mailbox does not exist are hard whatever the code ...
        ("5.7.1", "550 5.7.1 <a@example.org>: Recipient address rejected: User unknown", "hard"),
        ("5.7.1", "554 5.7.1 No such user here", "hard"),
        ("5.0.0", "550 Access denied: invalid recipient", "hard"),
        ("5.2.1", "550 5.2.1 The email account that you tried to reach is inactive.", "hard"),
        # Yandex: "policy rejection" names the recipient's blocked account here, not a policy of ours.
        ("5.0.0", "Policy rejection on the target address", "hard"),
        # GMX: the last line of a multi-line reply decides; "mailbox unavailable" opens a policy refusal here.
        (
            "5.0.0",
            "550-Requested action not taken: mailbox unavailable 550-Reject due to policy restrictions. "
            "550 For explanation visit http://postmaster.gmx.com/en/error-messages?ip=192.0.2.157&c=poli",
            "block",
        ),
        # ... and words that name the sender are never hard, whatever the code.
        (
            "5.1.1",
            "550 5.1.1 <us@example.com>: Sender address rejected: User unknown in local recipient table",
            "block",
        ),
        ("5.2.1", "550 5.2.1 Your account has been disabled for sending", "block"),
        (
            "5.7.0",
            "550 5.7.0, Mail Sending denied. This error occurs if the sender account is disabled.",
            "block",
        ),
        ("5.1.1", "550 5.1.1 The sending domain example.com does not exist", "block"),
        ("5.7.13", "550 5.7.13 sender was not authenticated for public folder", "block"),
        ("5.2.1", "550 5.2.1 content filter agent quarantined this message", "block"),
        (
            "5.0.0",
            "554 This IP has been temporarily blocked for attempting to mail too many invalid recipients.",
            "block",
        ),
        (
            "5.2.1",
            "550 5.2.1 The user you are trying to contact is receiving email at a rate that prevents delivery.",
            "block",
        ),
    ],
)
def test_typing_rules(status: str, diag: str, kind: str) -> None:
    assert classify_bounce(status, diag).type == BounceType(kind), classify_bounce(status, diag)


def test_rules_that_override_the_code_say_why() -> None:
    rules = {rule.name: rule for rule in load_rules()}
    for name in (
        "recipient-does-not-exist",
        "sending-account",
        "sender-rejected",
        "microsoft-restricted-recipient",
    ):
        assert rules[name].why, name
    assert rules["gmail-auth"].transient_block and not rules["gmail-rate-per-user"].transient_block
