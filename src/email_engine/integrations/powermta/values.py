"""The value forms of PowerMTA's directives (pure): one validator per form named in ``reference.yaml``.

Each form follows the guide's syntax definitions (§3.2: BOOLEAN, DOMAIN pattern, REGEX,
TIME-INTERVAL) or the ``Syntax:`` line of the directive that uses it (cited beside each form).
:func:`check_value` returns ``None`` for a good value and otherwise a sentence saying what was
expected. Rates are read by :mod:`rates`; the accounting record types and their fields are in
:mod:`record_fields`.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Mapping
from typing import Final

from email_engine.integrations.powermta.rates import rate_per_hour
from email_engine.integrations.powermta.record_fields import (
    field_allowed,
    fields_section,
    is_field,
    record_type,
)

__all__ = ["FORMS", "check_value", "is_cidr", "split_list"]

# §3.3.10.37: { unlimited | 0 | N [{b|k|m|g|t}] /[X]{d|day|h|hr|m|min|s|sec} }
_DATA_RATE: Final = re.compile(r"[0-9]+[bBkKmMgGtT]?/([1-9][0-9]*)?(d|day|h|hr|m|min|s|sec)")
# §3.2: "a string like 1w2d12h or 300s"
_INTERVAL: Final = re.compile(r"(?:[0-9]+[wdhms])+")
_SIZE: Final = re.compile(r"[0-9]+[bBkKmMgGtT]?")
_NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_MACRO_NAME: Final = re.compile(r"[A-Za-z0-9_]+")  # §3.3.1.33.4
_HOST: Final = re.compile(r"[^\s,;<>\"'/\\]+")
_DOMAIN_PATTERN: Final = re.compile(
    r"\*|(?:\[\*\.\]|\*\.)?[^\s,;<>\"'/\\*\[\]]+|\[[0-9a-fA-F.:]+(?:/[0-9]{1,3})?\]"
)
_EMAIL: Final = re.compile(r"[^\s@,<>\"]+@[^\s@,<>\"]+")
_REGEX: Final = re.compile(r"/(?:[^/\\]|\\.)*/")
_PATH: Final = re.compile(r"\"[^\"]+\"|[^\s\"]+")
_URL: Final = re.compile(r"https?://[^\s]+")


# §3.3.15: the actions of a reply pattern.
_REPLY_ACTIONS: Final = frozenset(
    {
        "mode=normal",
        "mode=backoff",
        "skip-mx",
        "bounce-queue",
        "bounce-rcpt",
        "disable-source-ip",
        "defer-queue",
    }
)


def split_list(text: str) -> list[str]:
    """A comma-separated list with optional blanks after the commas (``records d, b``)."""
    return [part.strip() for part in text.split(",")]


def is_cidr(text: str) -> bool:
    """An IP address or CIDR range; PowerMTA also writes short IPv4 ranges (``10/8``, ``0/0``)."""
    value = text.strip()
    address, _, mask = value.partition("/")
    if "." not in address and ":" not in address and address.isdigit():
        address = ".".join([address, "0", "0", "0"])
    elif ":" not in address and address.count(".") < 3 and mask:
        address = ".".join(address.split(".") + ["0"] * (3 - address.count(".")))
    try:
        ipaddress.ip_network(f"{address}/{mask}" if mask else address, strict=False)
    except ValueError:
        return False
    return True


def _words(text: str) -> list[str]:
    return text.split()


def _unquoted(text: str) -> str:
    value = text.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else value


def _ok_if(condition: bool, expected: str) -> str | None:
    return None if condition else f"expected {expected}"


def _boolean(text: str) -> str | None:
    return _ok_if(text.lower() in ("yes", "no", "true", "false"), "yes, no, true or false (§3.2 BOOLEAN)")


def _rate(text: str) -> str | None:
    try:
        rate_per_hour(text)
    except ValueError:
        return "expected unlimited, 0 or N/[M]{d|h|m|s} such as 50/h, 1/m or 100/15m (§3.3.10.33)"
    return None


def _data_rate(text: str) -> str | None:
    return _ok_if(
        text in ("unlimited", "0") or bool(_DATA_RATE.fullmatch(text)),
        "unlimited, 0 or N[b|k|m|g|t]/[X]{d|h|m|s} such as 1024K/15s (§3.3.10.37)",
    )


def _interval(text: str) -> str | None:
    return _ok_if(
        bool(_INTERVAL.fullmatch(text)), "a time interval like 20m, 1h or 4d12h (§3.2 TIME-INTERVAL)"
    )


def _interval_or(*extra: str) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        return None if text in extra else _interval(text)

    return check


def _interval_list(text: str) -> str | None:
    parts = split_list(text)
    if len(parts) > 30:
        return "expected at most 30 intervals (§10.15)"
    bad = next((part for part in parts if not _INTERVAL.fullmatch(part)), None)
    return None if bad is None else f"{bad!r} is not a time interval like 10m (§3.2, §10.15)"


def _integer(text: str) -> str | None:
    return _ok_if(text.isdigit(), "a whole number")


def _integer_or(*extra: str) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        return None if text in extra else _integer(text)

    return check


def _port(text: str) -> str | None:
    return _ok_if(text.isdigit() and 0 < int(text) < 65536, "a TCP port (1-65535)")


def _size_or(*extra: str) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        return _ok_if(text in extra or bool(_SIZE.fullmatch(text)), "a size such as 250M or 1G")

    return check


def _email(text: str) -> str | None:
    return _ok_if(bool(_EMAIL.fullmatch(text)), "an email address")


def _email_list(text: str) -> str | None:
    return _ok_if(all(_EMAIL.fullmatch(part) for part in split_list(text)), "comma-separated email addresses")


def _email_or_regex(text: str) -> str | None:
    # §3.3.5.1 / §10.16: an address, a local part, or a /regex/
    return _ok_if(
        bool(_REGEX.fullmatch(text) or _HOST.fullmatch(text)), "an address, a local part or a /regex/"
    )


def _domain(text: str) -> str | None:
    return _ok_if(bool(_HOST.fullmatch(text)), "a domain name")


def _domain_pattern(text: str) -> str | None:
    return _ok_if(bool(_DOMAIN_PATTERN.fullmatch(text)), "a domain pattern: *, name, *.name, [*.]name (§3.2)")


def _ip(text: str) -> str | None:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return "expected an IP address"
    return None


def _url(text: str) -> str | None:
    return _ok_if(bool(_URL.fullmatch(text)), "an http:// or https:// URL")


def _path(text: str) -> str | None:
    return _ok_if(bool(_PATH.fullmatch(text)), "a file or directory name (quoted if it holds blanks)")


def _path_pair(text: str) -> str | None:
    words = _words(text)
    return _ok_if(len(words) == 2, "two directory names (§3.3.1.34.1)")


def _path_and_secret(text: str) -> str | None:
    return _ok_if(1 <= len(_words(text)) <= 2, "FILENAME [PASSWORD]")


def _name(text: str) -> str | None:
    return _ok_if(bool(_NAME.fullmatch(text)), "a name (letters, digits, '.', '-', '_')")


def _name_list(text: str) -> str | None:
    return _ok_if(all(_NAME.fullmatch(part) for part in split_list(text)), "comma-separated names")


def _source_name(text: str) -> str | None:
    return _ok_if(bool(_NAME.fullmatch(text) or re.fullmatch(r"\{[a-z]+\}", text)), "a <source> name")


def _vmta_or_by_ip(text: str) -> str | None:
    return _name(text)  # by-smtp-source-ip is a name too (§3.3.7.29)


def _queue_name(text: str) -> str | None:
    value = _unquoted(text)
    return None if value == "" else _domain(value)


def _listener(text: str) -> str | None:
    # §3.3.1.20: CIDR:PORT [source=SOURCE-NAME]
    words = _words(text)
    if not words or len(words) > 2:
        return "expected CIDR:PORT [source=NAME] (§3.3.1.20)"
    address, _, port = words[0].rpartition(":")
    if ":" in address or not is_cidr(address) or _port(port) is not None:
        return "expected an IPv4 address or range and a port, such as 0.0.0.0:25 (§3.3.1.20)"
    if len(words) == 2 and not (words[1].startswith("source=") and _NAME.fullmatch(words[1][7:])):
        return "expected source=NAME after the address (§3.3.1.20)"
    return None


def _http_access(text: str) -> str | None:
    words = _words(text)
    levels = {"monitor", "monitor,deny-logs", "operator", "admin", "none"}
    return _ok_if(
        len(words) == 2 and is_cidr(words[0]) and words[1] in levels,
        "CIDR { monitor[,deny-logs] | operator | admin | none } (§3.3.1.36.3)",
    )


def _smtp_source_host(text: str) -> str | None:
    words = _words(text)
    return _ok_if(
        len(words) == 2 and is_cidr(words[0]) and bool(_HOST.fullmatch(words[1])),
        "an IP address (or CIDR range) and a host name (§3.3.1.16)",
    )


def _domain_key(text: str) -> str | None:
    parts = text.split(",")
    return _ok_if(
        len(parts) == 3 and all(part.strip() for part in parts) and " " not in text.strip(),
        "SELECTOR,{DOMAIN|*},FILENAME (§3.3.1.33.1)",
    )


def _domain_macro(text: str) -> str | None:
    words = text.split(None, 1)
    if len(words) != 2:
        return "expected MACRO-NAME DOMAIN-LIST (§3.3.1.33.4)"
    if not _MACRO_NAME.fullmatch(words[0]):
        return f"macro name {words[0]!r} may hold only letters, digits and the underscore (§3.3.1.33.4)"
    bad = [part for part in split_list(words[1]) if not part or " " in part]
    return None if not bad else "expected a comma-separated domain list (§3.3.1.33.4)"


def _smtp_hosts(text: str) -> str | None:
    # §3.3.10.89: hosts separated by ',' (same preference) and ';' (next level); [ip], host:port,
    # lookup-mx:DOMAIN, or "" to clear.
    if _unquoted(text) == "":
        return None
    hosts = [host.strip() for level in text.split(";") for host in level.split(",")]
    for host in hosts:
        name = host[len("lookup-mx:") :] if host.startswith("lookup-mx:") else host
        if not re.fullmatch(r"(?:\[[^\]\s]+\]|[^\s\[\]:;,]+)(?::[0-9]{1,5})?", name):
            return f"{host!r} is not a host, [address] or lookup-mx:DOMAIN (§3.3.10.89)"
    return None


def _record_types(text: str) -> str | None:
    bad = [part for part in split_list(text) if record_type(part) is None]
    return (
        None
        if not bad
        else f"unknown record type {bad[0]!r}; expected d, b, t, tq, r, f, rb or rs (§3.3.11.11)"
    )


def _record_fields(text: str) -> str | None:
    words = text.split(None, 1)
    kind = record_type(words[0]) if words else None
    if kind is None or len(words) != 2:
        return "expected RECORD-TYPE FIELD-LIST (§3.3.11.12)"
    bad = [field for field in split_list(words[1]) if not field_allowed(kind, field)]
    if bad:
        return f"{kind!r} records have no field {bad[0]!r} ({fields_section(kind)})"
    return None


def _header_mapping(text: str) -> str | None:
    # §3.3.11.10: RECORD-TYPE header_NAME ACCT-FIELD-NAME; "The tq record type cannot be used."
    words = _words(text)
    if len(words) != 3 or not words[1].startswith("header_") or len(words[1]) == 7:
        return "expected RECORD-TYPE header_NAME FIELD (§3.3.11.10)"
    kind = record_type(words[0])
    if kind is None or kind == "tq":
        return f"{words[0]!r} cannot be mapped: use d, b, t, r, f, rb or rs (tq cannot be used, §3.3.11.10)"
    if not is_field(kind, words[2]):
        return f"{kind!r} records have no field {words[2]!r} ({fields_section(kind)})"
    return None


def _privacy_policy(text: str) -> str | None:
    words = text.split(None, 1)
    kinds = ("retain", "redact", "siphash", "siphash-hexkey", "hmac-sha256", "hmac-sha256-hexkey")
    return _ok_if(bool(words) and words[0] in kinds, f"one of {', '.join(kinds)} [STRING] (§3.3.11.16)")


def _alias(text: str) -> str | None:
    return _ok_if(len(_words(text)) == 2, "SOURCE TARGET[,TARGET…] (§3.3.1.17, §12.9)")


def _pair(text: str) -> str | None:
    return _ok_if(len(_words(text)) == 2, "two values")


def _regex_then(text: str) -> tuple[str, str] | None:
    match = re.match(r"(/(?:[^/\\]|\\.)*/)\s*(.*)$", text)
    if match is None:
        return None
    return match.group(1), match.group(2)


def _pattern_result(text: str) -> str | None:
    parts = _regex_then(text)
    if parts is None or not parts[1]:
        return "expected /REGEX/ RESULT (§3.3.14)"
    results = split_list(parts[1])
    ok = all(
        re.fullmatch(r"virtual-mta=\S+|recipient-priority=[0-9]{1,3}|call-to:\S+", item) for item in results
    )
    return _ok_if(ok, "virtual-mta=NAME, recipient-priority=N or call-to:LIST after the pattern (§3.3.14)")


def _pattern_header(text: str) -> str | None:
    words = text.split(None, 1)
    if len(words) != 2:
        return "expected HEADER-NAME /REGEX/ RESULT (§3.3.14.1)"
    return _pattern_result(words[1])


def _pattern_reply(text: str) -> str | None:
    parts = _regex_then(text)
    if parts is None or not parts[1]:
        return "expected /PATTERN/ ACTION-LIST (§3.3.15)"
    actions = split_list(parts[1])
    names = [action.split("=", 1)[0] if action.startswith("reenable-after") else action for action in actions]
    unknown = [
        action
        for action, name in zip(actions, names, strict=True)
        if name not in (*_REPLY_ACTIONS, "reenable-after")
    ]
    if unknown:
        return f"unknown action {unknown[0]!r} (§3.3.15)"
    if {"mode=backoff", "mode=normal"} <= set(names) or {"skip-mx", "bounce-queue"} <= set(names):
        return "conflicting actions (§3.3.15 forbids mode=backoff with mode=normal and skip-mx with bounce-queue)"
    if names.count("reenable-after") > 1 or (
        "reenable-after" in names and "disable-source-ip" not in names[: names.index("reenable-after")]
    ):
        return "reenable-after needs a preceding disable-source-ip and may appear once (§3.3.15)"
    return None


def _mx_rollup(text: str) -> str | None:
    # §10.17: mx MX-PATTERN QUEUE.rollup [rollup-by-ip]
    words = _words(text)
    if len(words) not in (2, 3) or (len(words) == 3 and words[2] != "rollup-by-ip"):
        return "expected MX-NAME QUEUE [rollup-by-ip] (§10.17)"
    if not re.fullmatch(r"(?:\*\.)?[^\s*]+", words[0]):
        return f"{words[0]!r} is not an MX host name or *.pattern (§10.17)"
    return _ok_if(words[1].endswith(".rollup"), 'a rollup queue name that ends in ".rollup" (§10.17)')


def _daily_limit(text: str) -> str | None:
    return _ok_if(bool(re.fullmatch(r"[0-9]+/(?:d|day)", text)), "N/day such as 1000/day (§3.3.10.48)")


def _days_or_never(text: str) -> str | None:
    return _ok_if(bool(re.fullmatch(r"[0-9]+d|never", text)), "Nd or never (§3.3.11.1)")


def _boolean_or_interval(text: str) -> str | None:
    return None if _boolean(text) is None or text == "never" else _interval(text)


def _cidr_then(check: Callable[[str], str | None], what: str) -> Callable[[str], str | None]:
    def checker(text: str) -> str | None:
        words = _words(text)
        if len(words) != 2 or not is_cidr(words[0]):
            return f"expected CIDR {what}"
        return check(words[1])

    return checker


def _mx_integer(text: str) -> str | None:
    words = _words(text)
    return _ok_if(len(words) == 2 and words[1].isdigit(), "MX-NAME N (§3.3.1.38.1)")


def _text(text: str) -> str | None:
    return _ok_if(bool(text.strip()), "a value")


FORMS: Final[Mapping[str, Callable[[str], str | None]]] = {
    "boolean": _boolean,
    "boolean-or-interval": _boolean_or_interval,
    "rate": _rate,
    "data-rate": _data_rate,
    "cidr-rate": _cidr_then(_rate, "RATE (§3.3.10.32)"),
    "cidr-data-rate": _cidr_then(_data_rate, "DATA-RATE (§3.3.10.83)"),
    "cidr-integer": _cidr_then(_integer, "N"),
    "mx-integer": _mx_integer,
    "interval": _interval,
    "interval-or-zero": _interval_or("0"),
    "interval-or-never": _interval_or("never"),
    "interval-list": _interval_list,
    "days-or-never": _days_or_never,
    "integer": _integer,
    "integer-or-unlimited": _integer_or("unlimited"),
    "integer-or-auto": _integer_or("auto"),
    "port": _port,
    "size": _size_or(),
    "size-or-zero": _size_or("0"),
    "size-or-unlimited": _size_or("unlimited"),
    "size-or-zero-or-unlimited": _size_or("0", "unlimited"),
    "daily-limit": _daily_limit,
    "email": _email,
    "email-list": _email_list,
    "email-or-regex": _email_or_regex,
    "domain": _domain,
    "domain-pattern": _domain_pattern,
    "ip": _ip,
    "url": _url,
    "path": _path,
    "path-pair": _path_pair,
    "path-and-secret": _path_and_secret,
    "name": _name,
    "name-list": _name_list,
    "source-name": _source_name,
    "vmta-or-pool-or-by-ip": _vmta_or_by_ip,
    "queue-name": _queue_name,
    "listener": _listener,
    "http-access": _http_access,
    "smtp-source-host": _smtp_source_host,
    "domain-key": _domain_key,
    "domain-macro": _domain_macro,
    "smtp-hosts": _smtp_hosts,
    "record-types": _record_types,
    "record-fields": _record_fields,
    "header-mapping": _header_mapping,
    "privacy-policy": _privacy_policy,
    "alias": _alias,
    "text-pair": _pair,
    "pattern-result": _pattern_result,
    "pattern-header": _pattern_header,
    "pattern-reply": _pattern_reply,
    "mx-rollup": _mx_rollup,
    "text": _text,
}


def check_value(form: str | tuple[str, ...], text: str) -> str | None:
    """``None`` when ``text`` has the ``form`` (a form name or an enumeration); else what was expected."""
    value = text.strip()
    if not value:
        return "the directive has no value"
    if isinstance(form, tuple):
        return None if value in form else f"expected one of {' | '.join(form)}"
    return FORMS[form](value)
