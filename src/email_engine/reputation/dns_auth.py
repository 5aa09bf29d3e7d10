"""DNS authentication checks, pure: SPF (evaluated per RFC 7208), DKIM keys, DMARC, PTR, bounce MX, MTA-STS.

Every check reads a :class:`DnsFacts` snapshot and never does I/O. A check that needs a record
the snapshot lacks raises :class:`MissingFact`; the adapter (``auth_lookup.py``) fetches what is
missing and runs the checks again, so SPF's include chains are followed without I/O here.

Each check returns a :class:`Check`: ``pass``, ``fail``, ``warn`` or ``info`` (optional features)
with a sentence the operator can act on.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from email_engine.reputation.dnsbl import reverse_ip

__all__ = [
    "Check",
    "CheckStatus",
    "DnsFacts",
    "DomainReport",
    "Fact",
    "MissingFact",
    "NeedFacts",
    "SendingIpFacts",
    "SpfEvaluation",
    "check_bounce_mx",
    "check_dkim",
    "check_dmarc",
    "check_mta_sts",
    "check_ptr",
    "check_spf",
    "check_tls_rpt",
    "compliance",
    "evaluate_spf",
    "organisational_domain",
    "parse_tags",
    "validate_domain",
]

CheckStatus = Literal["pass", "fail", "warn", "info"]
FactKind = Literal["records", "nxdomain", "nodata", "timeout", "error"]
SpfResult = Literal["pass", "fail", "softfail", "neutral", "none", "permerror", "temperror"]

SPF_LOOKUP_LIMIT = 10
SPF_VOID_LIMIT = 2
SPF_MX_LIMIT = 10
MIN_RSA_BITS = 1024
RECOMMENDED_RSA_BITS = 2048


# --- facts ----------------------------------------------------------------------------------------
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


class MissingFact(Exception):
    def __init__(self, name: str, rdtype: str) -> None:
        super().__init__(f"{rdtype} {name}")
        self.name, self.rdtype = name, rdtype


class NeedFacts(Exception):
    def __init__(self, missing: Iterable[tuple[str, str]]) -> None:
        self.missing = sorted(set(missing))
        super().__init__(", ".join(f"{t} {n}" for n, t in self.missing))


def _key(name: str) -> str:
    return name.strip().lower().rstrip(".")


class DnsFacts:
    """A snapshot of DNS answers keyed by (name, type)."""

    def __init__(self, facts: dict[tuple[str, str], Fact] | None = None) -> None:
        self._facts: dict[tuple[str, str], Fact] = {}
        for (name, rdtype), fact in (facts or {}).items():
            self.put(name, rdtype, fact)

    def put(self, name: str, rdtype: str, fact: Fact) -> None:
        self._facts[(_key(name), rdtype.upper())] = fact

    def get(self, name: str, rdtype: str) -> Fact:
        try:
            return self._facts[(_key(name), rdtype.upper())]
        except KeyError:
            raise MissingFact(_key(name), rdtype.upper()) from None

    def __contains__(self, item: tuple[str, str]) -> bool:
        return (_key(item[0]), item[1].upper()) in self._facts

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


# --- SPF ------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SpfEvaluation:
    result: SpfResult
    reason: str
    record: str | None = None
    matched: str | None = None  # the term that decided, e.g. "ip4:192.0.2.0/24" or "+all"
    lookups: int = 0
    void_lookups: int = 0
    notes: tuple[str, ...] = ()
    pass_by_all: bool = False  # the pass came from a +all (at any include depth)


class _SpfPermError(Exception):
    pass


class _SpfTempError(Exception):
    pass


_MODIFIER = re.compile(r"^([a-z][a-z0-9_.-]*)=(.*)$", re.IGNORECASE)
_MECHANISM = re.compile(
    r"^([+\-~?]?)(all|include|a|mx|ptr|ip4|ip6|exists)(?::(.*?))?((?:/\d+)?(?://\d+)?)$", re.I
)
_MACRO = re.compile(r"%\{([slodiphcrtv])(\d*)(r?)([.\-+,/_=]*)\}", re.IGNORECASE)
_QUALIFIERS: dict[str, SpfResult] = {"+": "pass", "": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


def _spf_records(values: Sequence[str]) -> list[str]:
    return [v for v in values if v.lower() == "v=spf1" or v.lower().startswith("v=spf1 ")]


class _SpfRun:
    def __init__(self, ip: str, facts: DnsFacts) -> None:
        self.ip = ipaddress.ip_address(ip)
        self.facts = facts
        self.lookups = 0
        self.voids = 0
        self.notes: list[str] = []
        self.pass_by_all = False

    def count_lookup(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > SPF_LOOKUP_LIMIT:
            raise _SpfPermError(
                f"more than {SPF_LOOKUP_LIMIT} DNS lookups (reached at {term}); receivers stop with permerror. "
                "Flatten includes into ip4:/ip6: terms or drop includes you no longer use"
            )

    def fetch(self, name: str, rdtype: str) -> Fact:
        fact = self.facts.get(name, rdtype)
        if not fact.usable:
            raise _SpfTempError(f"{rdtype} lookup for {name} failed ({fact.detail or fact.kind})")
        return fact

    def fetch_counting_void(self, name: str, rdtype: str) -> Fact:
        fact = self.fetch(name, rdtype)
        if fact.void:
            self.voids += 1
            if self.voids > SPF_VOID_LIMIT:
                raise _SpfPermError(
                    f"more than {SPF_VOID_LIMIT} lookups returned nothing (last: {name}); remove terms "
                    "that point at names without records"
                )
        return fact

    def expand(self, text: str, domain: str) -> str:
        def one(match: re.Match[str]) -> str:
            letter, digits, reverse, delimiters = match.groups()
            letter = letter.lower()
            if letter == "i":
                value = _macro_ip(self.ip)
            elif letter in ("d", "o", "h"):
                value = domain
            elif letter == "s":
                value = f"postmaster@{domain}"
            elif letter == "l":
                value = "postmaster"
            elif letter == "v":
                value = "in-addr" if self.ip.version == 4 else "ip6"
            else:
                raise _SpfPermError(f"the %{{{letter}}} macro cannot be checked from DNS alone")
            parts = re.split("[" + re.escape(delimiters or ".") + "]", value)
            if reverse:
                parts.reverse()
            if digits:
                parts = parts[-int(digits) :] if int(digits) else parts
            return ".".join(parts)

        if "%" not in text:
            return text
        text = text.replace("%%", "\x00").replace("%_", " ").replace("%-", "%20")
        expanded = _MACRO.sub(one, text)
        if "%" in expanded.replace("%20", ""):
            raise _SpfPermError(f"malformed macro in {text!r}")
        return expanded.replace("\x00", "%")

    def matches_address(self, addresses: Iterable[str], cidr4: int, cidr6: int) -> bool:
        prefix = cidr4 if self.ip.version == 4 else cidr6
        for address in addresses:
            try:
                network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
            except ValueError:
                continue
            if network.version == self.ip.version and self.ip in network:
                return True
        return False

    def check_host(self, domain: str, depth: int = 0) -> tuple[SpfResult, str | None, str | None]:
        """(result, deciding term, record) for ``domain``; raises the two internal errors."""
        if depth > SPF_LOOKUP_LIMIT:
            raise _SpfPermError("include/redirect loop")
        fact = self.fetch(domain, "TXT")
        records = _spf_records(fact.values) if fact.kind == "records" else []
        if not records:
            return "none", None, None
        if len(records) > 1:
            raise _SpfPermError(f"{domain} publishes {len(records)} SPF records; merge them into one")
        record = records[0]
        redirect: str | None = None
        for term in record.split()[1:]:
            modifier = _MODIFIER.match(term)
            if modifier and not _MECHANISM.match(term):
                name, value = modifier.group(1).lower(), modifier.group(2)
                if name == "redirect":
                    if redirect is not None:
                        raise _SpfPermError(f"{domain} has more than one redirect=")
                    redirect = value
                continue  # exp= and unknown modifiers do not change the result
            mechanism = _MECHANISM.match(term)
            if mechanism is None:
                raise _SpfPermError(f"{domain}: {term!r} is not a valid SPF term")
            qualifier, name, argument, cidrs = mechanism.groups()
            name = name.lower()
            if self.evaluate_mechanism(domain, name, argument, cidrs, term, depth):
                if name == "all" and qualifier in ("", "+"):
                    self.pass_by_all = True  # possibly inside an include: still "anyone may send"
                return _QUALIFIERS[qualifier], term, record
        if redirect is not None:
            self.count_lookup(f"redirect={redirect}")
            target = self.expand(redirect, domain)
            result, decided_by, _ = self.check_host(target, depth + 1)
            if result == "none":
                raise _SpfPermError(f"redirect={target} points at a name without an SPF record")
            return result, decided_by, record
        return "neutral", None, record

    def evaluate_mechanism(  # noqa: PLR0917 - the parts of one parsed term
        self, domain: str, name: str, argument: str | None, cidrs: str, term: str, depth: int
    ) -> bool:
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            if not argument:
                raise _SpfPermError(f"{term} has no address")
            try:
                network = ipaddress.ip_network(
                    argument + (cidrs.split("//", maxsplit=1)[0] if cidrs else ""), strict=False
                )
            except ValueError:
                raise _SpfPermError(f"{term} is not a valid network") from None
            if (name == "ip4") != (network.version == 4):
                raise _SpfPermError(f"{term} mixes address families")
            return network.version == self.ip.version and self.ip in network
        if name == "include":
            if not argument:
                raise _SpfPermError("include: without a domain")
            self.count_lookup(term)
            result, _, _ = self.check_host(self.expand(argument, domain), depth + 1)
            if result == "none":
                raise _SpfPermError(f"{term} points at a name without an SPF record")
            if result == "temperror":  # pragma: no cover - raised, not returned
                raise _SpfTempError(term)
            return result == "pass"
        cidr4, cidr6 = _parse_cidrs(cidrs, term)
        target = self.expand(argument, domain) if argument else domain
        if name == "a":
            self.count_lookup(term)
            fact = self.fetch_counting_void(target, "A" if self.ip.version == 4 else "AAAA")
            return self.matches_address(fact.values, cidr4, cidr6)
        if name == "mx":
            self.count_lookup(term)
            fact = self.fetch_counting_void(target, "MX")
            hosts = [value.split()[-1] for value in fact.values if value.split()[-1] not in (".", "")]
            if len(hosts) > SPF_MX_LIMIT:
                raise _SpfPermError(f"{term}: {target} has more than {SPF_MX_LIMIT} MX hosts")
            for host in hosts:
                address_fact = self.fetch_counting_void(host, "A" if self.ip.version == 4 else "AAAA")
                if self.matches_address(address_fact.values, cidr4, cidr6):
                    return True
            return False
        if name == "exists":
            if not argument:
                raise _SpfPermError("exists: without a domain")
            self.count_lookup(term)
            return bool(self.fetch_counting_void(target, "A").values)
        # ptr: deprecated (RFC 7208 5.5); receivers may skip it, so it never authorises here.
        self.count_lookup(term)
        self.notes.append("the ptr mechanism is deprecated and slow; replace it with ip4:/ip6: terms")
        return False


def _macro_ip(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return str(ip) if ip.version == 4 else ".".join(ip.exploded.replace(":", ""))


def _parse_cidrs(cidrs: str, term: str) -> tuple[int, int]:
    cidr4, cidr6 = 32, 128
    if cidrs:
        v4, _, v6 = cidrs.partition("//")
        if v4:
            cidr4 = int(v4.lstrip("/"))
        if v6:
            cidr6 = int(v6)
        if cidr4 > 32 or cidr6 > 128:
            raise _SpfPermError(f"{term} has an impossible prefix length")
    return cidr4, cidr6


def evaluate_spf(domain: str, ip: str, facts: DnsFacts) -> SpfEvaluation:
    """RFC 7208 check_host() for ``ip`` sending as ``domain``. Raises MissingFact for the adapter."""
    run = _SpfRun(ip, facts)
    try:
        result, matched, record = run.check_host(_key(domain))
    except _SpfPermError as exc:
        return SpfEvaluation("permerror", str(exc), _top_record(domain, facts), None, run.lookups, run.voids)
    except _SpfTempError as exc:
        return SpfEvaluation("temperror", str(exc), None, None, run.lookups, run.voids)
    reason = {
        "none": f"{domain} publishes no SPF record",
        "neutral": "no term matched" if matched is None else f"matched {matched}",
    }.get(result, f"matched {matched}")
    return SpfEvaluation(
        result,
        reason,
        record,
        matched,
        run.lookups,
        run.voids,
        tuple(dict.fromkeys(run.notes)),
        pass_by_all=run.pass_by_all,
    )


def _top_record(domain: str, facts: DnsFacts) -> str | None:
    try:
        fact = facts.get(domain, "TXT")
    except MissingFact:
        return None
    records = _spf_records(fact.values)
    return records[0] if len(records) == 1 else None


def _dangerous_all(record: str | None) -> str | None:
    if not record:
        return None
    for term in record.split()[1:]:
        if term.lower() in ("all", "+all", "?all"):
            return "+all" if term.lower() == "all" else term.lower()
    return None


def check_spf(domain: str, ip: str, facts: DnsFacts) -> Check:
    ev = evaluate_spf(domain, ip, facts)
    name = f"spf:{ip}"
    data: dict[str, Any] = {
        "domain": domain,
        "ip": ip,
        "result": ev.result,
        "record": ev.record,
        "matched": ev.matched,
        "lookups": ev.lookups,
        "void_lookups": ev.void_lookups,
    }
    dangerous = _dangerous_all(ev.record)
    fix = f"add ip4:{ip}" if ":" not in ip else f"add ip6:{ip}"
    if ev.result == "temperror":
        return Check(
            name, "warn", f"SPF for {domain} could not be evaluated ({ev.reason}); check again later.", data
        )
    if ev.result == "none":
        return Check(
            name,
            "fail",
            f'{domain} has no SPF record; publish a TXT record "v=spf1 {fix.split()[1]} ~all".',
            data,
        )
    if ev.result == "permerror":
        return Check(name, "fail", f"SPF for {domain} is broken (permerror): {ev.reason}.", data)
    if ev.result == "pass" and ev.pass_by_all:
        via = (
            ev.matched
            if ev.matched and ev.matched.lower() in ("all", "+all")
            else f"{ev.matched}, which ends in +all"
        )
        return Check(
            name,
            "fail",
            f"SPF for {domain} passes {ip} only through {via}, which authorises every host on the "
            f"internet; {fix} and end the record with ~all or -all.",
            data,
        )
    if ev.result == "neutral" and ev.matched and ev.matched.lower() == "?all":
        return Check(
            name,
            "fail",
            f"{ip} is not authorised by SPF for {domain}: only ?all matched, which is neutral (no protection, "
            f"not a pass); {fix} and end the record with ~all or -all.",
            data,
        )
    if ev.result != "pass":
        return Check(
            name,
            "fail",
            f"SPF for {domain} does not authorise {ip} (result {ev.result}, {ev.reason}); {fix} to the record.",
            data,
        )
    notes = list(ev.notes)
    if dangerous:
        return Check(
            name,
            "fail" if dangerous == "+all" else "warn",
            f"SPF for {domain} authorises {ip} ({ev.matched}), but the record contains {dangerous}, which "
            "lets anyone else send as you; end it with ~all or -all.",
            data,
        )
    if ev.lookups > SPF_LOOKUP_LIMIT - 2:
        notes.append(f"{ev.lookups} of {SPF_LOOKUP_LIMIT} DNS lookups used; one more include may break SPF")
    if notes:
        return Check(
            name,
            "warn",
            f"SPF for {domain} authorises {ip} ({ev.matched}), but " + "; ".join(notes) + ".",
            data,
        )
    return Check(
        name,
        "pass",
        f"SPF for {domain} authorises {ip} ({ev.matched}; {ev.lookups}/{SPF_LOOKUP_LIMIT} lookups).",
        data,
    )


# --- DKIM -----------------------------------------------------------------------------------------
def parse_tags(text: str) -> dict[str, str]:
    """DKIM/DMARC tag lists: ``k=v; k=v``. Whitespace around tags is ignored; the last duplicate wins."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{part.strip()!r} is not a tag=value pair")
        tags[name.strip().lower()] = value.strip()
    return tags


