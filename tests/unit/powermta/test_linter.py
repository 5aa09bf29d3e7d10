"""The linter: the guide-style broken config, each check alone, includes, permissions, hostile files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from email_engine.integrations.powermta.linter import lint_files, lint_path

BROKEN = Path(__file__).resolve().parents[2] / "data" / "powermta" / "broken" / "config"


def _codes(text: str, **kwargs: object) -> set[tuple[int, str]]:
    report = lint_files({"config": text}, entry="config", **kwargs)  # type: ignore[arg-type]
    return {(issue.line, issue.code) for issue in report.issues}


def test_broken_guide_config_fails_with_line_numbers() -> None:
    report = lint_path(BROKEN)
    found = {(issue.line, issue.code) for issue in report.errors}
    assert (19, "placeholder") in found  # IP1_ADDRESS left in smtp-source-host
    assert (27, "duplicate-ip") in found  # 192.0.2.11 used by vmta-2 (line 23) and vmta-3
    assert (30, "unbalanced") in found  # </virtual-mta> while <domain *> (line 28) is open
    assert (15, "unknown-reference") in found  # default-virtual-mta marketing-pool: no such pool
    assert (39, "unknown-reference") in found  # smtp-pattern-list backoff-patterns: not defined
    assert not report.ok()
    text = "\n".join(str(issue) for issue in report.errors)
    assert f"{BROKEN}:19: error: placeholder 'IP1_ADDRESS' was never replaced" in text
    assert "already used at" in text and ":23" in text
    assert f"{BROKEN}:30: error: </virtual-mta> found while <domain> (line 28) is still open" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<domain *>\nmax-msg-rate 1/h\n", {(1, "unbalanced")}),
        ("</domain>\n", {(1, "unbalanced")}),
        ("<virtual-mta a>\n<domain *>\n</virtual-mta>\n</domain>\n", {(3, "unbalanced"), (4, "unbalanced")}),
        ("<virtual-mta-pool p>\nvirtual-mta ghost\n</virtual-mta-pool>\n", {(2, "unknown-reference")}),
        (
            "<smtp-user u>\npassword abcdefgh12345678\nsource {nowhere}\n</smtp-user>\n",
            {(3, "unknown-reference")},
        ),
        ("<domain $nomacro>\nmax-msg-rate 1/h\n</domain>\n", {(1, "unknown-reference")}),
        ("postmaster CHANGE_ME@example.com\n", {(1, "placeholder")}),
        ("<smtp-user u>\npassword YOUR_PASSWORD\n</smtp-user>\n", {(2, "placeholder")}),
        ("host-name {{ hostname }}\n", {(1, "placeholder")}),
        ("max-msg-ratee 1/h\n", {(1, "unknown-directive")}),
        ("<domain *>\nsmtp-source-host 192.0.2.1 a.example.com\n</domain>\n", {(2, "misplaced-directive")}),
        ("<domain *>\n<virtual-mta v>\n</virtual-mta>\n</domain>\n", {(2, "misplaced-block")}),
        (
            "<bounce-category-patterns>\n/ok/ not-a-category\n</bounce-category-patterns>\n",
            {(2, "bad-category")},
        ),
        (
            "<bounce-category-patterns>\n/(unclosed/ other\n</bounce-category-patterns>\n",
            {(2, "bad-pattern")},
        ),
        ("<smtp-pattern-list l>\nreply /[bad/ mode=backoff\n</smtp-pattern-list>\n", {(2, "bad-pattern")}),
        ("<acct-file /tmp/a.csv>\nrecords d,zz\n</acct-file>\n", {(2, "bad-record-type")}),
        ("<virtual-mta v>\nsmtp-source-host mta.example.com\n</virtual-mta>\n", {(2, "bad-source-host")}),
        ("include /etc/pmta/missing\n", {(1, "missing-include")}),
        ("<oops\n", {(1, "bad-tag")}),
    ],
)
def test_each_check_reports_its_line(text: str, expected: set[tuple[int, str]]) -> None:
    assert expected <= _codes(text)


def test_clean_snippet_has_no_findings() -> None:
    text = (
        "postmaster postmaster@example.com   # trailing comment\n"
        "<virtual-mta v1>\n  smtp-source-host 192.0.2.1 a.example.com\n</virtual-mta>\n"
        "<virtual-mta-pool p>\n  virtual-mta v1\n</virtual-mta-pool>\n"
        "<smtp-pattern-list l>\n  reply /too #many/ mode=backoff\n</smtp-pattern-list>\n"
        "<domain *>\n  smtp-pattern-list l\n</domain>\n"
    )
    assert _codes(text) == set()


def test_missing_inventory_ip_and_ipv6_duplicates() -> None:
    text = (
        "<virtual-mta a>\nsmtp-source-host 2001:db8::1 a.example.com\n</virtual-mta>\n"
        "<virtual-mta b>\nsmtp-source-host 2001:0db8:0:0::1 b.example.com\n</virtual-mta>\n"
    )
    codes = _codes(text, expected_ips=["192.0.2.99", "2001:db8::1"])
    assert (5, "duplicate-ip") in codes
    assert (0, "missing-ip") in codes


def test_includes_are_followed_and_loops_stopped() -> None:
    files = {
        "config": "include /etc/pmta/extra\n<virtual-mta-pool p>\nvirtual-mta v\n</virtual-mta-pool>\n",
        "extra": "<virtual-mta v>\nsmtp-source-host 192.0.2.1 a.example.com\n</virtual-mta>\ninclude config\n",
    }
    report = lint_files(files, entry="config")
    assert report.files == ["config", "extra"]
    assert {(issue.file, issue.code) for issue in report.issues} == {("extra", "include-loop")}


def test_lint_path_follows_includes_on_disk_and_checks_permissions(tmp_path: Path) -> None:
    key = tmp_path / "example.com.s1.pem"
    key.write_text("-----BEGIN PRIVATE KEY-----\n", encoding="ascii")
    key.chmod(0o644)
    extra = tmp_path / "users"
    extra.write_text("<smtp-user u>\npassword Zq8-rT5wLx9mPq2v\nsource {s}\n</smtp-user>\n", encoding="ascii")
    extra.chmod(0o644)
    config = tmp_path / "config"
    config.write_text(
        f"<source {{s}}>\nsmtp-service yes\n</source>\ninclude {extra}\n"
        f"<virtual-mta v>\nsmtp-source-host 192.0.2.1 a.example.com\ndomain-key s1,example.com,{key}\n</virtual-mta>\n",
        encoding="ascii",
    )
    config.chmod(0o640)
    report = lint_path(config, expected_ips=["192.0.2.1"])
    readable = {(issue.file, issue.line) for issue in report.errors if issue.code == "world-readable"}
    assert readable == {(str(extra), 2), (str(config), 7)}
    extra.chmod(0o640)
    key.chmod(0o600)
    report = lint_path(config, expected_ips=["192.0.2.1"])
    assert report.ok(strict=True), [str(issue) for issue in report.issues]
    assert report.files == [str(config), str(extra)]


def test_lint_path_on_missing_and_hostile_files(tmp_path: Path) -> None:
    report = lint_path(tmp_path / "nope")
    assert not report.ok() and report.issues[0].code == "unreadable"
    garbage = tmp_path / "garbage"
    garbage.write_bytes(os.urandom(4096) + b"\n<<<>>>\n" + b"x" * 100_000 + b"\n\x00\xff</domain>\n")
    report = lint_path(garbage)
    assert not report.ok()  # reported, never a crash
    empty = tmp_path / "empty"
    empty.write_text("", encoding="ascii")
    assert lint_path(empty).ok(strict=True)


def test_includes_of_devices_are_not_read(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("include /dev/zero\n", encoding="ascii")
    report = lint_path(config)
    assert {issue.code for issue in report.issues} >= {"not-a-file"}


def test_a_rendered_copy_outside_the_config_dir_lints_with_its_siblings(tmp_path: Path) -> None:
    (tmp_path / "extra").write_text(
        "<virtual-mta v>\nsmtp-source-host 192.0.2.1 a.example.com\n</virtual-mta>\n"
    )
    config = tmp_path / "config"
    config.write_text(
        "include /nonexistent/pmta/extra\n<virtual-mta-pool p>\nvirtual-mta v\n</virtual-mta-pool>\n"
    )
    report = lint_path(config)
    assert report.files == [str(config), str(tmp_path / "extra")]
    assert [(issue.line, issue.code, issue.severity) for issue in report.issues] == [
        (1, "include-elsewhere", "warning")
    ]
    assert report.ok() and not report.ok(strict=True)
