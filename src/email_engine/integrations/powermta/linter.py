"""Check a PowerMTA configuration before it is reloaded (pure; :func:`lint_path` adds the file reads).

Checks: balanced and well-placed tags, known directives (:mod:`directives`), references that
resolve (pool members, default VMTAs, pattern lists, macros, named sources, rollup queues), no
placeholder left from a template (``IP1_ADDRESS``, ``CHANGE_ME…``, ``YOUR_…``), no source IP used
twice, every inventory IP present, valid ``/regex/`` lines, and, on disk, no secret-bearing file
readable by everyone. ``include`` lines are followed. Every finding carries file and line.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Final, Literal

from email_engine.integrations.powermta.directives import (
    ACCT_RECORD_TYPES,
    BLOCKS,
    BOUNCE_CATEGORIES,
    GLOBAL,
    PATTERN_BLOCKS,
    allowed_directives,
)
from email_engine.integrations.powermta.pmta_regex import from_pmta_regex

__all__ = ["LintIssue", "LintReport", "lint_files", "lint_path"]

Severity = Literal["error", "warning"]

_PLACEHOLDER: Final = re.compile(
    r"(?:\bIP\d*_(?:ADDRESS|HOSTNAME|HOST)\b|\bCHANGE[_-]?ME\w*|\bchange[_-]?me\w*|\bYOUR_[A-Z0-9_]+"
    r"|\bREPLACE[_-]?ME\w*|\bPLACEHOLDER\w*|\{\{[^}]*\}\}|%%[A-Z_]+%%|\$\{[A-Za-z_]+\})"
)
# Every placeholder pattern contains one of these (a cheap test before the regex).
_PLACEHOLDER_HINT: Final = re.compile(
    r"_address|_host|change|your_|replace|placeholder|\{\{|%%|\$\{", re.IGNORECASE
)
_TAG: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s+([^>]*?))?\s*>$")
_REGEX_LINE: Final = re.compile(r"(/(?:[^/\\]|\\.)*/)\s*(.*)$")
_MAX_INCLUDE_DEPTH: Final = 8
_MAX_FILE_BYTES: Final = 20 * 1024 * 1024


@dataclass(frozen=True)
class LintIssue:
    file: str
    line: int
    severity: Severity
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.message} [{self.code}]"


@dataclass
class LintReport:
    issues: list[LintIssue] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[LintIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[LintIssue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def ok(self, *, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok(),
            "files": self.files,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "issues": [issue.__dict__ for issue in self.issues],
        }


@dataclass(frozen=True)
class _Ref:
    kind: str
    name: str
    file: str
    line: int


@dataclass
class _State:
    report: LintReport
    defined: dict[str, set[str]] = field(default_factory=dict)
    refs: list[_Ref] = field(default_factory=list)
    source_ips: dict[str, tuple[str, int]] = field(default_factory=dict)
    on_disk: bool = False

    def add(self, file: str, line: int, severity: Severity, code: str, message: str) -> None:
        self.report.issues.append(LintIssue(file, line, severity, code, message))

    def define(self, kind: str, name: str) -> None:
        self.defined.setdefault(kind, set()).add(name.lower())


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment, but not a ``#`` inside a ``/regex/``."""
    stripped = line.strip()
    if "#" not in stripped:
        return stripped
    if stripped.startswith("#"):
        return ""
    in_regex = False
    escaped = False
    for index, char in enumerate(stripped):
        if escaped:
            escaped = False
            continue
        if char == "\\":
            escaped = True
        elif char == "/" and (in_regex or index == 0 or stripped[index - 1].isspace()):
            in_regex = not in_regex
        elif char == "#" and not in_regex and index > 0 and stripped[index - 1].isspace():
            return stripped[:index].rstrip()
    return stripped


def _resolve_include(target: str, current: str, files: Mapping[str, str]) -> str | None:
    """The included file: as written, relative to the including file, or (a rendered copy being
    checked outside PMTA_CONFIG_DIR) the file of the same name beside the including one."""
    beside = PurePosixPath(current).parent
    candidates = [
        target,
        str(beside / target),
        str(beside / PurePosixPath(target).name),
        PurePosixPath(target).name,
    ]
    for candidate in candidates:
        if candidate in files:
            return candidate
    return None


def _check_pattern_line(state: _State, file: str, number: int, text: str, *, with_category: bool) -> None:
    match = _REGEX_LINE.match(text)
    if not match:
        state.add(file, number, "error", "bad-pattern", f"expected a /regex/ here, found {text[:60]!r}")
        return
    try:
        from_pmta_regex(match.group(1))
    except Exception as exc:  # any compile failure is a finding, not a crash
        state.add(
            file, number, "error", "bad-pattern", f"pattern {match.group(1)[:60]!r} does not compile: {exc}"
        )
    rest = match.group(2).split()
    if with_category:
        if len(rest) != 1 or rest[0] not in BOUNCE_CATEGORIES:
            state.add(
                file,
                number,
                "error",
                "bad-category",
                f"bounce category {' '.join(rest)!r} is not one of PowerMTA's categories",
            )
    elif not rest:
        state.add(file, number, "warning", "no-action", "pattern has no action (e.g. mode=backoff)")