def check_dkim(domain: str, selector: str | None, facts: DnsFacts) -> Check:
    if not selector:
        return Check(
            "dkim",
            "warn",
            f"No DKIM selector is set for {domain} in the inventory; set dkim_selector to the selector PowerMTA "
            "signs with so the key can be checked.",
        )
    name = f"{selector}._domainkey.{domain}"
    fact = facts.get(name, "TXT")
    data: dict[str, Any] = {"selector": selector, "name": name}
    if not fact.usable:
        return Check(
            "dkim",
            "warn",
            f"The DKIM key at {name} could not be read ({fact.detail or fact.kind}); check again later.",
            data,
        )
    records = [v for v in fact.values if "p=" in v.replace(" ", "") or v.lower().startswith("v=dkim1")]
    if not records:
        return Check(
            "dkim",
            "fail",
            f"No DKIM key is published at {name}; publish the public key for selector {selector} "
            "(v=DKIM1; k=rsa; p=...) that matches PowerMTA's domain-key.",
            data,
        )
    if len(set(records)) > 1:
        return Check("dkim", "fail", f"{name} publishes {len(records)} DKIM records; keep exactly one.", data)
    try:
        tags = parse_tags(records[0])
    except ValueError as exc:
        return Check("dkim", "fail", f"The DKIM record at {name} cannot be parsed: {exc}.", data)
    version = tags.get("v")
    if version is not None and version != "DKIM1":
        return Check("dkim", "fail", f"The DKIM record at {name} has v={version}; it must be v=DKIM1.", data)
    key_type = tags.get("k", "rsa").lower()
    data["key_type"] = key_type
    if "p" not in tags:
        return Check("dkim", "fail", f"The DKIM record at {name} has no p= tag (public key).", data)
    encoded = re.sub(r"\s+", "", tags["p"])
    if not encoded:
        return Check(
            "dkim",
            "fail",
            f"The DKIM key at {name} is revoked (empty p=); publish a new key or point PowerMTA at another selector.",
            data,
        )
    try:
        der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return Check("dkim", "fail", f"The p= value at {name} is not valid base64; re-publish the key.", data)
    testing = "y" in tags.get("t", "").lower().split(":")
    if key_type == "ed25519":
        if len(der) != 32:
            return Check(
                "dkim", "fail", f"The ed25519 key at {name} is {len(der)} bytes; it must be 32.", data
            )
        ed25519.Ed25519PublicKey.from_public_bytes(der)
        return Check(
            "dkim",
            "warn" if testing else "pass",
            f"DKIM ed25519 key at {name} is valid; many receivers also want an RSA signature, so keep an RSA selector."
            + (" t=y (testing) is set: remove it once signing works." if testing else ""),
            data,
        )
    if key_type != "rsa":
        return Check(
            "dkim", "fail", f"The DKIM record at {name} has k={key_type}; use k=rsa or k=ed25519.", data
        )
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        return Check(
            "dkim", "fail", f"The p= value at {name} is not an RSA public key; re-publish the key.", data
        )
    if not isinstance(key, rsa.RSAPublicKey):
        return Check("dkim", "fail", f"The key at {name} is not RSA although k=rsa; fix k= or the key.", data)
    bits = key.key_size
    data["bits"] = bits
    if bits < MIN_RSA_BITS:
        return Check(
            "dkim",
            "fail",
            f"The DKIM key at {name} is only {bits} bits; Gmail and others treat keys under {MIN_RSA_BITS} bits as "
            f"no signature. Generate a {RECOMMENDED_RSA_BITS}-bit key and publish it under a new selector.",
            data,
        )
    if bits < RECOMMENDED_RSA_BITS:
        return Check(
            "dkim",
            "warn",
            f"The DKIM key at {name} is {bits} bits: accepted, but {RECOMMENDED_RSA_BITS} bits is recommended; "
            "rotate to a 2048-bit key under a new selector.",
            data,
        )
    if testing:
        return Check(
            "dkim", "warn", f"DKIM key at {name} ({bits} bits) is in testing mode (t=y); remove t=y.", data
        )
    return Check("dkim", "pass", f"DKIM key at {name} is a valid {bits}-bit RSA key.", data)


