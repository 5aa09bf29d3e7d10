"""The linter: the guide-style broken config, each check alone, includes, permissions, hostile files.

Expected findings are the User's Guide's rules (section cited beside each case), not the renderer's
habits: the snippets are written the way the guide writes them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from email_engine.integrations.powermta.inventory import VmtaFacts
from email_engine.integrations.powermta.lint_disk import lint_path
from email_engine.integrations.powermta.linter import lint_files

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
    assert (12, "reserved-source") in found  # <source {mailwizz-auth}>: "{" names are reserved (§3.3.7)
    assert all(issue.section for issue in report.errors if issue.code != "placeholder")
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
            "<smtp-user u>\npassword abcdefgh12345678\nsource nowhere\n</smtp-user>\n",
            {(3, "unknown-reference")},
        ),
        # §3.3.7: names beginning with "{" are reserved; only {auth} and {pickup} are documented.
        (
            "<smtp-user u>\npassword abcdefgh12345678\nsource {nowhere}\n</smtp-user>\n",
            {(3, "reserved-source")},
        ),
        ("<source {mailwizz}>\nsmtp-service yes\n</source>\n", {(1, "reserved-source")}),
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
        ("<acct-file /tmp/a.csv>\nrecords d,zz\n</acct-file>\n", {(2, "bad-value")}),
        ("<virtual-mta v>\nsmtp-source-host mta.example.com\n</virtual-mta>\n", {(2, "bad-value")}),
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
        "<smtp-pattern-list l>\n  reply /too \\x23many/ mode=backoff\n</smtp-pattern-list>\n"
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
    extra.write_text("<smtp-user u>\npassword Zq8-rT5wLx9mPq2v\nsource s1\n</smtp-user>\n", encoding="ascii")
    extra.chmod(0o644)
    config = tmp_path / "config"
    config.write_text(
        f"<source s1>\nsmtp-service yes\n</source>\ninclude {extra}\n"
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


BEFORE = Path(__file__).resolve().parents[2] / "data" / "powermta" / "before-issue-12"


def test_the_renderers_old_output_is_rejected() -> None:
    """What the renderer wrote before issue 12 (kept verbatim): PowerMTA would refuse to load it."""
    files = {name: (BEFORE / name).read_text(encoding="utf-8") for name in ("config", "routing-domains")}
    files["bounce-classifications"] = (BEFORE / "bounce-classifications").read_text(encoding="utf-8")
    report = lint_files(files, entry="config")
    found = {(issue.file, issue.line, issue.code) for issue in report.errors}
    # routing-domains: "domain-macro gmail-domains …" — only letters, digits, "_" (§3.3.1.33.4)
    assert ("routing-domains", 5, "bad-macro-name") in found
    # … and a top-level "mx-rollup QUEUE PATTERN", which the guide does not define (it has <mx-rollup-list>)
    assert ("routing-domains", 9, "unknown-directive") in found
    # queue-to into a queue without smtp-hosts (§10.9)
    assert ("routing-domains", 7, "queue-to-target") in found
    # backoff 1/m (60/h) on a warming VMTA capped at 20/h: faster, not slower (§3.3.10.34)
    assert any(code == "backoff-not-slower" for _, _, code in found)
    # config: sync-msg-create is in no PowerMTA document; "{mailwizz-auth}" is a reserved name
    assert ("config", 11, "unknown-directive") in found
    assert ("config", 28, "reserved-source") in found
    # rb/f records listed without the processors that produce them, rb fields rb records do not have
    assert ("config", 255, "no-bounce-processor") in found
    assert ("config", 255, "no-fbl-processor") in found
    assert ("config", 257, "bad-value") in found
    macro_lines = {line for file, line, code in found if code == "bad-macro-name"}
    assert len(macro_lines) == 16  # one per provider
    for issue in report.errors:
        assert issue.section.startswith("§"), issue


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # §3.3.1.33.4: macro names are letters, digits and the underscore
        ("domain-macro gmail-domains gmail.com\n", {(1, "bad-macro-name")}),
        ("domain-macro gmail_domains gmail.com,googlemail.com\n", set()),
        # §3.3.10: macro loops are a load error
        ("domain-macro a $b,x.com\ndomain-macro b $a\n", {(1, "macro-loop"), (2, "macro-loop")}),
        # §10.17: rollup queues end in .rollup; a wildcard without rollup-by-ip needs smtp-hosts
        ("<mx-rollup-list>\nmx *.google.com gmail\n</mx-rollup-list>\n", {(2, "bad-value")}),
        ("<mx-rollup-list>\nmx *.google.com gmail.rollup\n</mx-rollup-list>\n", {(2, "rollup-smtp-hosts")}),
        (
            "<mx-rollup-list>\nmx *.google.com gmail.rollup\n</mx-rollup-list>\n"
            "<domain gmail.rollup>\nsmtp-hosts lookup-mx:gmail.com\n</domain>\n",
            set(),
        ),
        (
            "<mx-rollup-list>\nmx *.google.com gmail.rollup rollup-by-ip\n</mx-rollup-list>\n",
            {(2, "rollup-queue-undefined")},
        ),
        ("mx *.google.com gmail.rollup\n", {(1, "misplaced-directive")}),
        ("mx-rollup gmail.rollup *.google.com\n", {(1, "unknown-directive")}),
        # §10.9: "Use of the smtp-hosts directive is required" for the combined queue
        ("<domain hotmail.com>\nqueue-to hotmail.queue\n</domain>\n", {(2, "queue-to-target")}),
        (
            "<virtual-mta q>\n<domain hotmail.queue>\nsmtp-hosts hotmail.com\n</domain>\n"
            '<domain hotmail.com>\nqueue-to "hotmail.queue"\n</domain>\n</virtual-mta>\n',
            set(),
        ),
        # §8.3: a pool may not take a VMTA's name; §3.3.13.2: no VMTA in two pools with <domain>s
        (
            "<virtual-mta a>\n</virtual-mta>\n<virtual-mta-pool a>\nvirtual-mta a\n</virtual-mta-pool>\n",
            {(3, "pool-name-taken")},
        ),
        (
            "<virtual-mta m>\n</virtual-mta>\n"
            "<virtual-mta-pool p1>\n<domain yahoo.com>\nmax-msg-rate 10/h\nbackoff-max-msg-rate 1/h\n</domain>\nvirtual-mta m\n</virtual-mta-pool>\n"
            "<virtual-mta-pool p2>\n<domain yahoo.com>\nmax-msg-rate 15/h\nbackoff-max-msg-rate 1/h\n</domain>\nvirtual-mta m\n</virtual-mta-pool>\n",
            {(10, "vmta-in-two-pools")},
        ),
        # §12.6 / §12.7: rb and f records need their processors
        ("<acct-file /a.csv>\nrecords d,rb\n</acct-file>\n", {(2, "no-bounce-processor")}),
        ("<acct-file /a.csv>\nrecords feedback-loop\n</acct-file>\n", {(2, "no-fbl-processor")}),
        ("<bounce-processor>\n</bounce-processor>\n<acct-file /a.csv>\nrecords rb\n</acct-file>\n", set()),
        # §11.2.7: rb records have no vmta field; §3.3.11.10: tq cannot be mapped
        ("<acct-file /a.csv>\nrecord-fields rb *,vmta\n</acct-file>\n", {(2, "bad-value")}),
        ("<acct-file /a.csv>\nmap-header-to-field tq header_x-id queue\n</acct-file>\n", {(2, "bad-value")}),
        ("<acct-file /a.csv>\nrecords d\nmap-header-to-field d header_x-id rcpt\n</acct-file>\n", set()),
        # §3.3.11.11: records only once
        ("<acct-file /a.csv>\nrecords d\nrecords b\n</acct-file>\n", {(3, "bad-value")}),
        # §3.3.1.4: spool as a directive is deprecated
        ("spool /var/spool/pmta\n", {(1, "deprecated")}),
        # §3.1: "#" starts a comment everywhere, also inside a pattern
        (
            "<smtp-pattern-list l>\nreply /rule #CR-1/ mode=backoff\n</smtp-pattern-list>\n",
            {(2, "bad-value")},
        ),
        # §3.3.15: conflicting reply actions
        (
            "<smtp-pattern-list l>\nreply /x/ mode=backoff,mode=normal\n</smtp-pattern-list>\n",
            {(2, "bad-value")},
        ),
        # value forms
        ("<domain *>\nmax-msg-rate 50 per hour\n</domain>\n", {(2, "bad-value")}),
        ("<domain *>\nretry-after 10 minutes\n</domain>\n", {(2, "bad-value")}),
        ("<domain *>\ndkim-sign maybe\n</domain>\n", {(2, "bad-value")}),
        ("http-access 127.0.0.1 everything\n", {(1, "bad-value")}),
        ("smtp-listener [::]:2525\n", {(1, "bad-value")}),
        ("<domain *>\nsmtp-hosts [10.1.1.1]:2525; lookup-mx:example.com\n</domain>\n", set()),
        # blocks in the wrong place, arguments
        ("<mx-rollup-list foo>\n</mx-rollup-list>\n", {(1, "bad-value")}),
        ("<virtual-mta>\n</virtual-mta>\n", {(1, "bad-value")}),
        ("<email-patterns>\n</email-patterns>\n", {(1, "misplaced-block")}),
        ("<made-up-block x>\n</made-up-block>\n", {(1, "unknown-block")}),
    ],
)
def test_guide_rules(text: str, expected: set[tuple[int, str]]) -> None:
    codes = _codes(text)
    if expected:
        assert expected <= codes, codes
    else:
        assert {code for code in codes if code[1] != "unknown-reference"} == set(), codes


def _backoff_findings(text: str, **kwargs: object) -> set[tuple[int, str]]:
    return {(line, code) for line, code in _codes(text, **kwargs) if "backoff" in code or "cap" in code}


def test_backoff_must_be_slower_after_inheritance() -> None:
    """§3.3.10.34: backoff-max-msg-rate replaces max-msg-rate in backoff mode. A VMTA that caps a
    queue at 20/h but inherits a global 1/m (60/h) backoff speeds up when asked to slow down."""
    text = (
        "<domain gmail.rollup>\nmax-msg-rate 50/h\nbackoff-max-msg-rate 1/m\n</domain>\n"
        "<virtual-mta v>\nsmtp-source-host 192.0.2.1 a.example.com\n"
        "<domain gmail.rollup>\nmax-msg-rate 20/h\n</domain>\n</virtual-mta>\n"
    )
    assert (3, "backoff-not-slower") in _backoff_findings(text)
    fixed = text.replace("max-msg-rate 20/h\n", "max-msg-rate 20/h\nbackoff-max-msg-rate 5/h\n").replace(
        "1/m", "10/h"
    )
    assert _backoff_findings(fixed) == set()


def test_a_vmta_star_block_against_a_global_named_queue_is_checked_in_both_orders() -> None:
    """Whether a VMTA's <domain *> beats a global <domain gmail.rollup> is not settled by the guide;
    the linter accepts only what is safe either way."""
    text = (
        "<domain gmail.rollup>\nmax-msg-rate 50/h\nbackoff-max-msg-rate 10/h\n</domain>\n"
        "<virtual-mta v>\nsmtp-source-host 192.0.2.1 a.example.com\n"
        "<domain *>\nmax-msg-rate 5/h\nbackoff-max-msg-rate 1/h\n</domain>\n</virtual-mta>\n"
    )
    # pattern-first: gmail.rollup through v takes the global 50/h with backoff 10/h: above v's cap
    findings = _backoff_findings(text, vmtas={"v": VmtaFacts("warming", 5)})
    assert (2, "over-warmup-cap") in findings


def test_a_paused_queue_must_not_send_in_backoff() -> None:
    text = "<domain *>\nmax-msg-rate 0\nbackoff-max-msg-rate 1/h\n</domain>\n"
    assert (3, "backoff-not-slower") in _backoff_findings(text)
    assert _backoff_findings("<domain *>\nmax-msg-rate 0\nbackoff-max-msg-rate 0\n</domain>\n") == set()


def test_backoff_left_to_its_default_is_a_warning() -> None:
    text = "<smtp-pattern-list l>\nreply /x/ mode=backoff\n</smtp-pattern-list>\n<domain *>\nmax-msg-rate 50/h\nsmtp-pattern-list l\n</domain>\n"
    report = lint_files({"config": text}, entry="config")
    assert [(issue.line, issue.code, issue.severity) for issue in report.issues] == [
        (5, "backoff-default", "warning")
    ]


def test_default_virtual_mta_never_reaches_a_cold_or_paused_ip() -> None:
    base = (
        "<virtual-mta warm>\nsmtp-source-host 192.0.2.1 a.example.com\n</virtual-mta>\n"
        "<virtual-mta cold>\nsmtp-source-host 192.0.2.2 b.example.com\n</virtual-mta>\n"
        "<virtual-mta-pool mix>\nvirtual-mta warm\nvirtual-mta cold\n</virtual-mta-pool>\n"
        "<source 127.0.0.1>\ndefault-virtual-mta {target}\n</source>\n"
    )
    facts = {"warm": VmtaFacts("active"), "cold": VmtaFacts("warming", 20)}
    assert (12, "default-vmta-unsafe") in _codes(base.format(target="mix"), vmtas=facts)
    assert (12, "default-vmta-unsafe") in _codes(base.format(target="cold"), vmtas=facts)
    assert (12, "default-vmta-unsafe") not in _codes(base.format(target="warm"), vmtas=facts)
    # without the inventory, a VMTA whose every queue is paused is still recognised
    paused = base.replace(
        "<virtual-mta cold>\nsmtp-source-host 192.0.2.2 b.example.com\n",
        "<virtual-mta cold>\nsmtp-source-host 192.0.2.2 b.example.com\n<domain *>\nmax-msg-rate 0\n</domain>\n",
    )
    assert (15, "default-vmta-unsafe") in _codes(paused.format(target="cold"))
    # a VMTA with no address that holds every queue paused sends nothing: mail waits there
    hold = "<virtual-mta hold>\n<domain *>\nmax-msg-rate 0\n</domain>\n</virtual-mta>\n<source 0/0>\ndefault-virtual-mta hold\n</source>\n"
    assert _codes(hold) == set()
    # a VMTA with no address that sends uses the host's own addresses, whichever they are (§8.2)
    bare = "<virtual-mta bare>\n</virtual-mta>\n<source 0/0>\ndefault-virtual-mta bare\n</source>\n"
    assert (4, "default-vmta-unsafe") in _codes(bare)


def test_every_finding_names_file_line_and_guide_section() -> None:
    report = lint_files(
        {"config": "domain-macro bad-name x.com\n<domain *>\nmax-msg-rate 1/fortnight\n</domain>\n"},
        entry="config",
    )
    assert [str(issue) for issue in report.issues] == [
        "config:1: error: macro name 'bad-name': only letters, digits and the underscore are allowed "
        "[bad-macro-name; guide §3.3.1.33.4 domain-macro]",
        "config:3: error: max-msg-rate '1/fortnight': expected unlimited, 0 or N/[M]{d|h|m|s} such as 50/h, "
        "1/m or 100/15m (§3.3.10.33) [bad-value; guide §3.3.10.33 max-msg-rate]",
    ]
