"""One run of the PowerMTA linter (:class:`LintRun`: the reference, the tree, the findings so far;
every ``lint_*`` check module adds to it) and the report it hands back (:class:`LintReport`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from email_engine.integrations.powermta.config_tree import Block, Directive, LintIssue, Severity, Tree
from email_engine.integrations.powermta.reference import Reference

__all__ = ["STRUCTURE", "LintReport", "LintRun"]

#: The guide section cited for findings about the file's structure rather than one directive.
STRUCTURE: Final = "§3.1 Working with the configuration file"


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


@dataclass
class LintRun:
    ref: Reference
    tree: Tree
    issues: list[LintIssue] = field(default_factory=list)

    def add(
        self, file: str, line: int, code: str, message: str, section: str, *, severity: Severity = "error"
    ) -> None:
        self.issues.append(LintIssue(file, line, severity, code, message, section))

    def at(
        self, item: Directive | Block, code: str, message: str, section: str, *, severity: Severity = "error"
    ) -> None:
        self.add(item.file, item.line, code, message, section, severity=severity)
