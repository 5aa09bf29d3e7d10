"""What the pure DNS-authentication checks read and return: DNS facts and checks.

The checks (``spf.py``, ``dmarc.py``, ``records.py``, ``compliance.py``) never do I/O. They read a
:class:`DnsFacts` snapshot; a check that needs a record the snapshot lacks raises :class:`MissingFact`,
the adapter (``auth_lookup.py``) fetches what is missing and runs the checks again.

Each check returns a :class:`Check` whose :class:`CheckStatus` is ``pass``, ``fail``, ``warn``, ``info``
(optional features) or ``unknown`` (DNS did not answer: a timeout or server failure is never a pass nor a fail).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "STATUS_ORDER",
    "Check",
    "CheckStatus",
    "DnsFacts",
    "Fact",
    "FactKind",
    "MissingFact",
    "NeedFacts",
    "normalise_name",
    "worst_status",
]

FactKind = Literal["records", "nxdomain", "nodata", "timeout", "error"]


class CheckStatus(StrEnum):
    """The outcome of one check; stored and sent as its value (``dns_auth_check.status``, API JSON)."""

    PASS = "pass"  # noqa: S105 - a check outcome, not a password
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"  # an optional feature, reported either way
    UNKNOWN = "unknown"  # the records could not be read (timeout, server failure): neither pass nor fail


#: How bad a status is when a report sums its checks up: a failure outranks "could not be read".
STATUS_ORDER: dict[CheckStatus, int] = {
    CheckStatus.FAIL: 4,
    CheckStatus.UNKNOWN: 3,
    CheckStatus.WARN: 2,
    CheckStatus.PASS: 1,
    CheckStatus.INFO: 0,
}


def normalise_name(name: str) -> str:
    return name.strip().lower().rstrip(".")


@dataclass(frozen=True, slots=True)
class Fact:
    """One DNS answer: TXT strings joined per record, A/AAAA addresses, "pref host" MX, PTR names."""

    kind: FactKind
    values: tuple[str, ...] = ()
    detail: str = ""

    @property
    def usable(self) -> bool:
        return self.kind in ("records", "nxdomain", "nodata")

    @property
    def void(self) -> bool:
        return self.kind in ("nxdomain", "nodata")

    @property
    def why_unusable(self) -> str:
        return self.detail or self.kind


class MissingFact(Exception):
    def __init__(self, name: str, rdtype: str) -> None:
        super().__init__(f"{rdtype} {name}")
        self.name, self.rdtype = name, rdtype


class NeedFacts(Exception):
    def __init__(self, missing: Iterable[tuple[str, str]]) -> None:
        self.missing = sorted(set(missing))
        super().__init__(", ".join(f"{t} {n}" for n, t in self.missing))


class DnsFacts:
    """A snapshot of DNS answers keyed by (name, type)."""

    def __init__(self, facts: dict[tuple[str, str], Fact] | None = None) -> None:
        self._facts: dict[tuple[str, str], Fact] = {}
        for (name, rdtype), fact in (facts or {}).items():
            self.put(name, rdtype, fact)

    def put(self, name: str, rdtype: str, fact: Fact) -> None:
        self._facts[(normalise_name(name), rdtype.upper())] = fact

    def get(self, name: str, rdtype: str) -> Fact:
        try:
            return self._facts[(normalise_name(name), rdtype.upper())]
        except KeyError:
            raise MissingFact(normalise_name(name), rdtype.upper()) from None

    def __contains__(self, item: tuple[str, str]) -> bool:
        return (normalise_name(item[0]), item[1].upper()) in self._facts

    def __len__(self) -> int:
        return len(self._facts)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: CheckStatus
    sentence: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "status": self.status, "sentence": self.sentence, "data": self.data}


def worst_status(statuses: Iterable[CheckStatus]) -> CheckStatus:
    worst = CheckStatus.PASS
    for status in statuses:
        if STATUS_ORDER[status] > STATUS_ORDER[worst]:
            worst = status
    return worst