# --- DMARC ----------------------------------------------------------------------------------------
def organisational_domain(domain: str) -> str:
    """The registrable domain, approximated by the last two labels (three for common two-level suffixes)."""
    labels = _key(domain).split(".")
    if (
        len(labels) >= 3
        and labels[-2] in {"co", "com", "net", "org", "ac", "gov", "edu"}
        and len(labels[-1]) == 2
    ):
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _dmarc_lookup(domain: str, facts: DnsFacts) -> tuple[str, Fact]:
    name = f"_dmarc.{_key(domain)}"
    fact = facts.get(name, "TXT")
    org = organisational_domain(domain)
    if fact.void and org != _key(domain):
        return f"_dmarc.{org}", facts.get(f"_dmarc.{org}", "TXT")
    return name, fact


def check_dmarc(domain: str, facts: DnsFacts) -> Check:
    name, fact = _dmarc_lookup(domain, facts)
    start = f'"v=DMARC1; p=none; rua=mailto:dmarc-reports@{organisational_domain(domain)}"'
    if not fact.usable:
        return Check(
            "dmarc", "warn", f"The DMARC record at {name} could not be read ({fact.detail or fact.kind})."
        )
    records = [v for v in fact.values if re.match(r"^v\s*=\s*DMARC1\s*(;|$)", v)]
    if not records:
        return Check(
            "dmarc",
            "fail",
            f"{domain} has no DMARC record; Gmail and Yahoo require one from bulk senders. Publish TXT at "
            f"_dmarc.{_key(domain)}: {start}. p=none is the right start: read the reports, then tighten.",
            {"name": f"_dmarc.{_key(domain)}"},
        )
    if len(records) > 1:
        return Check(
            "dmarc",
            "fail",
            f"{name} publishes {len(records)} DMARC records; receivers ignore all of them. Keep one.",
        )
    try:
        tags = parse_tags(records[0])
    except ValueError as exc:
        return Check("dmarc", "fail", f"The DMARC record at {name} cannot be parsed: {exc}.")
    policy = tags.get("p", "").lower()
    parsed: dict[str, Any] = {
        "name": name,
        "record": records[0],
        "p": policy,
        "sp": tags.get("sp", policy).lower(),
        "adkim": tags.get("adkim", "r").lower(),
        "aspf": tags.get("aspf", "r").lower(),
        "pct": tags.get("pct", "100"),
        "rua": [u.strip() for u in tags.get("rua", "").split(",") if u.strip()],
    }
    if policy not in ("none", "quarantine", "reject"):
        return Check(
            "dmarc",
            "fail",
            f"The DMARC record at {name} has no valid p= (none, quarantine or reject); without it the record is ignored.",
            parsed,
        )
    for tag in ("adkim", "aspf"):
        if parsed[tag] not in ("r", "s"):
            return Check(
                "dmarc", "fail", f"The DMARC record at {name} has {tag}={parsed[tag]}; use r or s.", parsed
            )
    if parsed["sp"] not in ("none", "quarantine", "reject"):
        return Check("dmarc", "fail", f"The DMARC record at {name} has an invalid sp={parsed['sp']}.", parsed)
    try:
        pct = int(parsed["pct"])
    except ValueError:
        pct = -1
    if not 0 <= pct <= 100:
        return Check(
            "dmarc",
            "fail",
            f"The DMARC record at {name} has pct={parsed['pct']}; it must be 0 to 100.",
            parsed,
        )
    parsed["pct"] = pct
    notes = []
    if not parsed["rua"]:
        notes.append("it has no rua= address, so you receive no aggregate reports; add rua=mailto:...")
    if pct < 100:
        notes.append(f"pct={pct} applies the policy to only part of the failing mail")
    policy_note = (
        "p=none (monitoring) is the right start; move to quarantine once reports show SPF or DKIM aligned for all your mail"
        if policy == "none"
        else f"p={policy} is enforced"
    )
    if notes:
        return Check(
            "dmarc",
            "warn",
            f"DMARC for {domain} is published ({policy_note}), but " + "; ".join(notes) + ".",
            parsed,
        )
    return Check(
        "dmarc",
        "pass",
        f"DMARC for {domain} is published with reports to {', '.join(parsed['rua'])}; {policy_note}.",
        parsed,
    )


