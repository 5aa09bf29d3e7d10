"""Reading DNSBL answers (RFC 5782), pure: zone catalogue, query names and the meaning of an answer.

A DNSBL lists an IP (or a domain) by answering an A query for ``<reversed ip>.<zone>`` with an
address in 127.0.0.0/8; NXDOMAIN means "not listed". Everything else needs care, because the
reference deployment got it wrong:

- 127.0.0.2 and up: listed, with the list's own meaning per code;
- list-specific error answers (SURBL 127.0.0.1: blocked) are errors, never a listing; answers in
  127.255.255.0/24 (Spamhaus: 252 typing error, 254 public resolver, 255 too many queries) are errors for
  EVERY zone unless the zone's own table gives the code a meaning: mirrors, resellers and DQS names
  configured as custom zones answer them too;
- 127.0.0.1 is reserved by RFC 5782 and never a listing;
- any answer outside 127/8 comes from a resolver that rewrites NXDOMAIN (ads, "search" pages):
  an error, because every query through it would look listed;
- a timeout is "unknown", never "clean";
- a zone that fails its RFC 5782 test points (section 5: IPv4 lists MUST list 127.0.0.2 and MUST NOT list
  127.0.0.1; domain lists MUST list "test" and MUST NOT list "invalid") cannot see for that run: a resolver
  that answers NXDOMAIN for everything (or rewrites answers) would otherwise make every IP look clean, so its
  "clean" and "listed" answers become "unknown" with the reason and the fix (:func:`read_zone_health`).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import yaml

from email_engine.errors import ConfigurationError, InvalidInput

__all__ = [
    "RESOLVER_FIX",
    "DnsAnswer",
    "Zone",
    "ZoneHealth",
    "ZoneResult",
    "ZoneStatus",
    "catalogue",
    "custom_zone",
    "default_zone_names",
    "query_name",
    "read_dnsbl_answer",
    "read_zone_health",
    "resolve_zone_names",
    "reverse_ip",
    "target_kind",
    "trust_answer",
    "zone_test_points",
]

ZoneStatus = Literal["listed", "clean", "error", "unknown"]
ZoneKind = Literal["ip", "domain"]
TargetKind = Literal["ipv4", "ipv6", "domain"]

_LOOPBACK_NET = ipaddress.IPv4Network("127.0.0.0/8")
#: Spamhaus's error answers ("Using our public mirrors? Check your return codes now", 2019 and 2022; DQS
#: documentation), read as errors for every zone whose own table does not name the code.
_ERROR_NET = ipaddress.IPv4Network("127.255.255.0/24")
_ERRORS_EVERYWHERE = {
    "127.255.255.252": "query refused: typing error in the DNSBL zone name",
    "127.255.255.254": "query refused: public or unattributable resolver (the list refuses queries through "
    "it; use your own recursive resolver such as unbound, or the list's key-based service)",
    "127.255.255.255": "query refused: excessive number of queries from this resolver",
}
#: What an operator does about a zone that fails its test points.
RESOLVER_FIX = (
    "your resolver rewrites or blocks DNSBL queries — use a local recursive resolver such as unbound "
    "(DNS_NAMESERVERS) and check again"
)
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
MAX_ZONES = 64


@dataclass(frozen=True, slots=True)
class Zone:
    """One DNSBL. ``name`` is how operators select it and how results are stored (never the DQS key)."""

    name: str
    kind: ZoneKind
    major: bool
    label: str = ""
    ipv6: bool = False
    dqs: str | None = None
    delist: str | None = None
    codes: Mapping[str, str] = field(default_factory=dict)
    clean_codes: Mapping[str, str] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    error_range: str | None = None
    bitmask: Mapping[int, str] = field(default_factory=dict)
    custom: bool = False
    #: RFC 5782 section 5 test points for a domain list, when the list documents others than "test"/"invalid".
    test_listed: str = "test"
    test_unlisted: str = "invalid"


@dataclass(frozen=True, slots=True)
class DnsAnswer:
    """What the resolver said: A addresses, NXDOMAIN (or no A record), a timeout, or another failure."""

    kind: Literal["addresses", "nxdomain", "timeout", "error"]
    addresses: tuple[str, ...] = ()
    detail: str = ""

    @classmethod
    def listed(cls, *addresses: str) -> DnsAnswer:
        return cls("addresses", tuple(addresses))

    @classmethod
    def nxdomain(cls) -> DnsAnswer:
        return cls("nxdomain")

    @classmethod
    def timeout(cls, detail: str = "") -> DnsAnswer:
        return cls("timeout", detail=detail)

    @classmethod
    def error(cls, detail: str) -> DnsAnswer:
        return cls("error", detail=detail)


@dataclass(frozen=True, slots=True)
class ZoneResult:
    zone: str
    status: ZoneStatus
    codes: tuple[str, ...] = ()
    meaning: str = ""
    #: False when the zone failed its RFC 5782 test points in this run (its answers are not trusted).
    zone_usable: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "status": self.status,
            "codes": list(self.codes),
            "meaning": self.meaning,
            "zone_usable": self.zone_usable,
        }


@dataclass(frozen=True, slots=True)
class ZoneHealth:
    """Whether a zone passed its RFC 5782 test points in this run, and if not why (with the fix)."""

    zone: str
    usable: bool
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"zone": self.zone, "usable": self.usable, "reason": self.reason}


# --- catalogue ------------------------------------------------------------------------------------
def _zone_from_yaml(name: str, data: Mapping[str, Any]) -> Zone:
    kind = data.get("kind")
    if kind not in ("ip", "domain"):
        raise ConfigurationError(f"Zone {name} in zones.yaml needs kind: ip or kind: domain.")
    return Zone(
        name=name,
        kind=kind,
        major=bool(data.get("major", False)),
        label=str(data.get("label", name)),
        ipv6=bool(data.get("ipv6", False)),
        dqs=data.get("dqs"),
        delist=data.get("delist"),
        codes={str(k): str(v) for k, v in (data.get("codes") or {}).items()},
        clean_codes={str(k): str(v) for k, v in (data.get("clean_codes") or {}).items()},
        errors={str(k): str(v) for k, v in (data.get("errors") or {}).items()},
        error_range=data.get("error_range"),
        bitmask={int(k): str(v) for k, v in (data.get("bitmask") or {}).items()},
        test_listed=str(data.get("test_listed", "test")),
        test_unlisted=str(data.get("test_unlisted", "invalid")),
    )


@lru_cache(maxsize=1)
def catalogue() -> dict[str, Zone]:
    """The built-in zones (reputation/zones.yaml), keyed by zone name."""
    text = resources.files("email_engine.reputation").joinpath("zones.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    return {name: _zone_from_yaml(name, spec) for name, spec in data["zones"].items()}


def default_zone_names() -> list[str]:
    return list(catalogue())


def _check_zone_name(name: str) -> str:
    cleaned = name.strip().lower().rstrip(".")
    labels = cleaned.split(".")
    if len(cleaned) > 200 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidInput(
            f"{name!r} is not a DNS zone name; use a catalogue name such as zen.spamhaus.org or a "
            "custom zone such as rbl.example.org (prefix domain: for a domain list)."
        )
    return cleaned


def custom_zone(entry: str) -> Zone:
    """A zone the catalogue does not know: ``rbl.example.org`` (IP list) or ``domain:dbl.example.org``.

    Custom zones are minor, IPv4 only, and read with plain RFC 5782 semantics.
    """
    kind: ZoneKind = "ip"
    text = entry.strip()
    if text.lower().startswith("domain:"):
        kind, text = "domain", text[len("domain:") :]
    elif text.lower().startswith("ip:"):
        text = text[len("ip:") :]
    name = _check_zone_name(text)
    return Zone(name=name, kind=kind, major=False, label=name, custom=True)


def resolve_zone_names(entries: Iterable[str]) -> list[Zone]:
    """Turn an operator's selection into zones; unknown names become custom zones. Raises InvalidInput."""
    known = catalogue()
    zones: list[Zone] = []
    seen: set[str] = set()
    for entry in entries:
        if not entry.strip():
            continue
        bare = entry.strip().lower().rstrip(".")
        zone = known.get(bare) or custom_zone(entry)
        if zone.name in seen:
            continue
        seen.add(zone.name)
        zones.append(zone)
    if not zones:
        raise InvalidInput("Select at least one DNSBL zone.")
    if len(zones) > MAX_ZONES:
        raise InvalidInput(f"At most {MAX_ZONES} DNSBL zones may be selected; {len(zones)} were given.")
    return zones


