"""A 25 MiB DSN parses or is refused within 150 MB RSS (the CLI as a real process), and the HTTP path
applies the same limits."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.support.big_dsn import huge_original, many_groups
from tests.support.cli_runner import REPO

RSS_LIMIT_KIB = 150 * 1024
# Runs the CLI as a child and reports its peak RSS (ru_maxrss of the waited child, in KiB on Linux).
MEASURE = (
    "import json, resource, subprocess, sys\n"
    "done = subprocess.run([sys.executable, '-c', 'from email_engine.cli import main; main()', "
    "'bounces', 'parse-dsn', sys.argv[1]], capture_output=True, text=True)\n"
    "print(json.dumps({'code': done.returncode, 'out': done.stdout[-2000:], 'err': done.stderr[-2000:], "
    "'rss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
)


def _parse_dsn_process(path: Path) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
        env={"PATH": "/usr/bin:/bin", "ENVIRONMENT": "test", "PYTHONPATH": str(REPO)},
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def big_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("dsn")
    return many_groups(folder / "many-groups.eml"), huge_original(folder / "huge-original.eml")


@pytest.mark.slow
def test_the_cli_parses_or_refuses_25_mib_within_150_mb(big_files: tuple[Path, Path]) -> None:
    many, huge = big_files
    refused = _parse_dsn_process(many)
    assert refused["code"] == 1 and "more than 1000 recipients" in str(refused["err"]), refused
    assert int(refused["rss_kib"]) < RSS_LIMIT_KIB, refused  # type: ignore[call-overload]
    parsed = _parse_dsn_process(huge)
    assert parsed["code"] == 0, parsed
    [record] = [json.loads(line) for line in str(parsed["out"]).splitlines()]
    assert record["rcpt"] == "user1@example.org" and record["category"] == "bad-mailbox"
    assert int(parsed["rss_kib"]) < RSS_LIMIT_KIB, parsed  # type: ignore[call-overload]


def test_the_http_path_has_the_same_limits(
    client: TestClient,
    operator_headers: dict[str, str],
    viewer_headers: dict[str, str],
    big_files: tuple[Path, Path],
) -> None:
    many, huge = big_files
    url = "/api/v1/bounces/parse-dsn"
    headers = {**operator_headers, "Content-Type": "message/rfc822"}
    parsed = client.post(url, content=huge.read_bytes(), headers=headers)
    assert parsed.status_code == 200, parsed.text
    assert [r["rcpt"] for r in parsed.json()["records"]] == ["user1@example.org"]
    refused = client.post(url, content=many.read_bytes(), headers=headers)
    assert refused.status_code == 413 and "more than 1000 recipients" in refused.json()["detail"]
    too_big = client.post(url, content=b"x" * (25 * 1024 * 1024 + 1), headers=headers)
    assert too_big.status_code == 413
    junk = client.post(url, content=b"From: a@example.org\r\n\r\nhello\r\n", headers=headers)
    assert junk.status_code == 422 and "neither an RFC 3464" in junk.json()["detail"]
    assert (
        client.post(
            url, content=b"x", headers={**viewer_headers, "Content-Type": "message/rfc822"}
        ).status_code
        == 403
    )
