"""The verdict and the pure helpers of the checklist (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from email_engine.integrations.powermta.pipes import pipe_problems, wired_pipes
from email_engine.platform.preflight import Item
from email_engine.preflight.host import logrotate_problems, newest_backup
from email_engine.preflight.report import summary, verdict
from email_engine.preflight.runner import all_checks

PASS = Item("secrets", "pass", "set")
FAIL = Item("backups", "fail", "too old", "Run scripts/backup-all.sh.")
SKIP = Item("telegram", "skip", "not set", "Set TELEGRAM_BOT_TOKEN.")


@pytest.mark.parametrize(
    ("items", "go"),
    [
        ([PASS], True),
        ([PASS, SKIP], True),  # not configured does not block, it is listed
        ([PASS, FAIL], False),
        ([FAIL, SKIP], False),
        ([SKIP], True),
        ([], False),  # an empty checklist proves nothing
    ],
)
def test_verdict(items: list[Item], go: bool) -> None:
    assert verdict(items) is go


def test_summary_counts_and_keeps_every_item_with_its_fix() -> None:
    result = summary([PASS, FAIL, SKIP, FAIL])
    assert result["go"] is False
    assert result["counts"] == {"pass": 1, "fail": 2, "skip": 1}
    assert [item["name"] for item in result["items"]] == ["secrets", "backups", "telegram", "backups"]
    assert result["items"][1] == {
        "name": "backups",
        "status": "fail",
        "detail": "too old",
        "fix": "Run scripts/backup-all.sh.",
    }


def test_summary_of_a_clean_run_is_go() -> None:
    assert summary([PASS, SKIP]) == {
        "go": True,
        "counts": {"pass": 1, "fail": 0, "skip": 1},
        "items": [PASS.as_dict(), SKIP.as_dict()],
    }


BOUNCE = "/opt/email-engine/scripts/bounce-pipe.sh"
DELIVERY = "/opt/email-engine/scripts/delivery-pipe.sh"
WIRED = f"""
<acct-file |{BOUNCE}>
    records b,rb,f
    record-fields b type,timeLogged,rcpt
</acct-file>
<acct-file |{DELIVERY}>
    records d
</acct-file>
"""


def test_both_pipes_wired() -> None:
    assert wired_pipes(WIRED) == {BOUNCE: {"b", "rb", "f"}, DELIVERY: {"d"}}
    assert pipe_problems(WIRED, bounce_pipe=BOUNCE, delivery_pipe=DELIVERY) == []


def test_a_missing_pipe_is_named() -> None:
    config = WIRED.split(f"<acct-file |{DELIVERY}>", maxsplit=1)[0]
    [problem] = pipe_problems(config, bounce_pipe=BOUNCE, delivery_pipe=DELIVERY)
    assert problem.startswith(f"delivery pipe ({DELIVERY})")


def test_a_pipe_without_its_record_type_is_named() -> None:
    config = WIRED.replace("records b,rb,f", "records rb,f")
    [problem] = pipe_problems(config, bounce_pipe=BOUNCE, delivery_pipe=DELIVERY)
    assert problem == f"bounce pipe ({BOUNCE}) does not receive 'b' records"


def test_a_pipe_to_another_program_is_not_ours() -> None:
    config = WIRED.replace(BOUNCE, "/usr/local/bin/other-pipe.sh")
    [problem] = pipe_problems(config, bounce_pipe=BOUNCE, delivery_pipe=DELIVERY)
    assert "bounce pipe" in problem and "not an <acct-file" in problem


def test_a_plain_acct_file_is_not_a_pipe() -> None:
    config = "<acct-file /var/log/pmta/acct.csv>\n records d\n</acct-file>\n"
    assert wired_pipes(config) == {}
    assert len(pipe_problems(config, bounce_pipe=BOUNCE, delivery_pipe=DELIVERY)) == 2


def test_newest_backup_reads_the_dated_names() -> None:
    names = ["20261122-023000", "20261124-023000", "pre-update-20261125-000000", "20261399-000000", "x"]
    assert newest_backup(names) == ("20261124-023000", datetime(2026, 11, 24, 2, 30, tzinfo=UTC))
    assert newest_backup(["lost+found", "pre-update-20261124-023000"]) is None
    assert newest_backup([]) is None


def test_the_checklist_keeps_its_order_and_each_check_a_stable_name_for_when_it_crashes() -> None:
    checks = all_checks()
    assert [check.name for check in checks] == [
        "secrets",
        "database",
        "database schema",
        "health",
        "inventory",
        "dns records",
        "blacklists",
        "powermta config",
        "mailwizz delivery servers",
        "scraper-pro signed call",
        "prometheus rules",
        "telegram",
        "nginx/tls",
        "log rotation",
        "backups",
        "warmup plans",
        "rate limiting",
        "dmarc alignment",
    ]
    assert len({check.order for check in checks}) == len(checks)


def test_logrotate_directives_not_words() -> None:
    template = (Path(__file__).resolve().parents[3] / "deploy" / "logrotate.in").read_text()
    assert logrotate_problems(template) == []
    assert logrotate_problems("/var/log/x.log {\n    rotate 30\n    delaycompress\n}\n") == ["no `compress`"]
    assert logrotate_problems("# rotate 30 compress\n") == [
        "no log file block",
        "no `rotate N`",
        "no `compress`",
    ]
    assert logrotate_problems("/var/log/x.log {\n rotate 0\n compress\n}\n") == ["no `rotate N`"]


def test_a_commented_out_pipe_is_not_wired() -> None:
    commented = "\n".join(
        f"# {line}" if DELIVERY in line or "records d" in line else line for line in WIRED.splitlines()
    )
    assert DELIVERY not in wired_pipes(commented)
    assert pipe_problems(commented, bounce_pipe=BOUNCE, delivery_pipe=DELIVERY) == [
        f"delivery pipe ({DELIVERY}) is not an <acct-file |…> in the config"
    ]