# --- query names ----------------------------------------------------------------------------------
def target_kind(target: str) -> TargetKind:
    """Classify what is being checked. Raises InvalidInput for something that is neither."""
    try:
        address = ipaddress.ip_address(target.strip())
    except ValueError:
        name = target.strip().lower().rstrip(".")
        labels = name.split(".")
        if (
            len(name) > 253
            or len(labels) < 2
            or labels[-1].isdigit()  # a top-level domain is never numeric: a mistyped address
            or not all(_LABEL.match(label) for label in labels)
        ):
            raise InvalidInput(f"{target!r} is neither an IP address nor a domain name.") from None
        return "domain"
    return "ipv4" if address.version == 4 else "ipv6"


def reverse_ip(address: str) -> str:
    """``192.0.2.1`` → ``1.2.0.192``; IPv6 → the 32 nibbles of the full address, reversed."""
    ip = ipaddress.ip_address(address.strip())
    if ip.version == 4:
        return ".".join(reversed(str(ip).split(".")))
    return ".".join(reversed(ip.exploded.replace(":", "")))


def zone_host(zone: Zone, *, dqs_key: str | None = None) -> str:
    """The zone actually queried: ``<key>.zen.dq.spamhaus.net`` with a DQS key, else the public zone."""
    if dqs_key and zone.dqs:
        return f"{dqs_key}.{zone.dqs}"
    return zone.name


