"""Bounce classification (pure): (dsnStatus, dsnDiag) → PowerMTA category and contact-level type.

The whole decision is "the first rule whose pattern matches one subject string", the subject being
``bounce_subject(status, diag)``. That shape is deliberate: PowerMTA's ``<bounce-category-patterns>`` is also
"first match wins" over the status and diagnostic, so the rules in ``bounce_rules.yaml`` can be rendered into
PowerMTA's configuration and both sides agree. PowerMTA's own ``bounceCat`` is used only when no rule matched.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import yaml

from email_engine.errors import ConfigurationError
from email_engine.feedback.rule_set import RuleSet, first_match

__all__ = [
    "BLOCK_CATEGORIES",
    "CATEGORIES",
    "HARD_CATEGORIES",
    "BounceRule",
    "BounceType",
    "Classification",
    "bounce_subject",
    "classify_bounce",
    "load_rules",
    "type_for",
]

#: PowerMTA's bounce categories (DESIGN.md "Wire formats").
CATEGORIES: Final = (
    "bad-mailbox",
    "bad-domain",
    "inactive-mailbox",
    "quota-issues",
    "no-answer-from-host",
    "relaying-issues",
    "routing-errors",
    "spam-related",
    "policy-related",
    "content-related",
    "message-expired",
    "bad-connection",
    "bad-configuration",
    "protocol-errors",
    "invalid-sender",
    "virus-related",
    "other",
)
#: The address itself is dead.
HARD_CATEGORIES: Final = frozenset({"bad-mailbox", "bad-domain", "inactive-mailbox"})
#: Our IP, domain, content or policy was refused; the contact may be perfectly alive.
BLOCK_CATEGORIES: Final = frozenset(
    {
        "spam-related",
        "policy-related",
        "content-related",
        "virus-related",
        "relaying-issues",
        "invalid-sender",
    }
)
_MAX_SUBJECT_CHARS: Final = 2048


class BounceType(StrEnum):
    HARD = "hard"
    BLOCK = "block"
    SOFT = "soft"


@dataclass(frozen=True, slots=True)
class BounceRule:
    """One ordered rule: ``pattern`` (case-insensitive) is searched in ``bounce_subject(status, diag)``."""

    name: str
    category: str
    pattern: re.Pattern[str]
    #: Limits the rule to these recipient domains; empty means every domain. PowerMTA cannot express this.
    domains: frozenset[str] = frozenset()
    #: The same expression with its literals lower-cased and no IGNORECASE, searched in the lower-cased
    #: subject: Python's case-insensitive matching of long alternations is about 2.5 times slower.
    lowered: re.Pattern[str] | None = field(default=None, compare=False, repr=False)
    #: ``lowered``'s source as RE2 is given it (rule_set.py): a status-only rule's end-of-code lookahead is
    #: written as a consuming group, which matches the same subjects. "" leaves the rule to Python's ``re``.
    fast_source: str = field(default="", compare=False, repr=False)
    #: A transient (4.x.x) answer matching this rule names the sender's reputation, volume or authentication,
    #: so it is a block (``transient: block`` in the YAML; spam-related rules default to it).
    transient_block: bool = False
    #: Why the rule decides as it does where its text overrides the enhanced status code (YAML ``why``).
    why: str = ""


@dataclass(frozen=True, slots=True)
class Classification:
    category: str
    type: BounceType
    #: Name of the matching rule, ``powermta:<bounceCat>`` when PowerMTA's category was used, or ``default``.
    rule: str


def bounce_subject(status: str | None, diag: str | None) -> str:
    """The one string every rule is matched against: the status code, a blank, then the diagnostic text."""
    return f"{(status or '').strip()} {(diag or '').strip()}"[:_MAX_SUBJECT_CHARS]


def type_for(category: str, status: str | None = None, *, transient_block: bool | None = None) -> BounceType:
    """Contact-level type of a category and status.

    A permanent (5.x.x) refusal is hard for a dead address (bad-mailbox, bad-domain, inactive-mailbox), block
    for a refusal of our IP, domain, authentication, content or policy, soft otherwise. A transient (4.x.x)
    answer is never hard, and it is block only when its text names the sender's reputation, volume or
    authentication (``transient_block``, from the rule; by default only spam-related answers do): greylisting,
    a busy server or a recipient receiving too fast say nothing about our IP.
    """
    if (status or "").strip().startswith("4"):
        names_sender = category == "spam-related" if transient_block is None else transient_block
        return BounceType.BLOCK if names_sender else BounceType.SOFT
    if category in BLOCK_CATEGORIES:
        return BounceType.BLOCK
    if category in HARD_CATEGORIES:
        return BounceType.HARD
    return BounceType.SOFT


def _compile(spec: Mapping[str, Any], position: int) -> BounceRule:
    name = str(spec.get("name") or f"rule-{position}")
    category = spec.get("category")
    if category not in CATEGORIES:
        raise ConfigurationError(
            f"Bounce rule {name!r} has category {category!r}; use one of: {', '.join(CATEGORIES)}."
        )
    status = spec.get("status")
    text = spec.get("text")
    if not status and not text:
        raise ConfigurationError(f"Bounce rule {name!r} needs a status pattern, a text pattern or both.")
    # A status-only rule is anchored on the status at the start of the subject and must end where the code ends.
    head = rf"^(?:{status})(?![\d.])" if status else ""
    if status and text:
        source = rf"{head}.*?(?:{text})"
    elif status:
        source = head
    else:
        source = str(text)
    fast_source = rf"^(?:{status})(?:[^\d.]|$)" if status and not text else source
    try:
        pattern = re.compile(source, re.IGNORECASE | re.DOTALL)
    except re.error as exc:
        raise ConfigurationError(f"Bounce rule {name!r} has an invalid regular expression: {exc}.") from exc
    domains = frozenset(str(d).lower() for d in spec.get("domains") or ())
    lowered = re.compile(_lower_literals(source), re.DOTALL)
    transient = spec.get("transient", "block" if category == "spam-related" else "soft")
    if transient not in ("block", "soft"):
        raise ConfigurationError(f"Bounce rule {name!r} has transient: {transient!r}; use block or soft.")
    return BounceRule(
        name=name,
        category=str(category),
        pattern=pattern,
        domains=domains,
        lowered=lowered,
        fast_source=_lower_literals(fast_source),
        transient_block=transient == "block",
        why=str(spec.get("why") or ""),
    )


def _lower_literals(source: str) -> str:
    """Lower-case a regex's literal characters; escapes (``\\S``, ``\\B``, ``\\D``…) keep their meaning."""
    out: list[str] = []
    index = 0
    while index < len(source):
        if source[index] == "\\" and index + 1 < len(source):
            out.append(source[index : index + 2])
            index += 2
        else:
            out.append(source[index].lower())
            index += 1
    return "".join(out)


