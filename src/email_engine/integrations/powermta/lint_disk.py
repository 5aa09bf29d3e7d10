"""Lint a PowerMTA configuration on disk (the file reads around the pure :func:`linter.lint_files`):
follow ``include`` lines, refuse what is not a readable regular file, and check that files holding
secrets (passwords, DKIM keys) are not readable by everyone."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from email_engine.integrations.powermta.config_tree import LintIssue, strip_comment
from email_engine.integrations.powermta.inventory import VmtaFacts
from email_engine.integrations.powermta.lint_findings import STRUCTURE, LintReport
from email_engine.integrations.powermta.linter import lint_files

__all__ = ["lint_path"]

_MAX_FILE_BYTES: Final = 20 * 1024 * 1024


def _read_tree(path: Path, files: dict[str, str], report: LintReport, depth: int = 0) -> None:
    key = str(path)
    if key in files or depth > 8:
        return
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            report.issues.append(LintIssue(key, 0, "error", "not-a-file", "not a regular file", STRUCTURE))
            return
        if info.st_size > _MAX_FILE_BYTES:
            report.issues.append(
                LintIssue(key, 0, "error", "too-large", "file is larger than 20 MB", STRUCTURE)
            )
            return
        with path.open("rb") as handle:
            text = handle.read(_MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError as exc:
        report.issues.append(
            LintIssue(key, 0, "error", "unreadable", f"cannot read: {exc.strerror}", STRUCTURE)
        )
        return
    files[key] = text
    for raw in text.splitlines():
        words = strip_comment(raw).split()
        if len(words) >= 2 and words[0].lower() == "include":
            target = Path(words[1].strip('"'))
            resolved = target if target.is_absolute() else path.parent / target
            if target.is_absolute() and not resolved.exists() and (path.parent / target.name).is_file():
                resolved = path.parent / target.name  # a rendered copy checked outside PMTA_CONFIG_DIR
            _read_tree(resolved, files, report, depth + 1)


def _secret_paths(files: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """Files holding secrets: any file with a ``password`` line, and every DKIM private key."""
    paths: dict[str, tuple[str, int]] = {}
    for name, text in files.items():
        for number, raw in enumerate(text.splitlines(), start=1):
            words = strip_comment(raw).split()
            if not words:
                continue
            if words[0].lower() in ("password", "auth-password"):
                paths.setdefault(name, (name, number))
            elif words[0].lower() == "domain-key" and len(words) >= 2:
                parts = words[1].split(",")
                if len(parts) >= 3:
                    paths.setdefault(parts[2], (name, number))
    return paths


def lint_path(
    path: Path, *, expected_ips: Iterable[str] = (), vmtas: Mapping[str, VmtaFacts] | None = None
) -> LintReport:
    """Lint a configuration on disk, following ``include`` lines and checking file permissions."""
    files: dict[str, str] = {}
    pre = LintReport()
    _read_tree(path, files, pre)
    report = (
        lint_files(files, entry=str(path), expected_ips=expected_ips, vmtas=vmtas, on_disk=True)
        if str(path) in files
        else pre
    )
    if report is not pre:
        report.issues[:0] = pre.issues
    for secret_path, (file, line) in _secret_paths(files).items():
        try:
            mode = os.stat(secret_path).st_mode
        except OSError:
            if secret_path not in files:
                report.issues.append(
                    LintIssue(
                        file,
                        line,
                        "warning",
                        "missing-key",
                        f"DKIM key {secret_path} does not exist",
                        "§3.3.1.33.1 domain-key",
                    )
                )
            continue
        if mode & stat.S_IROTH:
            report.issues.append(
                LintIssue(
                    file,
                    line,
                    "error",
                    "world-readable",
                    f"{secret_path} holds a secret but is readable by everyone; run chmod o-r {secret_path}",
                    "§10.4.2 Implementation for Inbound Connections",
                )
            )
    return report