def query_name(zone: Zone, target: str, *, dqs_key: str | None = None) -> str | None:
    """The A query for ``target`` on ``zone``, or None when the zone cannot list that kind of target."""
    kind = target_kind(target)
    host = zone_host(zone, dqs_key=dqs_key)
    if kind == "domain":
        if zone.kind != "domain":
            return None
        return f"{target.strip().lower().rstrip('.')}.{host}"
    if zone.kind != "ip" or (kind == "ipv6" and not zone.ipv6):
        return None
    return f"{reverse_ip(target)}.{host}"


# --- answers --------------------------------------------------------------------------------------
def _in_range(code: str, cidr: str | None) -> bool:
    if not cidr:
        return False
    return ipaddress.IPv4Address(code) in ipaddress.IPv4Network(cidr)


def _bitmask_meaning(zone: Zone, code: str) -> str | None:
    last = int(code.rsplit(".", 1)[1])
    parts = [text for bit, text in sorted(zone.bitmask.items()) if last & bit]
    return "; ".join(parts) if parts else None


def read_dnsbl_answer(zone: Zone, answer: DnsAnswer) -> ZoneResult:
    """What an answer means for ``zone``: listed, clean, error (with the reason) or unknown."""
    if answer.kind == "nxdomain":
        return ZoneResult(zone.name, "clean")
    if answer.kind == "timeout":
        detail = f" ({answer.detail})" if answer.detail else ""
        return ZoneResult(
            zone.name,
            "unknown",
            meaning=f"no answer in time{detail}; the listing status is unknown, not clean",
        )
    if answer.kind == "error":
        return ZoneResult(zone.name, "error", meaning=f"lookup failed: {answer.detail or 'DNS error'}")
    codes = tuple(sorted(set(answer.addresses), key=_sort_key))
    if not codes:
        return ZoneResult(zone.name, "clean")
    errors: list[str] = []
    listed: list[str] = []
    clean: list[str] = []
    for code in codes:
        try:
            ip = ipaddress.ip_address(code)
        except ValueError:
            errors.append(f"{code} is not an IPv4 address")
            continue
        if ip.version != 4 or ip not in _LOOPBACK_NET:
            errors.append(
                f"answer {code} is outside 127.0.0.0/8: the resolver rewrites NXDOMAIN answers "
                "(use a resolver that does not, e.g. a local unbound)"
            )
        elif code in zone.errors:
            errors.append(zone.errors[code])
        elif _in_range(code, zone.error_range):
            errors.append(f"query refused by {zone.label or zone.name} (error code {code})")
        elif ip in _ERROR_NET and code not in zone.codes and code not in zone.clean_codes:
            errors.append(_ERRORS_EVERYWHERE.get(code, f"query refused (error code {code})"))
        elif code == "127.0.0.1":
            errors.append(
                "answer 127.0.0.1 is reserved by RFC 5782 and never a listing; the list may be blocking queries"
            )
        elif code in zone.clean_codes:
            clean.append(zone.clean_codes[code])
        else:
            listed.append(code)
    if errors:
        return ZoneResult(zone.name, "error", codes, "; ".join(dict.fromkeys(errors)))
    if not listed:
        return ZoneResult(zone.name, "clean", codes, "; ".join(clean))
    meanings = []
    for code in listed:
        meaning = zone.codes.get(code) or (_bitmask_meaning(zone, code) if zone.bitmask else None)
        meanings.append(meaning or f"listed on {zone.label or zone.name} (code {code})")
    return ZoneResult(zone.name, "listed", tuple(listed), "; ".join(dict.fromkeys(meanings)))


