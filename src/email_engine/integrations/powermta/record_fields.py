"""The record types of PowerMTA's accounting files and the fields each one has (pure data, §11.2,
§3.3.11.11), for the value forms ``record-types``, ``record-fields`` and ``header-mapping`` and the
linter's accounting check."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = ["ACCT_FIELDS", "ACCT_RECORD_TYPES", "field_allowed", "fields_section", "is_field", "record_type"]

#: §3.3.11.11: the eight record types and their long names.
ACCT_RECORD_TYPES: Final[Mapping[str, str]] = {
    "d": "d",
    "delivery": "d",
    "b": "b",
    "bounce": "b",
    "t": "t",
    "transient": "t",
    "tq": "tq",
    "transient-queue": "tq",
    "r": "r",
    "receipt": "r",
    "f": "f",
    "feedback-loop": "f",
    "rb": "rb",
    "remote-bounce": "rb",
    "rs": "rs",
    "remote-status": "rs",
}


_DELIVERY_FIELDS: Final = frozenset(
    [
        "type",
        "timeLogged",
        "timeQueued",
        "totalSecondsQueued",
        "orig",
        "rcpt",
        "orcpt",
        "dsnAction",
        "dsnStatus",
        "dsnDiag",
        "dsnMta",
        "bounceCat",
        "srcType",
        "srcMta",
        "dlvType",
        "dlvSourceIp",
        "dlvDestinationIp",
        "dlvEsmtpAvailable",
        "dlvSize",
        "vmta",
        "jobId",
        "envId",
        "queue",
        "vmtaPool",
        "userString",
        "dlvTlsProtocol",
        "dlvTlsCipher",
        "rcvSmtpUser",
    ]
)


_REMOTE_FIELDS: Final = frozenset(
    [
        "type",
        "timeLogged",
        "orig",
        "rcpt",
        "orcpt",
        "dsnAction",
        "dsnStatus",
        "dsnDiag",
        "dsnMta",
        "dsnReportingMta",
        "bounceCat",
        "srcType",
        "srcMta",
        "envId",
        "format",
    ]
)


#: The fields each record type has (§11.2.2-§11.2.8, §12.6, §12.7); ``header_*`` where the guide allows it.
ACCT_FIELDS: Final[Mapping[str, frozenset[str]]] = {
    "d": _DELIVERY_FIELDS,
    "b": _DELIVERY_FIELDS,
    "t": _DELIVERY_FIELDS,
    "tq": frozenset(
        [
            "type",
            "timeLogged",
            "queue",
            "vmta",
            "dsnStatus",
            "dsnDiag",
            "dsnMta",
            "dlvType",
            "dlvSourceIp",
            "dlvDestinationIp",
            "userString",
        ]
    ),
    "r": frozenset(
        [
            "type",
            "timeLogged",
            "orig",
            "rcpt",
            "orcpt",
            "srcType",
            "srcMta",
            "rcvSourceIp",
            "rcvDestinationIp",
            "vmta",
            "vmtaPool",
            "jobId",
            "envId",
            "userString",
            "rcvSmtpUser",
        ]
    ),
    "rb": _REMOTE_FIELDS,
    "rs": _REMOTE_FIELDS,
    "f": frozenset(
        [
            "type",
            "timeLogged",
            "repSourceIp",
            "feedbackType",
            "format",
            "userAgent",
            "envId",
            "orig",
            "rcpt",
            "reportingMta",
            "dlvSourceIp",
            "reportedDomain",
        ]
    ),
}


# Field names compare without case: §11.2.8 writes "envid"/"reportingMTA" where §12.7 writes "envId"/"reportingMta".
_FIELDS_LOWER: Final = {
    kind: frozenset(name.lower() for name in names) for kind, names in ACCT_FIELDS.items()
}


# Types whose records can carry header_<name> (§11.2.2-§11.2.6 tables, §12.6, §12.7) and arf_<name> (§12.7).
_HEADER_TYPES: Final = frozenset({"d", "b", "t", "r", "rb", "rs", "f"})


def record_type(name: str) -> str | None:
    """``d`` for ``d`` or ``delivery`` … (§3.3.11.11); None when unknown."""
    return ACCT_RECORD_TYPES.get(name.strip().lower())


def is_field(kind: str, name: str) -> bool:
    """``name`` is a field of ``kind`` records (without case)."""
    return name.lower() in _FIELDS_LOWER[kind]


def field_allowed(kind: str, field: str) -> bool:
    """``field`` may stand in a ``record-fields`` list for ``kind`` records: a field of the type,
    ``*``, ``!name`` to leave one out, or ``header_*``/``arf_*`` where the guide allows them."""
    name = field[1:] if field.startswith("!") else field
    if name == "*":
        return not field.startswith("!")
    if name.startswith("header_"):
        return kind in _HEADER_TYPES and len(name) > 7
    if name.startswith("arf_"):
        return kind == "f" and len(name) > 4
    return is_field(kind, name)


def fields_section(kind: str) -> str:
    """The guide sections listing the fields of ``kind`` records (cited in findings)."""
    return {
        "d": "§11.2.2",
        "b": "§11.2.3",
        "t": "§11.2.4",
        "tq": "§11.2.5",
        "r": "§11.2.6",
        "rb": "§11.2.7, §12.6",
        "rs": "§11.2.7, §12.6",
        "f": "§11.2.8, §12.7",
    }[kind]