# --- PTR, MX, MTA-STS, TLS-RPT --------------------------------------------------------------------
def _reverse_name(ip: str) -> str:
    suffix = "in-addr.arpa" if ipaddress.ip_address(ip).version == 4 else "ip6.arpa"
    return f"{reverse_ip(ip)}.{suffix}"


def check_ptr(ip: str, hostname: str | None, facts: DnsFacts) -> Check:
    name = f"ptr:{ip}"
    fact = facts.get(_reverse_name(ip), "PTR")
    data: dict[str, Any] = {"ip": ip, "hostname": hostname}
    if not fact.usable:
        return Check(
            name, "warn", f"The PTR record of {ip} could not be read ({fact.detail or fact.kind}).", data
        )
    if not fact.values:
        want = f" {hostname}" if hostname else " your VMTA hostname"
        return Check(
            name,
            "fail",
            f"{ip} has no PTR record; ask the provider of the IP to set its reverse DNS to{want}.",
            data,
        )
    ptr = _key(fact.values[0])
    data["ptr"] = ptr
    version = ipaddress.ip_address(ip).version
    forward = facts.get(ptr, "A" if version == 4 else "AAAA")
    if not forward.usable:
        return Check(
            name,
            "warn",
            f"The address of {ptr} (PTR of {ip}) could not be read ({forward.detail or forward.kind}).",
            data,
        )
    wanted = ipaddress.ip_address(ip)
    if not any(_same_ip(value, wanted) for value in forward.values):
        return Check(
            name,
            "fail",
            f"The PTR of {ip} is {ptr}, but {ptr} does not resolve back to {ip} (no forward confirmation); "
            f"add an {'A' if version == 4 else 'AAAA'} record {ptr} -> {ip}.",
            data,
        )
    notes = []
    if len(fact.values) > 1:
        notes.append(f"{ip} has {len(fact.values)} PTR records; keep exactly one")
    if hostname and ptr != _key(hostname):
        notes.append(
            f"it differs from the VMTA hostname {_key(hostname)} that PowerMTA greets with; make them equal"
        )
    if notes:
        return Check(
            name, "warn", f"The PTR of {ip} is {ptr} and resolves back, but " + "; ".join(notes) + ".", data
        )
    return Check(
        name, "pass", f"The PTR of {ip} is {ptr}, resolves back to {ip} and matches the VMTA hostname.", data
    )