def _sort_key(code: str) -> tuple[int, str]:
    try:
        return (int(ipaddress.ip_address(code)), code)
    except ValueError:
        return (-1, code)


# --- zone health (RFC 5782 section 5 test points) ---------------------------------------------------
def zone_test_points(zone: Zone) -> tuple[str, str]:
    """The names (below the zone) that must be listed and must not be: 127.0.0.2 / 127.0.0.1 for IP lists."""
    if zone.kind == "ip":
        return reverse_ip("127.0.0.2"), reverse_ip("127.0.0.1")
    return zone.test_listed, zone.test_unlisted


def read_zone_health(zone: Zone, listed: DnsAnswer, unlisted: DnsAnswer) -> ZoneHealth:
    """The zone can see when its listed test point is listed and its unlisted one is not."""
    must, must_not = ("127.0.0.2", "127.0.0.1") if zone.kind == "ip" else zone_test_points(zone)
    first = read_dnsbl_answer(zone, listed)
    if first.status != "listed":
        said = {
            "clean": "was not listed (NXDOMAIN)",
            "error": f"gave an error ({first.meaning})",
            "unknown": "got no answer in time",
        }[first.status]
        return ZoneHealth(
            zone.name,
            False,
            f"{zone.name} failed its RFC 5782 test point: {must}, which it must always list, {said}; "
            + RESOLVER_FIX,
        )
    second = read_dnsbl_answer(zone, unlisted)
    if second.status != "clean":
        said = (
            "got no answer in time"
            if second.status == "unknown"
            else f"was answered ({second.meaning or 'listed'})"
        )
        return ZoneHealth(
            zone.name,
            False,
            f"{zone.name} failed its RFC 5782 test point: {must_not}, which it must never list, {said}; "
            + RESOLVER_FIX,
        )
    return ZoneHealth(zone.name, True)


def trust_answer(result: ZoneResult, health: ZoneHealth) -> ZoneResult:
    """A zone that failed its test points cannot say clean or listed this run: that becomes "unknown".

    An error answer stays an error (it says more than the health does).
    """
    if health.usable:
        return result
    if result.status in ("listed", "clean"):
        return ZoneResult(result.zone, "unknown", result.codes, health.reason, zone_usable=False)
    return ZoneResult(
        result.zone, result.status, result.codes, f"{result.meaning}; {health.reason}", zone_usable=False
    )
