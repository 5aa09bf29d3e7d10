"""DMARC policy records (RFC 7489 with the changes of RFC 9989), pure.

:func:`parse_dmarc_record` reads one record without DNS (``email-engine dmarc check-record``);
:func:`check_dmarc` finds the record of a sending domain in a :class:`DnsFacts` snapshot, reads it and checks
that every external report destination agrees to receive reports (RFC 7489 7.1).

What the reading follows:

- tag names and values are case-insensitive (``V=DMARC1``, ``p=ReJect``); blanks around tags are ignored;
- the record must start with ``v=DMARC1``; a tag without ``=`` or a tag given twice is an error;
- ``p`` is none, quarantine or reject; a record without ``p`` is read as ``p=none`` with a warning (RFC 9989
  4.7; RFC 7489 required ``p`` and told receivers to treat such a record as if it had ``p=none`` when
  ``rua`` is valid, 6.6.3);
- ``sp`` and ``np`` (RFC 9989) take the same values, ``np`` defaults to ``sp``, ``sp`` to ``p``;
- ``adkim``/``aspf`` are r or s, ``fo`` a colon-separated list of 0, 1, d and s, ``psd`` y, n or u and ``t``
  y or n (RFC 9989);
- ``rua``/``ruf`` are comma-separated ``mailto:`` URIs, each with an optional size limit (``!10m``);
- ``pct``, ``rf`` and ``ri`` were removed by RFC 9989: tolerated with a warning, whatever their value;
- unknown tags are ignored with a warning (RFC 7489 6.3, RFC 9989 4.7).

The organisational domain is the registrable domain of the Public Suffix List (the ``publicsuffixlist``
package, which ships the list and is updated with it).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from publicsuffixlist import PublicSuffixList

from email_engine.reputation.auth_facts import Check, CheckStatus, DnsFacts, Fact, normalise_name

__all__ = [
    "DmarcProblem",
    "DmarcRecordCheck",
    "ReportUri",
    "check_dmarc",
    "dmarc_questions",
    "external_destinations",
    "organisational_domain",
    "parse_dmarc_record",
]

POLICIES = ("none", "quarantine", "reject")
REMOVED_TAGS = {
    "pct": "sampling was removed by RFC 9989 (receivers apply the policy to all failing mail)",
    "rf": "the failure-report format tag was removed by RFC 9989 (AFRF is the only format)",
    "ri": "the report-interval tag was removed by RFC 9989 (receivers report daily)",
}
KNOWN_TAGS = {"v", "p", "sp", "np", "adkim", "aspf", "fo", "rua", "ruf", "psd", "t", *REMOVED_TAGS}
_SIZE = re.compile(r"^\d+[kmgt]?$", re.IGNORECASE)
_MAILBOX = re.compile(
    r"^[^@\s,;!]+@([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+)$", re.I
)

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class DmarcProblem:
    severity: Severity
    tag: str | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "tag": self.tag, "text": self.text}


@dataclass(frozen=True, slots=True)
class ReportUri:
    uri: str
    address: str
    host: str
    max_size: str | None = None


@dataclass(frozen=True, slots=True)
class DmarcRecordCheck:
    """One record read: ``status`` is fail when any problem is an error, warn when any is a warning."""

    record: str
    status: CheckStatus  # pass, warn or fail
    policy: str | None
    #: The effective value of every tag (defaults filled in); ``rua``/``ruf`` as lists of URIs.
    tags: dict[str, Any]
    #: Which tags the record itself sets.
    explicit: frozenset[str]
    problems: tuple[DmarcProblem, ...]
    rua: tuple[ReportUri, ...] = ()
    ruf: tuple[ReportUri, ...] = ()

    @property
    def errors(self) -> list[str]:
        return [p.text for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[str]:
        return [p.text for p in self.problems if p.severity == "warning"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "policy": self.policy,
            "tags": self.tags,
            "problems": [problem.as_dict() for problem in self.problems],
        }


@lru_cache(maxsize=1)
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def organisational_domain(domain: str) -> str:
    """The registrable domain per the Public Suffix List (``a.b.example.co.uk`` → ``example.co.uk``).

    A name that is itself a public suffix (``co.uk``) is its own organisational domain.
    """
    name = normalise_name(domain)
    return str(_public_suffixes().privatesuffix(name) or name)


# --- reading one record ---------------------------------------------------------------------------
@dataclass(slots=True)
class _Reader:
    record: str
    problems: list[DmarcProblem] = field(default_factory=list)

    def error(self, tag: str | None, text: str) -> None:
        self.problems.append(DmarcProblem("error", tag, text))

    def warning(self, tag: str | None, text: str) -> None:
        self.problems.append(DmarcProblem("warning", tag, text))


def _split_tags(reader: _Reader) -> list[tuple[str, str]] | None:
    pairs = []
    for part in reader.record.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep or not name.strip():
            reader.error(None, f"{part.strip()!r} is not a tag=value pair")
            return None
        pairs.append((name.strip().lower(), value.strip()))
    return pairs


def _report_uris(reader: _Reader, tag: str, value: str) -> list[ReportUri]:
    uris = []
    for raw in value.split(","):
        text = raw.strip()
        if not text:
            reader.error(tag, f"{tag}= has an empty URI; separate URIs with single commas")
            continue
        uri, _, size = text.partition("!")
        scheme, colon, address = uri.partition(":")
        if not colon or scheme.lower() != "mailto":
            reader.error(
                tag,
                f"{tag}={text} is not a mailto: URI; receivers send reports only to mailto: addresses "
                f"(write {tag}=mailto:{text if '@' in text and ':' not in text else 'reports@example.com'})",
            )
            continue
        match = _MAILBOX.match(address.strip())
        if match is None:
            reader.error(tag, f"{tag}={text}: {address!r} is not an e-mail address")
            continue
        if size and not _SIZE.match(size):
            reader.error(tag, f"{tag}={text}: the size limit {size!r} must be digits with k, m, g or t")
            continue
        uris.append(ReportUri(uri.strip(), address.strip(), match.group(1).lower(), size or None))
    return uris


def _choice(reader: _Reader, tag: str, value: str, allowed: Sequence[str]) -> str | None:
    lowered = value.lower()
    if lowered in allowed:
        return lowered
    reader.error(tag, f"{tag}={value} is not valid; use {', '.join(allowed)}")
    return None


def parse_dmarc_record(record: str) -> DmarcRecordCheck:
    """Read one DMARC record (the TXT value at ``_dmarc.<domain>``) without any DNS lookup."""
    text = record.rstrip()
    reader = _Reader(text)
    if text[:1].isspace():
        # RFC 7489 6.6.3: a record not starting with "v=DMARC1" is discarded, so receivers never see this one.
        reader.error("v", "the record starts with whitespace; receivers discard it, publish it from v=DMARC1")
        return _finish(reader, {}, set(), [], [])
    if re.match(r"^v\s*=\s*spf1\b", text, re.IGNORECASE):
        reader.error(
            "v", "this is an SPF record (v=spf1), not DMARC; publish the DMARC record at _dmarc.<domain>"
        )
        return _finish(reader, {}, set(), [], [])
    pairs = _split_tags(reader)
    if pairs is None:
        return _finish(reader, {}, set(), [], [])
    if not pairs or pairs[0][0] != "v" or pairs[0][1].upper() != "DMARC1":
        reader.error("v", "a DMARC record must start with v=DMARC1")
        return _finish(reader, {}, set(), [], [])
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            reader.error(name, f"the {name} tag appears more than once; receivers reject such a record")
        seen[name] = value
    if any(p.severity == "error" for p in reader.problems):
        return _finish(reader, {}, set(seen), [], [])
    tags: dict[str, Any] = {}
    rua: list[ReportUri] = []
    ruf: list[ReportUri] = []
    for name, value in seen.items():
        if name == "v":
            continue
        if name in REMOVED_TAGS:
            reader.warning(name, f"{name}={value}: {REMOVED_TAGS[name]}; remove it")
        elif name not in KNOWN_TAGS:
            reader.warning(name, f"unknown tag {name}={value} is ignored")
        elif name in ("p", "sp", "np"):
            tags[name] = _choice(reader, name, value, POLICIES)
        elif name in ("adkim", "aspf"):
            tags[name] = _choice(reader, name, value, ("r", "s"))
        elif name == "psd":
            tags[name] = _choice(reader, name, value, ("y", "n", "u"))
        elif name == "t":
            tags[name] = _choice(reader, name, value, ("y", "n"))
        elif name == "fo":
            tags[name] = _failure_options(reader, value)
        elif name == "rua":
            rua = _report_uris(reader, name, value)
        elif name == "ruf":
            ruf = _report_uris(reader, name, value)
    explicit = set(seen) - {"v"}
    if "p" not in seen:
        reader.warning(
            "p", "no p= tag: read as p=none (RFC 9989); older receivers ignore a record without p="
        )
    elif pairs[1][0] != "p":
        reader.warning("p", "p= does not follow v=DMARC1; RFC 7489 receivers may ignore the record")
    return _finish(reader, tags, explicit, rua, ruf)


def _failure_options(reader: _Reader, value: str) -> list[str] | None:
    options = [option.strip().lower() for option in value.split(":")]
    wrong = [option for option in options if option not in ("0", "1", "d", "s")]
    if wrong or not options:
        reader.error("fo", f"fo={value} is not valid; use 0, 1, d or s, separated by colons")
        return None
    if "0" in options and "1" in options:
        reader.warning("fo", "fo=0:1 is redundant: 1 already asks for a report on any failure")
    return options


def _finish(
    reader: _Reader,
    tags: dict[str, Any],
    explicit: set[str],
    rua: list[ReportUri],
    ruf: list[ReportUri],
) -> DmarcRecordCheck:
    failed = any(problem.severity == "error" for problem in reader.problems)
    if failed:
        policy = None
        effective: dict[str, Any] = {}
    else:
        policy = tags.get("p") or "none"
        sp = tags.get("sp") or policy
        effective = {
            "p": policy,
            "sp": sp,
            "np": tags.get("np") or sp,
            "adkim": tags.get("adkim") or "r",
            "aspf": tags.get("aspf") or "r",
            "fo": tags.get("fo") or ["0"],
            "psd": tags.get("psd") or "u",
            "t": tags.get("t") or "n",
            "rua": [uri.uri for uri in rua],
            "ruf": [uri.uri for uri in ruf],
        }
        if not rua:
            reader.warning("rua", "no rua= address, so you receive no aggregate reports; add rua=mailto:...")
        if "sp" in explicit and sp == "none" and policy != "none":
            reader.warning("sp", f"sp=none leaves subdomains unprotected although p={policy}")
        if effective["t"] == "y":
            reader.warning(
                "t", "t=y (testing): receivers apply one level below the policy; remove it when ready"
            )
    status = CheckStatus.FAIL if failed else (CheckStatus.WARN if reader.problems else CheckStatus.PASS)
    return DmarcRecordCheck(
        record=reader.record,
        status=status,
        policy=policy,
        tags=effective,
        explicit=frozenset(explicit),
        problems=tuple(reader.problems),
        rua=tuple(rua),
        ruf=tuple(ruf),
    )


# --- a sending domain's record in DNS -------------------------------------------------------------
def external_destinations(policy_domain: str, parsed: DmarcRecordCheck) -> list[tuple[ReportUri, str]]:
    """Report URIs outside the policy domain's organisation, each with its authorisation record name.

    RFC 7489 7.1: ``<policy domain>._report._dmarc.<destination host>`` must hold a ``v=DMARC1`` record.
    """
    org = organisational_domain(policy_domain)
    seen: dict[str, tuple[ReportUri, str]] = {}
    for uri in (*parsed.rua, *parsed.ruf):
        if organisational_domain(uri.host) != org and uri.host not in seen:
            seen[uri.host] = (uri, f"{normalise_name(policy_domain)}._report._dmarc.{uri.host}")
    return list(seen.values())


def _dmarc_lookup(domain: str, facts: DnsFacts) -> tuple[str, Fact]:
    """RFC 7489 6.6.3: the domain's own record, else the organisational domain's."""
    name = f"_dmarc.{normalise_name(domain)}"
    fact = facts.get(name, "TXT")
    org = organisational_domain(domain)
    if fact.void and org != normalise_name(domain):
        return f"_dmarc.{org}", facts.get(f"_dmarc.{org}", "TXT")
    return name, fact


def dmarc_questions(domain: str) -> list[tuple[str, str]]:
    d = normalise_name(domain)
    questions = [(f"_dmarc.{d}", "TXT")]
    if organisational_domain(d) != d:
        questions.append((f"_dmarc.{organisational_domain(d)}", "TXT"))
    return questions


def _dmarc_records(values: Sequence[str]) -> list[str]:
    # RFC 7489 6.6.3: records not starting with v=DMARC1 are discarded (compared without case, RFC 9989); one
    # with leading blanks is kept here so the reader can say why receivers will discard it.
    return [v for v in values if re.match(r"^\s*v\s*=\s*dmarc1\s*(;|$)", v, re.IGNORECASE)]


def check_dmarc(domain: str, facts: DnsFacts) -> Check:
    name, fact = _dmarc_lookup(domain, facts)
    org = organisational_domain(domain)
    start = f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{org}"'
    if not fact.usable:
        return Check(
            "dmarc",
            CheckStatus.UNKNOWN,
            f"The DMARC record at {name} could not be read ({fact.why_unusable}).",
        )
    records = _dmarc_records(fact.values)
    if not records:
        return Check(
            "dmarc",
            CheckStatus.FAIL,
            f"{domain} has no DMARC record; Gmail and Yahoo require one from bulk senders. Publish TXT at "
            f"_dmarc.{normalise_name(domain)}: {start}. p=none is the right start: read the reports, then tighten.",
            {"name": f"_dmarc.{normalise_name(domain)}"},
        )
    if len(records) > 1:
        return Check(
            "dmarc",
            CheckStatus.FAIL,
            f"{name} publishes {len(records)} DMARC records; receivers ignore all of them. Keep one.",
            {"name": name},
        )
    parsed = parse_dmarc_record(records[0])
    data: dict[str, Any] = {"name": name, "record": records[0], **parsed.as_dict()}
    if parsed.status == CheckStatus.FAIL:
        return Check(
            "dmarc",
            CheckStatus.FAIL,
            f"The DMARC record at {name} is invalid: " + "; ".join(parsed.errors) + ".",
            data,
        )
    policy_domain = name.removeprefix("_dmarc.")
    notes = list(parsed.warnings)
    unverified = []
    for uri, record_name in external_destinations(policy_domain, parsed):
        authorisation = facts.get(record_name, "TXT")
        if not authorisation.usable:
            return Check(
                "dmarc",
                CheckStatus.UNKNOWN,
                f"The report authorisation {record_name} could not be read ({authorisation.why_unusable}).",
                data,
            )
        if not _dmarc_records(authorisation.values):
            unverified.append(record_name)
            notes.append(
                f"reports to {uri.address} will not be sent: {uri.host} does not publish "
                f'"v=DMARC1" at {record_name} to accept reports for {policy_domain} (RFC 7489 7.1)'
            )
    data["unverified_destinations"] = unverified
    policy = parsed.policy or "none"
    policy_note = (
        "p=none (monitoring) is the right start; move to quarantine once reports show SPF or DKIM aligned for all your mail"
        if policy == "none"
        else f"p={policy} is enforced"
    )
    if notes:
        return Check(
            "dmarc",
            CheckStatus.WARN,
            f"DMARC for {domain} is published ({policy_note}), but " + "; ".join(notes) + ".",
            data,
        )
    return Check(
        "dmarc",
        CheckStatus.PASS,
        f"DMARC for {domain} is published with reports to {', '.join(parsed.tags['rua'])}; {policy_note}.",
        data,
    )