def parse_rules(data: Mapping[str, Any]) -> list[BounceRule]:
    """Rules from the YAML document shape ``{"rules": [...]}``; raises ConfigurationError with the reason."""
    specs = data.get("rules") if isinstance(data, Mapping) else None
    if not isinstance(specs, list) or not specs:
        raise ConfigurationError("The bounce rules document needs a non-empty 'rules' list.")
    rules = [_compile(spec, i) for i, spec in enumerate(specs)]
    names = [rule.name for rule in rules]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"Bounce rule names must be unique; repeated: {', '.join(duplicates)}.")
    return rules


@lru_cache(maxsize=1)
def _builtin_rules() -> tuple[BounceRule, ...]:
    text = resources.files("email_engine.feedback").joinpath("bounce_rules.yaml").read_text(encoding="utf-8")
    return tuple(parse_rules(yaml.safe_load(text)))


@lru_cache(maxsize=1)
def _builtin_set() -> RuleSet[BounceRule]:
    return RuleSet(_builtin_rules())


@lru_cache(maxsize=1)
def _builtin_uses_domains() -> bool:
    return any(rule.domains for rule in _builtin_rules())


def load_rules() -> list[BounceRule]:
    """The shipped rules, in order (first match wins)."""
    return list(_builtin_rules())


_CACHE_SIZE: Final = 65536
_cache: dict[tuple[str | None, str | None, str | None, str | None], Classification] = {}


def _decide(rule: BounceRule | None, status: str, bounce_cat: str) -> Classification:
    transient = status.startswith("4")
    if rule is not None:
        return _classification(rule.category, rule.name, transient, rule.transient_block)
    if bounce_cat in CATEGORIES:
        return _classification(bounce_cat, f"powermta:{bounce_cat}", transient, None)
    return _classification("other", "default", transient, None)


@lru_cache(maxsize=1024)
def _classification(
    category: str, rule: str, transient: bool, transient_block: bool | None
) -> Classification:
    # Shared instances: a handful of verdicts serve millions of bounces.
    status = "4" if transient else "5"
    return Classification(category, type_for(category, status, transient_block=transient_block), rule)


def classify_bounce(
    status: str | None,
    diag: str | None,
    *,
    bounce_cat: str | None = None,
    recipient_domain: str | None = None,
    rules: Iterable[BounceRule] | None = None,
) -> Classification:
    """Classify one bounce. ``rules`` replaces the shipped rules (tests, operator overrides); uncached then.

    ``bounce_cat`` (PowerMTA's own category) is a fallback only: where a rule matches, the rule wins.
    """
    if rules is None and (diag is None or len(diag) <= _MAX_SUBJECT_CHARS):
        # Exact repeats are answered before any normalising. Without domain-limited rules the domain cannot
        # change the answer, so leaving it out of the key lets one entry serve every recipient domain.
        key = (status, diag, bounce_cat, recipient_domain if _builtin_uses_domains() else None)
        known = _cache.get(key)
        if known is None:
            if len(_cache) >= _CACHE_SIZE:
                _cache.clear()  # a new day's replies; a full clear is cheaper than tracking recency
            known = _cache[key] = _classify(status, diag, bounce_cat, recipient_domain, None)
        return known
    # Custom rules, or a reply too long to keep as a cache key.
    return _classify(status, diag, bounce_cat, recipient_domain, None if rules is None else list(rules))


def _classify(
    status: str | None,
    diag: str | None,
    bounce_cat: str | None,
    recipient_domain: str | None,
    rules: list[BounceRule] | None,
) -> Classification:
    cat = (bounce_cat or "").strip().lower()
    domain = (recipient_domain or "").strip().lower().rstrip(".")
    code = (status or "").strip()
    subject = bounce_subject(code, diag)
    rule = (
        _builtin_set().first(subject, domain)
        if rules is None
        else first_match(rules, subject.lower(), domain)
    )
    return _decide(rule, code, cat)