def _lint_one(
    state: _State, files: Mapping[str, str], name: str, depth: int, visiting: tuple[str, ...]
) -> None:
    state.report.files.append(name)
    stack: list[tuple[str, str, int]] = []
    for number, raw in enumerate(files[name].splitlines(), start=1):
        text = _strip_comment(raw)
        if not text:
            continue
        for match in _PLACEHOLDER.finditer(text) if _PLACEHOLDER_HINT.search(text) else ():
            state.add(
                name, number, "error", "placeholder", f"placeholder {match.group(0)!r} was never replaced"
            )
        context = stack[-1][0] if stack else GLOBAL
        if text.startswith("<"):
            tag_match = _TAG.match(text)
            if not tag_match:
                state.add(name, number, "error", "bad-tag", f"malformed tag {text[:60]!r}")
                continue
            closing, tag, argument = (
                tag_match.group(1),
                tag_match.group(2).lower(),
                (tag_match.group(3) or ""),
            )
            if closing:
                if not stack:
                    state.add(name, number, "error", "unbalanced", f"</{tag}> closes nothing")
                elif stack[-1][0] != tag:
                    open_tag, _, open_line = stack[-1]
                    state.add(
                        name,
                        number,
                        "error",
                        "unbalanced",
                        f"</{tag}> found while <{open_tag}> (line {open_line}) is still open",
                    )
                    if any(item[0] == tag for item in stack):
                        while stack and stack[-1][0] != tag:
                            stack.pop()
                        stack.pop()
                else:
                    stack.pop()
                continue
            if tag not in BLOCKS:
                state.add(name, number, "warning", "unknown-block", f"unknown block <{tag}>")
            elif context not in BLOCKS[tag]:
                state.add(
                    name, number, "error", "misplaced-block", f"<{tag}> is not allowed inside <{context}>"
                )
            _note_block(state, name, number, tag, argument.strip())
            stack.append((tag, argument.strip(), number))
            continue
        if context in PATTERN_BLOCKS:
            _check_pattern_line(state, name, number, text, with_category=True)
            continue
        words = text.split()
        directive = words[0].lower()
        values = words[1:]
        if context in ("smtp-pattern-list", "pattern-list") and directive in allowed_directives(context):
            _check_pattern_line(state, name, number, " ".join(values), with_category=False)
            continue
        if directive not in allowed_directives(context):
            known_elsewhere = any(directive in allowed_directives(ctx) for ctx in (GLOBAL, *BLOCKS))
            where = "global scope" if context == GLOBAL else f"<{context}>"
            if known_elsewhere:
                state.add(
                    name, number, "error", "misplaced-directive", f"{directive} is not valid in {where}"
                )
            else:
                state.add(name, number, "warning", "unknown-directive", f"unknown directive {directive!r}")
        _note_directive(state, files, name, number, context, directive, values, depth, visiting)
    for tag, _, line in reversed(stack):
        state.add(name, line, "error", "unbalanced", f"<{tag}> is never closed")


def _note_block(state: _State, file: str, number: int, tag: str, argument: str) -> None:
    if tag in ("virtual-mta", "virtual-mta-pool", "smtp-pattern-list", "source", "domain"):
        state.define(tag, argument)
    if tag == "domain" and argument.startswith("$"):
        state.refs.append(_Ref("domain-macro", argument[1:], file, number))
    if tag == "acct-file" and argument.startswith("|") and not argument[1:].strip():
        state.add(file, number, "error", "bad-pipe", "accounting pipe has no command")


def _note_directive(  # noqa: PLR0917 - one call site, all positional context
    state: _State,
    files: Mapping[str, str],
    file: str,
    number: int,
    context: str,
    directive: str,
    values: list[str],
    depth: int,
    visiting: tuple[str, ...],
) -> None:
    first = values[0].strip('"') if values else ""
    if directive == "include":
        target = _resolve_include(first, file, files)
        if state.on_disk and target is not None and target != first and PurePosixPath(first).is_absolute():
            state.add(
                file,
                number,
                "warning",
                "include-elsewhere",
                f"{first} was not found; checked {target} (the file of that name beside this one) instead",
            )
        if target is None:
            state.add(file, number, "error", "missing-include", f"included file {first!r} was not found")
        elif target in visiting:
            state.add(file, number, "error", "include-loop", f"{first!r} includes itself (loop)")
        elif depth >= _MAX_INCLUDE_DEPTH:
            state.add(file, number, "error", "include-depth", "includes are nested more than 8 deep")
        else:
            _lint_one(state, files, target, depth + 1, (*visiting, target))
    elif directive == "virtual-mta" and context == "virtual-mta-pool":
        state.refs.append(_Ref("virtual-mta", first, file, number))
    elif directive == "default-virtual-mta":
        state.refs.append(_Ref("vmta-or-pool", first, file, number))
    elif directive == "smtp-pattern-list" and context != GLOBAL:
        state.refs.append(_Ref("smtp-pattern-list", first, file, number))
    elif directive == "source" and context == "smtp-user":
        state.refs.append(_Ref("source", first, file, number))
    elif directive in ("queue-to", "mx-rollup"):
        state.refs.append(_Ref("queue", first, file, number))
    elif directive == "domain-macro":
        state.define("domain-macro", first)
    elif directive == "records" and context == "acct-file":
        for kind in ",".join(values).split(","):
            if kind.strip() and kind.strip() not in ACCT_RECORD_TYPES:
                state.add(
                    file, number, "error", "bad-record-type", f"unknown accounting record type {kind!r}"
                )
    elif directive == "smtp-source-host":
        _note_source_host(state, file, number, values)
    elif directive == "http-mgmt-port" and first and not first.isdigit():
        state.add(file, number, "error", "bad-value", f"http-mgmt-port {first!r} is not a port number")


