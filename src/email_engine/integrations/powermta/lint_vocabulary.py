"""Linter checks of the vocabulary (pure): every block and directive is in the reference, in a
context it allows, with a value of its documented form; patterns compile; bounce categories are
PowerMTA's standard ones."""

from __future__ import annotations

import re
from typing import Final

from email_engine.integrations.powermta.config_tree import Directive
from email_engine.integrations.powermta.lint_findings import STRUCTURE, LintRun
from email_engine.integrations.powermta.pmta_regex import from_pmta_regex
from email_engine.integrations.powermta.reference import BOUNCE_CATEGORIES, GLOBAL
from email_engine.integrations.powermta.values import check_value

__all__ = ["check_vocabulary"]

_REGEX_LINE: Final = re.compile(r"(/(?:[^/\\]|\\.)*/)\s*(.*)$")


def check_vocabulary(lint: LintRun) -> None:
    ref = lint.ref
    for block in lint.tree.root.walk():
        context = block.tag
        if block.parent is not None:
            spec = ref.blocks.get(block.tag)
            parent = block.parent.tag
            if spec is None:
                lint.at(
                    block, "unknown-block", f"<{block.tag}> is not a block of PowerMTA's guide", STRUCTURE
                )
            elif parent not in spec.contexts:
                where = "at global scope" if parent == GLOBAL else f"inside <{parent}>"
                lint.at(
                    block, "misplaced-block", f"<{block.tag}> is not allowed {where}", ref.cite(spec.source)
                )
            elif spec.argument == "none" and block.argument:
                lint.at(block, "bad-value", f"<{block.tag}> takes no argument", ref.cite(spec.source))
            elif spec.argument not in ("none", "optional-name") and not block.argument:
                lint.at(block, "bad-value", f"<{block.tag}> needs an argument", ref.cite(spec.source))
        for item in block.directives:
            _check_directive(lint, item, context)
        for file, line, text in block.lines:
            _check_category_line(lint, file, line, text)


def _check_directive(lint: LintRun, item: Directive, context: str) -> None:
    ref = lint.ref
    use = ref.use(item.name, context)
    if use is None:
        where = "at global scope" if context == GLOBAL else f"inside <{context}>"
        if item.name in ref.directives:
            known = sorted({ctx for use in ref.directives[item.name] for ctx in use.contexts})
            lint.at(
                item,
                "misplaced-directive",
                f"{item.name} is not valid {where} (the guide allows it in: {', '.join(known)})",
                ref.cite_directive(item.name),
            )
        else:
            lint.at(
                item, "unknown-directive", f"{item.name!r} is not a PowerMTA directive ({where})", STRUCTURE
            )
        return
    section = ref.cite(use.source)
    if use.deprecated:
        lint.at(
            item, "deprecated", f"{item.name} is deprecated: {use.deprecated}", section, severity="warning"
        )
    if item.name == "domain-macro":
        name = item.value.split(None, 1)[0] if item.value else ""
        if name and not re.fullmatch(r"[A-Za-z0-9_]+", name):
            lint.at(
                item,
                "bad-macro-name",
                f"macro name {name!r}: only letters, digits and the underscore are allowed",
                section,
            )
            return
    problem = check_value(use.form, item.value)
    if problem is not None:
        lint.at(item, "bad-value", f"{item.name} {item.value[:80]!r}: {problem}", section)
        return
    regex = (
        _REGEX_LINE.search(item.value)
        if use.form in ("pattern-reply", "pattern-result", "pattern-header")
        else None
    )
    if use.form == "email-or-regex" and item.value.startswith("/"):
        regex = _REGEX_LINE.match(item.value)
    if regex is not None:
        _compile(lint, item.file, item.line, regex.group(1), section)


def _compile(lint: LintRun, file: str, line: int, pattern: str, section: str) -> bool:
    try:
        from_pmta_regex(pattern)
    except Exception as exc:  # any compile failure is a finding, not a crash
        lint.add(file, line, "bad-pattern", f"pattern {pattern[:60]!r} does not compile: {exc}", section)
        return False
    return True


def _check_category_line(lint: LintRun, file: str, line: int, text: str) -> None:
    section = lint.ref.cite_block("bounce-category-patterns")
    match = _REGEX_LINE.match(text)
    if match is None:
        lint.add(file, line, "bad-pattern", f"expected '/regex/ category', found {text[:60]!r}", section)
        return
    _compile(lint, file, line, match.group(1), section)
    rest = match.group(2).split()
    if len(rest) != 1:
        lint.add(file, line, "bad-category", "expected one category name after the pattern", section)
    elif rest[0] not in BOUNCE_CATEGORIES:
        # §10.8 allows custom names; the engine's classifier and reports know only the standard ones.
        lint.add(
            file,
            line,
            "bad-category",
            f"{rest[0]!r} is not one of PowerMTA's standard bounce categories (§11.6); the engine will count it as other",
            section,
            severity="warning",
        )