def _same_ip(value: str, wanted: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(value) == wanted
    except ValueError:
        return False


def check_bounce_mx(domain: str, bounce_domain: str | None, facts: DnsFacts) -> Check:
    target = _key(bounce_domain or domain)
    fact = facts.get(target, "MX")
    data: dict[str, Any] = {"bounce_domain": target}
    if not fact.usable:
        return Check(
            "bounce_mx", "warn", f"The MX of {target} could not be read ({fact.detail or fact.kind}).", data
        )
    hosts = [value.split()[-1] for value in fact.values]
    data["mx"] = hosts
    if not hosts:
        return Check(
            "bounce_mx",
            "fail",
            f"The bounce domain {target} has no MX record, so bounces and complaints sent to it cannot arrive; "
            "publish an MX pointing at your bounce-processing server.",
            data,
        )
    if hosts in (["."], [""]):
        return Check(
            "bounce_mx",
            "fail",
            f"The bounce domain {target} publishes a null MX (accepts no mail); bounces are lost.",
            data,
        )
    note = "" if bounce_domain else f" (no bounce domain is set, so {target} itself was checked)"
    return Check(
        "bounce_mx",
        "pass",
        f"The bounce domain {target} receives mail via {', '.join(hosts)}{note}.",
        data,
    )


def _optional_txt(check: str, name: str, prefix: str, facts: DnsFacts, *, what: str, why: str) -> Check:
    fact = facts.get(name, "TXT")
    if not fact.usable:
        return Check(check, "info", f"{what} at {name} could not be read ({fact.detail or fact.kind}).")
    records = [v for v in fact.values if v.replace(" ", "").lower().startswith(prefix.lower())]
    if not records:
        return Check(check, "info", f"{what} is not published at {name} (optional: {why}).")
    return Check(check, "info", f"{what} is published at {name}: {records[0]}", {"record": records[0]})


def check_mta_sts(domain: str, facts: DnsFacts) -> Check:
    return _optional_txt(
        "mta_sts",
        f"_mta-sts.{_key(domain)}",
        "v=STSv1",
        facts,
        what="MTA-STS",
        why="it makes mail *to* this domain require TLS",
    )


def check_tls_rpt(domain: str, facts: DnsFacts) -> Check:
    return _optional_txt(
        "tls_rpt",
        f"_smtp._tls.{_key(domain)}",
        "v=TLSRPTv1",
        facts,
        what="TLS-RPT",
        why="it asks receivers to report TLS failures",
    )


# --- one domain, all checks -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class SendingIpFacts:
    address: str
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class DomainReport:
    domain: str
    status: CheckStatus
    checks: tuple[Check, ...]
    compliance: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "status": self.status,
            "checks": [c.as_dict() for c in self.checks],
            "compliance": self.compliance,
        }


