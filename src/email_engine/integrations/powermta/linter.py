"""Check a PowerMTA configuration against the User's Guide before it is reloaded (pure;
:func:`lint_disk.lint_path` adds the file reads and permission checks).

Everything is judged by :mod:`reference` (``data/reference.yaml``): an unknown directive, a
directive or block in a context the guide does not allow, or a value outside its documented form
is an error. On top: illegal macro names, unbalanced tags, references to undefined VMTAs, pools,
pattern lists, macros and sources, leftover placeholders, and the semantic rules of the guide that
a wrong config breaks silently:

====================  =====================================================================
code                  rule (guide section)
====================  =====================================================================
backoff-not-slower    a queue's effective ``backoff-max-msg-rate`` (after inheritance, both
                      orders, :mod:`inheritance`) must be below its ``max-msg-rate``, and 0
                      where the queue is paused (§3.3.10.33-34)
over-warmup-cap       with the inventory: a warming VMTA's queues stay within its hourly cap
queue-to-target       a ``queue-to`` target queue needs ``smtp-hosts`` (§10.9)
rollup-smtp-hosts     a wildcard ``mx`` without ``rollup-by-ip`` needs ``smtp-hosts`` (§10.17)
reserved-source       ``{name}`` sources other than ``{auth}``/``{pickup}`` are reserved (§3.3.7)
default-vmta-unsafe   ``default-virtual-mta`` must not reach a paused or warming VMTA
no-bounce-processor   ``rb``/``rs`` records need a ``<bounce-processor>`` (§12.6); ``f`` records a
no-fbl-processor      ``<feedback-loop-processor>`` (§12.7)
pool-name-taken       a pool may not share a VMTA's name (§8.3)
vmta-in-two-pools     a VMTA in two pools that both have ``<domain>`` blocks (§3.3.13.2)
====================  =====================================================================

Every finding carries file, line and the guide section it rests on. The checks live beside this
module, one concern each: ``lint_vocabulary`` (directives, contexts, value forms, patterns),
``lint_references`` (names, reserved sources, macro loops), ``lint_routing`` (``queue-to``, MX
rollups), ``lint_vmtas`` (pools, default VMTA, backoff, source IPs), ``lint_accounting``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Final

from email_engine.integrations.powermta.config_tree import LintIssue, parse_tree
from email_engine.integrations.powermta.inventory import VmtaFacts
from email_engine.integrations.powermta.lint_accounting import check_accounting
from email_engine.integrations.powermta.lint_findings import LintReport, LintRun
from email_engine.integrations.powermta.lint_references import check_macro_loops, check_references
from email_engine.integrations.powermta.lint_routing import check_queue_to, check_rollups
from email_engine.integrations.powermta.lint_vmtas import (
    check_backoff,
    check_default_vmta,
    check_pools,
    check_source_ips,
)
from email_engine.integrations.powermta.lint_vocabulary import check_vocabulary
from email_engine.integrations.powermta.reference import PATTERN_BLOCKS, reference

__all__ = ["lint_files"]

_PLACEHOLDER: Final = re.compile(
    r"(?:\bIP\d*_(?:ADDRESS|HOSTNAME|HOST)\b|\bCHANGE[_-]?ME\w*|\bchange[_-]?me\w*|\bYOUR_[A-Z0-9_]+"
    r"|\bREPLACE[_-]?ME\w*|\bPLACEHOLDER\w*|\{\{[^}]*\}\}|%%[A-Z_]+%%|\$\{[A-Za-z_]+\})"
)


# Every placeholder pattern contains one of these, lower-cased (a cheap test before the regex).
_PLACEHOLDER_HINTS: Final = (
    "_address",
    "_host",
    "change",
    "your_",
    "replace",
    "placeholder",
    "{{",
    "%%",
    "${",
)


def lint_files(
    files: Mapping[str, str],
    *,
    entry: str,
    expected_ips: Iterable[str] = (),
    vmtas: Mapping[str, VmtaFacts] | None = None,
    on_disk: bool = False,
) -> LintReport:
    """Lint ``files[entry]`` and everything it includes (pure: the files are given as text, keyed by
    name; an ``include`` resolves to the file of the same name). ``vmtas``: the inventory's facts by
    VMTA name (state, warmup cap) for the checks the text alone cannot make. ``on_disk``: keys are
    real paths."""
    placeholders: list[LintIssue] = []

    def on_line(file: str, line: int, text: str) -> None:
        lowered = text.lower()
        if any(hint in lowered for hint in _PLACEHOLDER_HINTS):
            placeholders.extend(
                LintIssue(
                    file, line, "error", "placeholder", f"placeholder {match.group(0)!r} was never replaced"
                )
                for match in _PLACEHOLDER.finditer(text)
            )

    tree = parse_tree(files, entry=entry, pattern_blocks=PATTERN_BLOCKS, on_disk=on_disk, line_hook=on_line)
    lint = LintRun(reference(), tree, [*tree.issues, *placeholders])
    if entry in files:
        facts = vmtas or {}
        check_vocabulary(lint)
        check_references(lint)
        check_macro_loops(lint)
        check_queue_to(lint)
        check_rollups(lint)
        check_pools(lint)
        check_accounting(lint)
        check_default_vmta(lint, facts)
        check_backoff(lint, facts)
        check_source_ips(lint, expected_ips, entry)
    report = LintReport(issues=lint.issues, files=tree.files)
    report.issues.sort(key=lambda issue: (issue.file != entry, issue.file, issue.line, issue.code))
    return report
