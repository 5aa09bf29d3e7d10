"""Write rendered files into PowerMTA's directory safely, reload, and roll back on failure.

Each file is written to a temporary file in the same directory, flushed with ``fsync`` and renamed
over the old one (a reader sees the old or the new file, never half of one). Before that, the
current files are copied byte for byte into ``backups/<timestamp>/``. If the reload command fails
(non-zero exit, timeout, not found), every file is put back from that backup, again atomically,
and the error says so; files that did not exist before are removed.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import json
import os
import shlex
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from email_engine.errors import ConfigurationError, Conflict, DependencyUnavailable, InvalidInput

__all__ = ["DeployResult", "ReloadFailed", "atomic_write", "deploy_files", "diff_files", "run_reload"]

BACKUP_DIR: Final = "backups"
MANIFEST: Final = "manifest.json"
LOCK_FILE: Final = ".deploy.lock"
FILE_MODE: Final = 0o640  # config holds the SMTP password: owner rw, group (pmta) r, others nothing
_OUTPUT_LIMIT: Final = 2000


class ReloadFailed(DependencyUnavailable):
    """PowerMTA refused the new configuration; the previous files were restored."""


@dataclass
class DeployResult:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    backup_dir: str | None = None
    reloaded: bool = False
    reload_output: str = ""

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def atomic_write(path: Path, data: bytes, *, mode: int = FILE_MODE) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, chmod, rename, fsync the directory."""
    directory = path.parent
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _check_names(files: Mapping[str, str]) -> None:
    for name in files:
        if not name or "/" in name or "\x00" in name or name.startswith(".") or name == BACKUP_DIR:
            raise InvalidInput(f"Refusing to write a file named {name!r} into the PowerMTA directory.")


def diff_files(files: Mapping[str, str], target_dir: Path) -> dict[str, str]:
    """Unified diffs (deployed -> rendered) for every file that differs; empty when all match."""
    diffs: dict[str, str] = {}
    for name, text in files.items():
        path = target_dir / name
        try:
            current = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            current = ""
        except OSError as exc:
            raise DependencyUnavailable(f"Cannot read {path}: {exc.strerror}.") from exc
        if current != text:
            diffs[name] = "".join(
                difflib.unified_diff(
                    current.splitlines(keepends=True),
                    text.splitlines(keepends=True),
                    fromfile=f"deployed/{name}",
                    tofile=f"rendered/{name}",
                )
            )
    return diffs


def parse_command(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigurationError(f"PMTA_RELOAD_COMMAND cannot be parsed: {exc}.") from exc
    if not argv:
        raise ConfigurationError("PMTA_RELOAD_COMMAND is empty; set it to e.g. `pmta reload`.")
    return argv


def run_reload(command: str, *, timeout: float) -> tuple[bool, str]:
    """Run the reload command (no shell); returns (succeeded, combined output)."""
    argv = parse_command(command)
    try:
        completed = subprocess.run(  # noqa: S603 - operator-configured command, no shell
            argv, capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError:
        return False, f"command not found: {argv[0]}"
    except subprocess.TimeoutExpired:
        return False, f"timed out after {timeout:g} s"
    output = (completed.stdout + completed.stderr).strip()[-_OUTPUT_LIMIT:]
    if completed.returncode != 0:
        return (
            False,
            f"exit status {completed.returncode}: {output}"
            if output
            else f"exit status {completed.returncode}",
        )
    return True, output


def _backup(target_dir: Path, names: Sequence[str], stamp: str) -> Path:
    root = target_dir / BACKUP_DIR
    root.mkdir(mode=0o700, exist_ok=True)
    os.chmod(root, 0o700)
    backup = root / stamp
    suffix = 0
    while backup.exists():
        suffix += 1
        backup = root / f"{stamp}-{suffix}"
    backup.mkdir(mode=0o700)
    existed: dict[str, int] = {}
    for name in names:
        source = target_dir / name
        if source.is_file():
            shutil.copyfile(source, backup / name)
            existed[name] = source.stat().st_mode & 0o777
            os.chmod(backup / name, 0o600)
    atomic_write(backup / MANIFEST, json.dumps({"existed": existed}, sort_keys=True).encode(), mode=0o600)
    return backup


def restore_backup(target_dir: Path, backup: Path, names: Sequence[str]) -> None:
    """Put every file back exactly as it was before the deploy (byte for byte, same mode)."""
    manifest = json.loads((backup / MANIFEST).read_text(encoding="utf-8"))
    existed: dict[str, int] = manifest["existed"]
    for name in names:
        if name in existed:
            atomic_write(target_dir / name, (backup / name).read_bytes(), mode=existed[name])
        else:
            (target_dir / name).unlink(missing_ok=True)


def _prune(target_dir: Path, keep: int) -> None:
    root = target_dir / BACKUP_DIR
    backups = sorted(
        (path for path in root.iterdir() if path.is_dir() and not path.name.startswith(".")),
        key=lambda path: path.name,
    )
    for old in backups[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


def deploy_files(
    files: Mapping[str, str],
    target_dir: Path,
    *,
    reload_command: str,
    stamp: str,
    timeout: float = 60.0,
    keep: int = 20,
    force: bool = False,
) -> DeployResult:
    """Back up, write atomically, reload; restore the backup and raise :class:`ReloadFailed` on failure."""
    _check_names(files)
    parse_command(reload_command)  # a bad command is refused before anything is touched
    if not target_dir.is_dir():
        raise ConfigurationError(f"PMTA_CONFIG_DIR {target_dir} does not exist or is not a directory.")
    with _deploy_lock(target_dir):
        return _deploy_locked(
            files,
            target_dir,
            reload_command=reload_command,
            stamp=stamp,
            timeout=timeout,
            keep=keep,
            force=force,
        )


@contextlib.contextmanager
def _deploy_lock(target_dir: Path) -> Iterator[None]:
    """One deploy at a time per directory (two operators, or a job and an operator)."""
    root = target_dir / BACKUP_DIR
    root.mkdir(mode=0o700, exist_ok=True)
    lock_path = root / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise Conflict(
                f"Another deploy into {target_dir} is running; try again when it has finished."
            ) from exc
        yield
    finally:
        os.close(fd)


def _deploy_locked(
    files: Mapping[str, str],
    target_dir: Path,
    *,
    reload_command: str,
    stamp: str,
    timeout: float,
    keep: int,
    force: bool,
) -> DeployResult:
    result = DeployResult()
    changed = diff_files(files, target_dir)
    result.unchanged = [name for name in files if name not in changed]
    if not changed and not force:
        return result
    names = list(files)
    backup = _backup(target_dir, names, stamp)
    result.backup_dir = str(backup)
    try:
        for name, text in files.items():
            atomic_write(target_dir / name, text.encode("utf-8"))
        result.written = names
    except OSError as exc:
        restore_backup(target_dir, backup, names)
        raise DependencyUnavailable(
            f"Writing {target_dir} failed ({exc.strerror}); the previous files were restored from {backup}."
        ) from exc
    try:
        succeeded, output = run_reload(reload_command, timeout=timeout)
    except BaseException:
        restore_backup(target_dir, backup, names)
        raise
    result.reload_output = output
    if not succeeded:
        restore_backup(target_dir, backup, names)
        raise ReloadFailed(
            f"`{reload_command}` failed ({output or 'no output'}); the previous configuration was restored "
            f"byte for byte from {backup}. PowerMTA keeps running with it. Fix the problem and deploy again.",
            backup=str(backup),
        )
    result.reloaded = True
    _prune(target_dir, keep)
    return result
