"""deploy: atomic writes, timestamped backup, reload, byte-for-byte restore when the reload fails."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

from email_engine.errors import ConfigurationError, DependencyUnavailable, InvalidInput
from email_engine.integrations.powermta.deploy import ReloadFailed, deploy_files, diff_files

pytestmark = pytest.mark.slow  # starts reload commands

OLD = {
    "config": b"# old config\npassword Old-Secret-123456\n",
    "routing-domains": b"# old routing\r\n\x00bytes\n",
}
NEW = {"config": "# new config\n", "routing-domains": "# new routing\n", "bounce-classifications": "# new\n"}


def _script(tmp_path: Path, name: str, body: str) -> str:
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


@pytest.fixture
def deployed(tmp_path: Path) -> Path:
    target = tmp_path / "pmta"
    target.mkdir()
    for name, data in OLD.items():
        (target / name).write_bytes(data)
    (target / "config").chmod(0o600)
    (target / "routing-domains").chmod(0o644)
    return target


def _snapshot(directory: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.name: (path.read_bytes(), stat.S_IMODE(path.stat().st_mode))
        for path in directory.iterdir()
        if path.is_file()
    }


@pytest.mark.parametrize(
    "command",
    [
        "false",
        "{fail}",
        "/nonexistent/pmta reload",
        "{slow}",
    ],
)
def test_failed_reload_restores_previous_files_byte_for_byte(
    deployed: Path, tmp_path: Path, command: str
) -> None:
    fail = _script(tmp_path, "fail.py", "import sys; print('config error at line 12'); sys.exit(3)")
    slow = _script(tmp_path, "slow.py", "import time; time.sleep(5)")
    command = command.format(fail=fail, slow=slow)
    before = _snapshot(deployed)
    with pytest.raises(ReloadFailed) as caught:
        deploy_files(NEW, deployed, reload_command=command, stamp="20261124T033000Z", timeout=1.0)
    assert _snapshot(deployed) == before  # same bytes, same modes, the new file removed
    assert "restored byte for byte" in caught.value.detail
    backup = deployed / "backups" / "20261124T033000Z"
    assert (backup / "config").read_bytes() == OLD["config"]
    assert stat.S_IMODE((deployed / "backups").stat().st_mode) == 0o700
    if command == fail:
        assert "exit status 3" in caught.value.detail and "line 12" in caught.value.detail


def test_successful_deploy_writes_atomically_and_keeps_a_backup(deployed: Path, tmp_path: Path) -> None:
    marker = tmp_path / "reloaded"
    ok = _script(tmp_path, "ok.py", f"open({str(marker)!r}, 'w').write('yes')")
    result = deploy_files(NEW, deployed, reload_command=ok, stamp="s1")
    assert result.reloaded and marker.read_text() == "yes"
    assert sorted(result.written) == sorted(NEW)
    for name, text in NEW.items():
        assert (deployed / name).read_text() == text
        assert stat.S_IMODE((deployed / name).stat().st_mode) == 0o640
    assert (deployed / "backups" / "s1" / "routing-domains").read_bytes() == OLD["routing-domains"]
    assert not [path for path in deployed.iterdir() if path.name.endswith(".tmp")]
    # Nothing changed: no write, no reload, no new backup.
    marker.unlink()
    again = deploy_files(NEW, deployed, reload_command=ok, stamp="s2")
    assert not again.written and not again.reloaded and not marker.exists()
    assert sorted(again.unchanged) == sorted(NEW)
    assert not (deployed / "backups" / "s2").exists()


def test_backups_are_pruned_and_same_stamp_does_not_clash(deployed: Path) -> None:
    for index in range(4):
        deploy_files({"config": f"# v{index}\n"}, deployed, reload_command="true", stamp="same", keep=3)
    names = sorted(path.name for path in (deployed / "backups").iterdir() if path.is_dir())
    assert names == ["same-1", "same-2", "same-3"]


def test_diff_and_refusals(deployed: Path, tmp_path: Path) -> None:
    diffs = diff_files(NEW, deployed)
    assert set(diffs) == set(NEW)
    assert "-# old config" in diffs["config"] and "+# new config" in diffs["config"]
    with pytest.raises(InvalidInput):
        deploy_files({"../escape": "x"}, deployed, reload_command="true", stamp="x")
    with pytest.raises(InvalidInput):
        deploy_files({"backups": "x"}, deployed, reload_command="true", stamp="x")
    with pytest.raises(ConfigurationError):
        deploy_files(NEW, tmp_path / "absent", reload_command="true", stamp="x")
    with pytest.raises(ConfigurationError):
        deploy_files(NEW, deployed, reload_command="  ", stamp="x")
    assert _snapshot(deployed)["config"][0] == OLD["config"]


def test_unreadable_target_is_refused_before_any_write(deployed: Path) -> None:
    (deployed / "bounce-classifications").mkdir()  # a directory where a file should be
    with pytest.raises(DependencyUnavailable, match="Cannot read"):
        deploy_files(NEW, deployed, reload_command="true", stamp="x")
    assert (deployed / "config").read_bytes() == OLD["config"]
    assert not [path for path in (deployed / "backups").iterdir() if path.is_dir()]


def test_concurrent_deploy_is_refused(deployed: Path) -> None:
    import fcntl
    import os

    from email_engine.errors import Conflict

    (deployed / "backups").mkdir()
    fd = os.open(deployed / "backups" / ".deploy.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with pytest.raises(Conflict, match="Another deploy"):
            deploy_files(NEW, deployed, reload_command="true", stamp="x")
    finally:
        os.close(fd)
    assert (deployed / "config").read_bytes() == OLD["config"]
    assert deploy_files(NEW, deployed, reload_command="true", stamp="y").reloaded