def _note_source_host(state: _State, file: str, number: int, values: list[str]) -> None:
    address = next((value for value in values if _is_ip(value)), None)
    if address is None:
        state.add(
            file,
            number,
            "error",
            "bad-source-host",
            f"smtp-source-host has no IP address: {' '.join(values)!r}",
        )
        return
    canonical = str(ipaddress.ip_address(address))
    if canonical in state.source_ips:
        first_file, first_line = state.source_ips[canonical]
        state.add(
            file,
            number,
            "error",
            "duplicate-ip",
            f"source IP {canonical} is already used at {first_file}:{first_line}",
        )
    else:
        state.source_ips[canonical] = (file, number)


def _is_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _check_refs(state: _State) -> None:
    defined = state.defined
    for ref in state.refs:
        name = ref.name.lower()
        if ref.kind == "vmta-or-pool":
            ok = name in defined.get("virtual-mta", set()) or name in defined.get("virtual-mta-pool", set())
            what = "virtual MTA or pool"
        elif ref.kind == "queue":
            ok = name in defined.get("domain", set())
            what = "<domain> block for queue"
            if not ok:
                state.add(ref.file, ref.line, "warning", "unknown-queue", f"no {what} {ref.name!r}")
            continue
        else:
            ok = name in defined.get(ref.kind, set())
            what = ref.kind
        if not ok:
            state.add(ref.file, ref.line, "error", "unknown-reference", f"{what} {ref.name!r} is not defined")


def lint_files(
    files: Mapping[str, str], *, entry: str, expected_ips: Iterable[str] = (), on_disk: bool = False
) -> LintReport:
    """Lint ``files[entry]`` and everything it includes (pure: the files are given as text, keyed by
    name; an ``include`` resolves to the file of the same name). ``on_disk``: keys are real paths."""
    state = _State(report=LintReport(), on_disk=on_disk)
    if entry not in files:
        state.add(entry, 0, "error", "missing-file", f"{entry} was not found")
        return state.report
    _lint_one(state, files, entry, 0, (entry,))
    _check_refs(state)
    for address in expected_ips:
        canonical = str(ipaddress.ip_address(address))
        if canonical not in state.source_ips:
            state.add(
                entry,
                0,
                "error",
                "missing-ip",
                f"inventory IP {canonical} has no virtual MTA (smtp-source-host)",
            )
    state.report.issues.sort(key=lambda issue: (issue.file != entry, issue.file, issue.line))
    return state.report


def _read_tree(path: Path, files: dict[str, str], report: LintReport, depth: int = 0) -> None:
    key = str(path)
    if key in files or depth > _MAX_INCLUDE_DEPTH:
        return
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            report.issues.append(LintIssue(key, 0, "error", "not-a-file", "not a regular file"))
            return
        if info.st_size > _MAX_FILE_BYTES:
            report.issues.append(LintIssue(key, 0, "error", "too-large", "file is larger than 20 MB"))
            return
        with path.open("rb") as handle:
            text = handle.read(_MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError as exc:
        report.issues.append(LintIssue(key, 0, "error", "unreadable", f"cannot read: {exc.strerror}"))
        return
    files[key] = text
    for raw in text.splitlines():
        words = _strip_comment(raw).split()
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
            words = _strip_comment(raw).split()
            if not words:
                continue
            if words[0].lower() in ("password", "auth-password"):
                paths.setdefault(name, (name, number))
            elif words[0].lower() == "domain-key" and len(words) >= 2:
                parts = words[1].split(",")
                if len(parts) >= 3:
                    paths.setdefault(parts[2], (name, number))
    return paths


def lint_path(path: Path, *, expected_ips: Iterable[str] = ()) -> LintReport:
    """Lint a configuration on disk, following ``include`` lines and checking file permissions."""
    files: dict[str, str] = {}
    pre = LintReport()
    _read_tree(path, files, pre)
    report = (
        lint_files(files, entry=str(path), expected_ips=expected_ips, on_disk=True)
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
                    LintIssue(file, line, "warning", "missing-key", f"DKIM key {secret_path} does not exist")
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
                )
            )
    return report
