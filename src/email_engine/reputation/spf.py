"""SPF (RFC 7208), pure: pyspf's ``check_host()`` evaluated over a :class:`DnsFacts` snapshot.

pyspf (https://github.com/sdgathman/pyspf) is the reference implementation: it agrees with 202 of the 203
tests of the RFC 7208 suite. It reads DNS through one module-level function, ``spf.DNSLookup`` — the seam its
own test driver (test/testspf.py) replaces. Ours answers from the snapshot bound to the current evaluation, so
pyspf never does I/O here: a record the snapshot lacks is noted and raised as :class:`MissingFact`, the
adapter (``auth_lookup.py``) fetches it through our resolver (``DNS_NAMESERVERS``, ``DNSBL_TIMEOUT``) and the
evaluation runs again. A lookup that timed out or failed is pyspf's ``TempError``: the result is
``temperror``, which the check reports as ``unknown``, never as a fail.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

with warnings.catch_warnings():
    # pyspf's docstrings hold invalid escape sequences ("\d"): compiling it without a cached .pyc warns
    # (DeprecationWarning, SyntaxWarning from Python 3.12), which warnings-as-errors would make fatal.
    warnings.simplefilter("ignore", DeprecationWarning)
    warnings.simplefilter("ignore", SyntaxWarning)
    import spf as pyspf  # type: ignore[import-untyped]

from email_engine.reputation.auth_facts import Check, CheckStatus, DnsFacts, MissingFact, normalise_name

__all__ = [
    "SPF_LOOKUP_LIMIT",
    "SpfEvaluation",
    "SpfResult",
    "check_spf",
    "evaluate_spf",
    "spf_records",
]

SpfResult = Literal["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"]
SPF_RESULTS: tuple[SpfResult, ...] = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
SPF_LOOKUP_LIMIT = pyspf.MAX_LOOKUP  # RFC 7208 4.6.4
#: What to do about pyspf's most common permanent errors (its wording, RFC 7208's limits).
_PERMERROR_FIXES = (
    (
        "too many dns lookups",
        f"more than {pyspf.MAX_LOOKUP} DNS lookups; flatten includes into ip4:/ip6: terms "
        "or drop includes you no longer use",
    ),
    (
        "void lookup limit",
        f"more than {pyspf.MAX_VOID_LOOKUPS} lookups returned nothing; remove terms that "
        "point at names without records",
    ),
    ("two or more type txt spf records", "merge the SPF records into one"),
)
_PTR_TERM = re.compile(r"(?:^|\s)[+\-~?]?ptr(?::|/|\s|$)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class SpfEvaluation:
    result: SpfResult
    #: pyspf's explanation: the domain's exp= text, or the standard one for the result (or the error).
    explanation: str
    #: The domain whose policy was evaluated: the envelope sender's, or the HELO name's when it was empty.
    domain: str
    record: str | None = None
    #: The term that decided at the top level, e.g. "ip4:192.0.2.0/24", "include:_spf.example.net", "-all".
    mechanism: str | None = None
    lookups: int = 0
    void_lookups: int = 0
    notes: tuple[str, ...] = ()
    #: The pass came from a +all, at the top or at the end of an include chain: anyone may send.
    pass_by_all: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The CLI contract (``email-engine spf check --json``): result, deciding mechanism, explanation."""
        return {"result": self.result, "mechanism": self.mechanism, "explanation": self.explanation}


# --- pyspf's DNS seam -----------------------------------------------------------------------------
class _FactReader:
    """Answers pyspf's DNS questions from a snapshot and remembers what the snapshot lacked."""

    def __init__(self, facts: DnsFacts) -> None:
        self.facts = facts
        self.missing: list[tuple[str, str]] = []

    def lookup(self, name: str, qtype: str) -> list[tuple[tuple[str, str], Any]]:
        try:
            fact = self.facts.get(name, qtype)
        except MissingFact as exc:
            # pyspf swallows every error while reading an exp= text, so the note is what counts.
            self.missing.append((exc.name, exc.rdtype))
            raise
        if not fact.usable:
            raise pyspf.TempError(f"DNS {qtype} lookup for {name} failed ({fact.why_unusable})")
        return [((name, qtype), _pyspf_value(qtype, value)) for value in fact.values]


