"""scripts/generate-dkim.sh: shellcheck-clean, and a working wrapper around `email-engine dkim generate`."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # starts the shell script

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "generate-dkim.sh"


def test_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.fail("shellcheck is not installed (scripts/system-packages.txt lists it)")
    result = subprocess.run([shellcheck, str(SCRIPT)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def test_wrapper_generates_a_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".venv" / "bin").mkdir(parents=True)
    (home / ".venv" / "bin" / "email-engine").symlink_to(Path(sys.executable).parent / "email-engine")
    env = {"PATH": "/usr/bin:/bin", "EMAIL_ENGINE_HOME": str(home), "DKIM_KEY_DIR": str(tmp_path / "keys")}
    result = subprocess.run(
        ["/bin/sh", str(SCRIPT), "example.com", "s2026", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    key = Path(payload["key_path"])
    assert key == tmp_path / "keys" / "example.com.s2026.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert payload["value"].startswith("v=DKIM1; k=rsa; p=")
    usage = subprocess.run(
        ["/bin/sh", str(SCRIPT), "example.com"], env=env, capture_output=True, text=True, check=False
    )
    assert usage.returncode == 64 and "usage:" in usage.stderr
    hostile = subprocess.run(
        ["/bin/sh", str(SCRIPT), "example.com; touch /tmp/pwned", "s1"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert hostile.returncode != 0 and "not a valid host name" in hostile.stderr


def test_help_says_what_no_arguments_does() -> None:
    result = subprocess.run(["/bin/sh", str(SCRIPT), "--help"], capture_output=True, text=True, check=False)
    assert result.returncode == 0
    assert "every sending domain in the inventory that has none" in result.stdout
