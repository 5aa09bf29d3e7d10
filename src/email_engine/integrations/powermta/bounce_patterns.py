"""``<bounce-category-patterns>`` generated from the engine's classifier rules (one source of truth).

The classifier (``email_engine.feedback.bounce``) is an ordered list of rules; the first rule whose
``pattern`` matches ``bounce_subject(status, diag)`` gives the category. PowerMTA applies its
bounce-category patterns the same way (first match wins), so the rules are written in order, each
translated by :mod:`pmta_regex`. A rule PowerMTA cannot express stops the render: a silently
skipped rule would let PowerMTA and the engine disagree.

:func:`evaluate` is a small PowerMTA-style evaluator over rendered text, used by the tests to prove
both sides give the same category.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from email_engine.errors import InvalidInput
from email_engine.integrations.powermta.pmta_regex import from_pmta_regex, to_pmta_regex
from email_engine.integrations.powermta.reference import BOUNCE_CATEGORIES

__all__ = ["CategoryPattern", "RuleLike", "evaluate", "parse_bounce_patterns", "render_bounce_patterns"]

FALLBACK_CATEGORY = "other"


class RuleLike(Protocol):
    @property
    def pattern(self) -> re.Pattern[str]: ...

    @property
    def category(self) -> str: ...


@dataclass(frozen=True)
class CategoryPattern:
    line_number: int
    pattern: re.Pattern[str]
    category: str


def _category_name(value: object) -> str:
    text = str(getattr(value, "value", value))
    if text not in BOUNCE_CATEGORIES:
        raise InvalidInput(
            f"Classifier category {text!r} is not a PowerMTA bounce category "
            f"({', '.join(sorted(BOUNCE_CATEGORIES))})."
        )
    return text


def render_bounce_patterns(rules: Sequence[RuleLike]) -> str:
    """The ``<bounce-category-patterns>`` block, one ``/regex/ category`` line per rule, in order."""
    lines = [
        "# Generated from email_engine.feedback.bounce.load_rules(); edit the classifier, not this file.",
        '# First match wins, as in the engine. Subject: "<status> <diagnostic>" (bounce_subject).',
        "<bounce-category-patterns>",
    ]
    for index, rule in enumerate(rules, start=1):
        category = _category_name(rule.category)
        if getattr(rule, "domains", None):
            raise InvalidInput(
                f"Classifier rule {index} ({getattr(rule, 'name', '?')}) is limited to some recipient domains, "
                "which <bounce-category-patterns> cannot express; remove the limit or keep it out of the "
                "rules PowerMTA uses."
            )
        try:
            text = to_pmta_regex(rule.pattern)
        except InvalidInput as exc:
            raise InvalidInput(
                f"Classifier rule {index} cannot be written for PowerMTA: {exc.detail}"
            ) from exc
        lines.append(f"    {text} {category}")
    lines.append("</bounce-category-patterns>")
    return "\n".join(lines) + "\n"


def parse_bounce_patterns(text: str) -> list[CategoryPattern]:
    """Read the ``/regex/ category`` lines of the first ``<bounce-category-patterns>`` block."""
    patterns: list[CategoryPattern] = []
    inside = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.lower() == "<bounce-category-patterns>":
            inside = True
            continue
        if line.lower() == "</bounce-category-patterns>":
            break
        if not inside or not line or line.startswith("#"):
            continue
        regex, _, category = line.rpartition(" ")
        patterns.append(CategoryPattern(number, from_pmta_regex(regex.strip()), category))
    return patterns


def evaluate(patterns: Iterable[CategoryPattern], subject: str) -> str:
    """PowerMTA's semantics: the category of the first pattern found in ``subject``, else "other"."""
    for item in patterns:
        if item.pattern.search(subject):
            return item.category
    return FALLBACK_CATEGORY