def _worst(statuses: Iterable[CheckStatus]) -> CheckStatus:
    order = {"fail": 3, "warn": 2, "pass": 1, "info": 0}
    worst: CheckStatus = "pass"
    for status in statuses:
        if order[status] > order[worst]:
            worst = status
    return worst


def _aligned(from_domain: str, other: str, mode: str) -> bool:
    if mode == "s":
        return _key(from_domain) == _key(other)
    return organisational_domain(from_domain) == organisational_domain(other)


def compliance(domain: str, bounce_domain: str | None, checks: Sequence[Check]) -> dict[str, Any]:
    """Gmail/Yahoo bulk-sender requirements (2024) as far as DNS can show them."""
    by_prefix: dict[str, list[Check]] = {}
    for check in checks:
        by_prefix.setdefault(check.name.split(":")[0], []).append(check)
    spf = by_prefix.get("spf", [])
    dkim = by_prefix.get("dkim", [])
    dmarc = by_prefix.get("dmarc", [])
    ptr = by_prefix.get("ptr", [])

    def requirement(name: str, met: bool | None, sentence: str) -> dict[str, Any]:
        status = "met" if met else ("unknown" if met is None else "not_met")
        return {"name": name, "status": status, "sentence": sentence}

    def all_ok(group: list[Check], ok: tuple[str, ...]) -> bool | None:
        if not group:
            return None
        if any(c.status == "warn" and "could not be" in c.sentence for c in group):
            return None
        return all(c.status in ok for c in group)

    spf_met = all_ok(spf, ("pass", "warn"))
    if spf_met and any(c.data.get("result") != "pass" for c in spf):
        spf_met = False
    dkim_met = (
        None
        if not dkim
        else (dkim[0].data.get("bits", 0) >= MIN_RSA_BITS or dkim[0].data.get("key_type") == "ed25519")
        and dkim[0].status != "fail"
    )
    if dkim and "No DKIM selector" in dkim[0].sentence:
        dkim_met = None
    dmarc_met = all_ok(dmarc, ("pass", "warn"))
    aspf = dmarc[0].data.get("aspf", "r") if dmarc else "r"
    adkim = dmarc[0].data.get("adkim", "r") if dmarc else "r"
    spf_aligned = _aligned(domain, bounce_domain or domain, aspf)
    # The DKIM key is published under the sending domain itself, so d= is that domain: aligned.
    dkim_aligned = bool(dkim_met) and _aligned(domain, domain, adkim)
    aligned: bool | None = bool(dmarc_met) and ((bool(spf_met) and spf_aligned) or dkim_aligned)
    if dmarc_met is None:
        aligned = None
    ptr_met = all_ok(ptr, ("pass", "warn"))
    requirements = [
        requirement(
            "spf",
            spf_met,
            "SPF passes for every sending IP" if spf_met else "SPF must pass for every sending IP",
        ),
        requirement(
            "dkim",
            dkim_met,
            "DKIM key of at least 1024 bits published"
            if dkim_met
            else "a DKIM key of at least 1024 bits must be published",
        ),
        requirement(
            "dmarc",
            dmarc_met,
            "DMARC record published (p=none is enough)"
            if dmarc_met
            else "a DMARC record must be published (p=none is enough)",
        ),
        requirement(
            "alignment",
            aligned,
            f"DMARC alignment: DKIM d={domain} aligned={'yes' if dkim_aligned else 'no'}, SPF via "
            f"{bounce_domain or domain} aligned ({aspf})={'yes' if spf_aligned else 'no'}",
        ),
        requirement(
            "ptr",
            ptr_met,
            "every sending IP has forward-confirmed reverse DNS"
            if ptr_met
            else "every sending IP needs a PTR that resolves back to it",
        ),
        {
            "name": "one_click_unsubscribe",
            "status": "unverified",
            "sentence": "not verifiable from DNS — check MailWizz list headers (List-Unsubscribe with an https URL "
            "and List-Unsubscribe-Post: List-Unsubscribe=One-Click)",
        },
    ]
    statuses = [r["status"] for r in requirements if r["name"] != "one_click_unsubscribe"]
    overall = (
        "non_compliant"
        if "not_met" in statuses
        else ("unknown" if "unknown" in statuses else "dns_compliant")
    )
    return {"status": overall, "requirements": requirements}