def _pyspf_value(qtype: str, value: str) -> Any:
    """The shapes pyspf's own dnspython reader returns (spf.py: DNSLookup_dnspython)."""
    if qtype in ("TXT", "SPF"):
        return (value.encode("utf-8"),)
    if qtype == "MX":
        preference, _, host = value.partition(" ")
        return (int(preference), host)
    return value


_READER: ContextVar[_FactReader | None] = ContextVar("spf_fact_reader", default=None)
_PYSPF_DNS_LOOKUP = pyspf.DNSLookup


def _dns_lookup(name: str, qtype: str, strict: Any = True, timeout: Any = None) -> Any:
    reader = _READER.get()
    if reader is None:  # pyspf used outside evaluate_spf keeps its own resolver
        return _PYSPF_DNS_LOOKUP(name, qtype, strict, timeout)
    return reader.lookup(name, qtype)


pyspf.DNSLookup = _dns_lookup


def _run(facts: DnsFacts, query: Any, *, domain: str | None = None) -> tuple[str, str]:
    reader = _FactReader(facts)
    token = _READER.set(reader)
    try:
        if domain is not None:
            query.d = domain
        result, _code, explanation = query.check()
    finally:
        _READER.reset(token)
    if reader.missing:
        raise MissingFact(*reader.missing[0])
    return str(result), str(explanation)


# --- evaluation -----------------------------------------------------------------------------------
def spf_records(values: Sequence[str]) -> list[str]:
    """The TXT values that are SPF records (RFC 7208 4.5: "v=spf1" alone or followed by a space)."""
    return [v for v in values if v.lower() == "v=spf1" or v.lower().startswith("v=spf1 ")]


def evaluate_spf(
    ip: str,
    facts: DnsFacts,
    *,
    sender: str | None = None,
    helo: str | None = None,
    receiver: str | None = None,
) -> SpfEvaluation:
    """RFC 7208 ``check_host()`` for a client ``ip``, MAIL FROM ``sender`` and HELO ``helo``.

    With an empty sender the HELO name is checked as ``postmaster@<helo>`` (RFC 7208 2.3); a sender without
    a local part is ``postmaster@<domain>`` (4.3). Raises :class:`MissingFact` for the adapter.
    """
    if not sender and not helo:
        raise ValueError("evaluate_spf needs an envelope sender or a HELO name")
    query = pyspf.query(i=ip.strip(), s=(sender or "").strip(), h=(helo or "").strip(), receiver=receiver)
    result, explanation = _run(facts, query)
    if result not in SPF_RESULTS:  # pragma: no cover - pyspf's harsh mode only ("ambiguous")
        result = "permerror"
    domain = normalise_name(str(query.o))
    record = _top_record(domain, facts)
    mechanism = str(query.mechanism) if query.mechanism else None
    if result == "none" and not explanation:
        explanation = f"{domain} publishes no SPF record"
    notes = []
    if record and _PTR_TERM.search(record):
        notes.append(
            "the ptr mechanism is deprecated and slow (RFC 7208 5.5); replace it with ip4:/ip6: terms"
        )
    return SpfEvaluation(
        result=result,  # type: ignore[arg-type]
        explanation=explanation,
        domain=domain,
        record=record,
        mechanism=mechanism,
        lookups=int(query.lookups),
        void_lookups=int(query.void_lookups),
        notes=tuple(notes),
        pass_by_all=result == "pass" and _passes_by_all(ip, facts, mechanism, query, depth=0),
    )


def _passes_by_all(ip: str, facts: DnsFacts, mechanism: str | None, query: Any, *, depth: int) -> bool:
    """Whether a pass through ``mechanism`` is really "+all": directly, or at the end of an include chain."""
    if mechanism is None or depth > SPF_LOOKUP_LIMIT:
        return False
    term = mechanism.lower().lstrip("+")
    if term == "all":
        return True
    if not term.startswith("include:") or "%" in term:
        return False
    target = normalise_name(mechanism.split(":", 1)[1])
    inner = pyspf.query(i=ip, s=query.s, h=query.h)
    result, _ = _run(facts, inner, domain=target)
    inner_mechanism = str(inner.mechanism) if inner.mechanism else None
    return result == "pass" and _passes_by_all(ip, facts, inner_mechanism, inner, depth=depth + 1)


