"""All bounce rules matched in one pass: an RE2 set says which rules match, Python's ``re`` confirms where needed.

Python's ``re`` tries the ordered rules one after another, each a scan of the subject (about 120 µs for a reply
no rule matches early). RE2's multi-pattern set scans the subject once for every rule at the same time (a few
µs) and returns the indexes of the rules that match; the first rule in order among them is the answer.

RE2 and ``re`` agree on what a pattern matches only where their syntax and character classes agree, so:

- a subject that is not printable ASCII (where ``\\w``, ``\\b``, ``\\s`` and ``\\d`` are Unicode-aware in ``re``
  and ASCII in RE2) is matched with ``re`` alone;
- lookarounds, which RE2 lacks, are dropped from the RE2 form. The result matches at least what the rule matches,
  so such a rule is only a candidate and ``re`` confirms it;
- a rule RE2 cannot compile at all is tried with ``re`` in its place in the order.

A test checks the two paths agree on the corpus, the provider table and generated text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import re2  # type: ignore[import-untyped]

__all__ = ["MatchableRule", "RuleSet", "drop_lookarounds", "first_match"]

# DFA memory for the whole set; RE2's default (8 MiB) is shared by a hundred alternations, and a set whose
# DFA runs out of memory reports "no match". 64 MiB is a budget, allocated only as states are built.
_MAX_MEM = 64 << 20
_LOOKAROUND = ("(?=", "(?!", "(?<=", "(?<!")


class MatchableRule(Protocol):
    @property
    def domains(self) -> frozenset[str]: ...
    @property
    def pattern(self) -> re.Pattern[str]: ...
    @property
    def lowered(self) -> re.Pattern[str] | None: ...
    @property
    def fast_source(self) -> str: ...


R = TypeVar("R", bound=MatchableRule)


def first_match(rules: Sequence[R], lowered_subject: str, domain: str) -> R | None:
    """The reference: the first rule (in order) whose pattern is found in the lower-cased subject."""
    for rule in rules:
        if rule.domains and domain not in rule.domains:
            continue
        if _search(rule, lowered_subject):
            return rule
    return None


def _search(rule: MatchableRule, lowered_subject: str) -> bool:
    # `pattern` is case-insensitive, so it may search the lower-cased subject too.
    return (rule.lowered or rule.pattern).search(lowered_subject) is not None


def drop_lookarounds(source: str) -> tuple[str, bool]:
    """``source`` without its lookaround groups, and whether any was dropped (then it matches a superset)."""
    out: list[str] = []
    dropped = False
    index = 0
    while index < len(source):
        if source.startswith(_LOOKAROUND, index):
            index = _group_end(source, index)
            dropped = True
            continue
        step = _atom_length(source, index)
        out.append(source[index : index + step])
        index += step
    return "".join(out), dropped


def _atom_length(source: str, index: int) -> int:
    """Length of the escape or character class starting at ``index`` (1 for any other character)."""
    if source[index] == "\\":
        return 2
    if source[index] != "[":
        return 1
    end = index + 1
    if end < len(source) and source[end] == "^":
        end += 1
    if end < len(source) and source[end] == "]":
        end += 1  # a "]" first in the class is a literal
    while end < len(source) and source[end] != "]":
        end += 2 if source[end] == "\\" else 1
    return end + 1 - index


def _group_end(source: str, start: int) -> int:
    """Index just after the group opening at ``start``."""
    depth = 0
    index = start
    while index < len(source):
        char = source[index]
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return index + 1
        index += _atom_length(source, index)
    return index


@dataclass(frozen=True, slots=True)
class _Entry:
    position: int
    confirm: bool


class RuleSet(Generic[R]):
    """The ordered rules, compiled once into an RE2 set for :meth:`first`."""

    def __init__(self, rules: Sequence[R]) -> None:
        self.rules = tuple(rules)
        options = re2.Options()
        options.dot_nl = True
        options.max_mem = _MAX_MEM
        options.log_errors = False
        self._set = re2.Set.SearchSet(options)
        self._entries: list[_Entry] = []
        python_only: list[int] = []
        for position, rule in enumerate(self.rules):
            source, relaxed = drop_lookarounds(rule.fast_source)
            if not source:
                python_only.append(position)
                continue
            try:
                self._set.Add(source)
            except re2.error:
                python_only.append(position)
                continue
            self._entries.append(_Entry(position, confirm=relaxed))
        self._set.Compile()
        self._match: Callable[[bytes], list[int]] = self._set._set.Match
        self._python_only = tuple(python_only)

    def first(self, subject: str, domain: str) -> R | None:
        """The first rule in order whose pattern is found in ``subject``, as :func:`first_match` would say."""
        lowered = subject.lower()
        if not (subject.isascii() and subject.isprintable()):
            return first_match(self.rules, lowered, domain)
        # The wrapper's Match() only encodes and forwards; this runs once per new bounce text.
        hits = self._match(lowered.encode())
        python_only = self._python_only
        checked_python = 0
        for hit in sorted(hits):  # rules were added in order, so set indexes sort like positions
            entry = self._entries[hit]
            # A rule RE2 could not take, placed before this candidate, may be the first match.
            while checked_python < len(python_only) and python_only[checked_python] < entry.position:
                found = self._try(python_only[checked_python], lowered, domain, confirm=True)
                if found is not None:
                    return found
                checked_python += 1
            found = self._try(entry.position, lowered, domain, confirm=entry.confirm)
            if found is not None:
                return found
        for position in python_only[checked_python:]:
            found = self._try(position, lowered, domain, confirm=True)
            if found is not None:
                return found
        return None

    def _try(self, position: int, lowered: str, domain: str, *, confirm: bool) -> R | None:
        rule = self.rules[position]
        if rule.domains and domain not in rule.domains:
            return None
        if confirm and not _search(rule, lowered):
            return None
        return rule