def validate_domain(
    domain: str,
    *,
    dkim_selector: str | None,
    bounce_domain: str | None,
    ips: Sequence[SendingIpFacts],
    facts: DnsFacts,
) -> DomainReport:
    """Every check for one sending domain. Raises NeedFacts listing what the snapshot lacks."""
    missing: list[tuple[str, str]] = []
    checks: list[Check] = []
    spf_domain = _key(bounce_domain or domain)
    runs: list[Any] = [lambda ip=ip: check_spf(spf_domain, ip.address, facts) for ip in ips]
    runs += [
        lambda: check_dkim(_key(domain), dkim_selector, facts),
        lambda: check_dmarc(domain, facts),
    ]
    runs += [lambda ip=ip: check_ptr(ip.address, ip.hostname, facts) for ip in ips]
    runs += [
        lambda: check_bounce_mx(domain, bounce_domain, facts),
        lambda: check_mta_sts(domain, facts),
        lambda: check_tls_rpt(domain, facts),
    ]
    for run in runs:
        try:
            checks.append(run())
        except MissingFact as exc:
            missing.append((exc.name, exc.rdtype))
    if missing:
        raise NeedFacts(missing)
    if not ips:
        checks.insert(
            0,
            Check(
                "spf",
                "warn",
                f"No sending IPs are in the inventory, so SPF for {spf_domain} was not evaluated; add IPs or "
                "check one with --ip.",
            ),
        )
    status = _worst(c.status for c in checks)
    return DomainReport(_key(domain), status, tuple(checks), compliance(_key(domain), bounce_domain, checks))


def initial_questions(
    domain: str, *, dkim_selector: str | None, bounce_domain: str | None, ips: Sequence[SendingIpFacts]
) -> list[tuple[str, str]]:
    """The lookups every validation needs; asked together before the first pass."""
    d = _key(domain)
    questions = [
        (_key(bounce_domain or domain), "TXT"),
        (f"_dmarc.{d}", "TXT"),
        (_key(bounce_domain or domain), "MX"),
        (f"_mta-sts.{d}", "TXT"),
        (f"_smtp._tls.{d}", "TXT"),
    ]
    if organisational_domain(d) != d:
        questions.append((f"_dmarc.{organisational_domain(d)}", "TXT"))
    if dkim_selector:
        questions.append((f"{dkim_selector}._domainkey.{d}", "TXT"))
    questions += [(_reverse_name(ip.address), "PTR") for ip in ips]
    return questions