def _top_record(domain: str, facts: DnsFacts) -> str | None:
    try:
        fact = facts.get(domain, "TXT")
    except MissingFact:
        return None
    records = spf_records(fact.values)
    return records[0] if len(records) == 1 else None


# --- the check a sending domain gets --------------------------------------------------------------
def _dangerous_all(record: str | None) -> str | None:
    if not record:
        return None
    for term in record.split()[1:]:
        if term.lower() in ("all", "+all", "?all"):
            return "+all" if term.lower() == "all" else term.lower()
    return None


def check_spf(domain: str, ip: str, facts: DnsFacts, *, helo: str | None = None) -> Check:
    """Does SPF for the envelope domain ``domain`` authorise our ``ip``? (MAIL FROM postmaster@domain.)"""
    ev = evaluate_spf(ip, facts, sender=f"postmaster@{domain}", helo=helo or domain)
    name = f"spf:{ip}"
    data: dict[str, Any] = {
        "domain": domain,
        "ip": ip,
        "result": ev.result,
        "record": ev.record,
        "mechanism": ev.mechanism,
        "explanation": ev.explanation,
        "lookups": ev.lookups,
        "void_lookups": ev.void_lookups,
    }
    dangerous = _dangerous_all(ev.record)
    fix = f"add ip4:{ip}" if ":" not in ip else f"add ip6:{ip}"
    if ev.result == "temperror":
        return Check(
            name,
            CheckStatus.UNKNOWN,
            f"SPF for {domain} could not be evaluated ({ev.explanation}); check again later.",
            data,
        )
    if ev.result == "none":
        return Check(
            name,
            CheckStatus.FAIL,
            f'{domain} has no SPF record; publish a TXT record "v=spf1 {fix.split()[1]} ~all".',
            data,
        )
    if ev.result == "permerror":
        fixes = [fix for wording, fix in _PERMERROR_FIXES if wording in ev.explanation.lower()]
        fix_text = f" ({fixes[0]})" if fixes else ""
        return Check(
            name,
            CheckStatus.FAIL,
            f"SPF for {domain} is broken (permerror): {ev.explanation}{fix_text}.",
            data,
        )
    if ev.result == "pass" and ev.pass_by_all:
        via = (
            ev.mechanism
            if ev.mechanism and ev.mechanism.lower() in ("all", "+all")
            else f"{ev.mechanism}, which ends in +all"
        )
        return Check(
            name,
            CheckStatus.FAIL,
            f"SPF for {domain} passes {ip} only through {via}, which authorises every host on the "
            f"internet; {fix} and end the record with ~all or -all.",
            data,
        )
    if ev.result == "neutral" and ev.mechanism and ev.mechanism.lower() == "?all":
        return Check(
            name,
            CheckStatus.FAIL,
            f"{ip} is not authorised by SPF for {domain}: only ?all matched, which is neutral (no protection, "
            f"not a pass); {fix} and end the record with ~all or -all.",
            data,
        )
    if ev.result != "pass":
        decided = f"matched {ev.mechanism}" if ev.mechanism else "no term matched"
        return Check(
            name,
            CheckStatus.FAIL,
            f"SPF for {domain} does not authorise {ip} (result {ev.result}, {decided}); {fix} to the record.",
            data,
        )
    notes = list(ev.notes)
    if dangerous:
        return Check(
            name,
            CheckStatus.FAIL if dangerous == "+all" else CheckStatus.WARN,
            f"SPF for {domain} authorises {ip} ({ev.mechanism}), but the record contains {dangerous}, which "
            "lets anyone else send as you; end it with ~all or -all.",
            data,
        )
    if ev.lookups > SPF_LOOKUP_LIMIT - 2:
        notes.append(f"{ev.lookups} of {SPF_LOOKUP_LIMIT} DNS lookups used; one more include may break SPF")
    if notes:
        return Check(
            name,
            CheckStatus.WARN,
            f"SPF for {domain} authorises {ip} ({ev.mechanism}), but " + "; ".join(notes) + ".",
            data,
        )
    return Check(
        name,
        CheckStatus.PASS,
        f"SPF for {domain} authorises {ip} ({ev.mechanism}; {ev.lookups}/{SPF_LOOKUP_LIMIT} lookups).",
        data,
    )
