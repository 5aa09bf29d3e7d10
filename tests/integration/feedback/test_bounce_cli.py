"""``email-engine bounces …`` driven as a real program (the installed console script) on real input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from email_engine.feedback.bounce_cli import MAX_INPUT_LINE_BYTES, register

EMAIL_ENGINE = Path(sys.executable).with_name("email-engine")


def cli_app() -> typer.Typer:
    """The same command tree the console script builds, in-process (no 4 s interpreter start per test)."""
    root = typer.Typer()

    @root.callback()
    def _root() -> None:
        """Root."""

    register(root)
    return root


def invoke(*args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    result = CliRunner().invoke(cli_app(), ["bounces", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [str(EMAIL_ENGINE), "bounces", *args], input=stdin, capture_output=True, timeout=120, check=False
    )


def lines(output: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.decode().splitlines()]


@pytest.mark.slow
def test_classify_answers_each_line_in_order_and_flags_bad_ones() -> None:
    inputs = [
        {
            "dsnStatus": "5.7.606",
            "dsnDiag": "smtp;550 5.7.606 Access denied, banned sending IP [192.0.2.1].",
            "bounceCat": "bad-mailbox",
        },
        "not json at all",
        {"dsnStatus": "5.1.1 (bad destination mailbox address)", "dsnDiag": "smtp;550 5.1.1 User unknown"},
        "",
        [1, 2],
        {"dsnStatus": 511},
        {"rcpt": "someone@example.org"},
        {"dsnStatus": "4.2.2", "dsnDiag": "452 4.2.2 Mailbox full", "rcpt": "someone@example.org"},
        "\xff",
    ]
    raw = b""
    for item in inputs:
        if isinstance(item, str):
            raw += (item.encode("latin-1") if item == "\xff" else item.encode()) + b"\r\n"
        else:
            raw += json.dumps(item).encode() + b"\n"
    result = run("classify", stdin=raw)
    assert result.returncode == 1
    out = lines(result.stdout)
    assert len(out) == 8  # the blank line is no input
    assert out[0] == {
        "category": "spam-related",
        "type": "block",
        "rule": "microsoft-banned-ip",
        "dsnStatus": "5.7.606",
    }
    assert out[1]["line"] == 2 and "not valid JSON" in str(out[1]["error"])
    assert out[2] == {
        "category": "bad-mailbox",
        "type": "hard",
        "rule": "recipient-does-not-exist",
        "dsnStatus": "5.1.1",
    }
    assert out[3]["line"] == 5 and "JSON object" in str(out[3]["error"])
    assert out[4]["line"] == 6 and "must be a string" in str(out[4]["error"])
    assert out[5]["line"] == 7 and "needs" in str(out[5]["error"])
    assert out[6] == {"category": "quota-issues", "type": "soft", "rule": "quota", "dsnStatus": "4.2.2"}
    assert out[7]["line"] == 9 and "UTF-8" in str(out[7]["error"])
    assert b"5 of 8 input lines could not be classified" in result.stderr


def test_classify_succeeds_on_clean_input_and_handles_volume() -> None:
    item = {
        "dsnStatus": "5.7.1",
        "dsnDiag": "554 5.7.1 Service unavailable; Client host [192.0.2.9] blocked using zen.spamhaus.org",
    }
    raw = b"".join(json.dumps({**item, "rcpt": f"u{i}@example.org"}).encode() + b"\n" for i in range(5000))
    code, stdout, stderr = invoke("classify", stdin=raw)
    assert code == 0, stderr
    out = [json.loads(line) for line in stdout.splitlines()]
    assert len(out) == 5000
    assert {o["category"] for o in out} == {"spam-related"}


def test_classify_refuses_an_oversize_line_but_continues() -> None:
    huge = json.dumps({"dsnStatus": "5.1.1", "dsnDiag": "x" * (3 * MAX_INPUT_LINE_BYTES)}).encode()
    ok = json.dumps({"dsnStatus": "5.1.1", "dsnDiag": "user unknown"}).encode()
    code, stdout, _ = invoke("classify", stdin=huge + b"\n" + ok + b"\n")
    assert code == 1
    out = [json.loads(line) for line in stdout.splitlines()]
    assert "limit" in out[0]["error"]
    assert out[1]["category"] == "bad-mailbox"


@pytest.mark.slow
def test_parse_dsn_prints_records_and_reports_bad_files(tmp_path: Path, shared_data: Path) -> None:
    corpus = shared_data / "bounce-corpus" / "eml"
    letter = tmp_path / "letter.eml"
    letter.write_bytes(b"From: a@example.com\nSubject: hi\n\nnot a bounce\n")
    result = run(
        "parse-dsn", str(corpus / "rfc3464-01.eml"), str(letter), str(corpus / "arf-01.eml"), "missing.eml"
    )
    assert result.returncode == 1
    out = lines(result.stdout)
    assert [o["type"] for o in out][-1] == "f"
    bounces = [o for o in out if o["type"] in {"rb", "rs"}]
    assert bounces and all(o["file"].endswith("rfc3464-01.eml") for o in bounces)
    assert all(
        {"rcpt", "dsnStatus", "dsnDiag", "category", "bounceType", "rule", "key"} <= o.keys() for o in bounces
    )
    assert out[-1]["feedbackType"] == "abuse"
    errors = result.stderr.decode()
    assert "letter.eml: The message is neither an RFC 3464" in errors
    assert "missing.eml: No such file or directory" in errors


def test_parse_dsn_reads_stdin(shared_data: Path) -> None:
    data = (shared_data / "bounce-corpus" / "eml" / "lhost-postfix-01.eml").read_bytes()
    code, stdout, stderr = invoke("parse-dsn", "--no-classify", "-", stdin=data)
    assert code == 0, stderr
    [record] = [json.loads(line) for line in stdout.splitlines()]
    assert record["file"] == "-"
    assert record["type"] == "rb"
    assert "category" not in record


def test_help_explains_the_contract() -> None:
    code, stdout, _ = invoke("classify", "--help")
    assert code == 0
    assert "dsnStatus" in stdout and "exit code is 1" in stdout
