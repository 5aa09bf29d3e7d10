"""Domain and local-part rules (pure): disposable domains, blocked and role prefixes, typos."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import disposable_email_domains

__all__ = ["RuleSet", "build_rules", "local_prefix_kind", "suggest_domain"]


@dataclass(frozen=True)
class RuleSet:
    """Everything the pure checks need apart from DNS facts and the suppression list."""

    disposable: frozenset[str]
    role_prefixes: frozenset[str]
    blocked_prefixes: frozenset[str]
    _disposable_cache: dict[str, bool] = field(default_factory=dict, compare=False, repr=False)
    _blocked: re.Pattern[str] = field(init=False, compare=False, repr=False)
    _role: re.Pattern[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_blocked", _prefix_pattern(self.blocked_prefixes))
        object.__setattr__(self, "_role", _prefix_pattern(self.role_prefixes))

    def is_disposable(self, domain: str) -> bool:
        """The domain or any parent of it (``x.mailinator.com``) is on the list."""
        cached = self._disposable_cache.get(domain)
        if cached is not None:
            return cached
        parts = domain.split(".")
        found = any(".".join(parts[i:]) in self.disposable for i in range(len(parts) - 1))
        if len(self._disposable_cache) < 500_000:
            self._disposable_cache[domain] = found
        return found

    def prefix_kind(self, local: str) -> str | None:
        """``"blocked"``, ``"role"`` or None for a local part (case and ``+tag`` ignored)."""
        base = local.lower().lstrip('"')
        if self._blocked.match(base):
            return "blocked"
        if self._role.match(base):
            return "role"
        return None


def _prefix_pattern(prefixes: frozenset[str]) -> re.Pattern[str]:
    """The prefix alone, or followed by a separator or digit ("sales-eu", "info2", "noreply+x")."""
    if not prefixes:
        return re.compile(r"(?!)")
    names = "|".join(re.escape(p) for p in sorted(prefixes, key=len, reverse=True))
    return re.compile(rf"(?:{names})(?:\Z|[-._+0-9\"])")


def build_rules(
    *,
    role_prefixes: Iterable[str],
    blocked_prefixes: Iterable[str],
    disposable_allowlist: Iterable[str] = (),
    disposable_blocklist: Iterable[str] = (),
) -> RuleSet:
    allow = {d.strip().lower() for d in disposable_allowlist}
    disposable = (
        set(disposable_email_domains.blocklist) | {d.strip().lower() for d in disposable_blocklist}
    ) - allow
    return RuleSet(
        disposable=frozenset(disposable),
        role_prefixes=frozenset(p.strip().lower() for p in role_prefixes if p.strip()),
        blocked_prefixes=frozenset(p.strip().lower() for p in blocked_prefixes if p.strip()),
    )


def local_prefix_kind(local: str, *, blocked: frozenset[str], role: frozenset[str]) -> str | None:
    """Classify a local part against explicit prefix sets (see :meth:`RuleSet.prefix_kind`)."""
    return RuleSet(disposable=frozenset(), role_prefixes=role, blocked_prefixes=blocked).prefix_kind(local)


# --- typos -----------------------------------------------------------------------------------------
# Big mailbox providers; a domain one edit away from one of these (and not itself a known real
# domain) is probably a typo. Short names (aol.com, gmx.de) are only matched through the curated map:
# one edit from a 7-character name hits too many real domains.
PROVIDERS = (
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "hotmail.com",
    "outlook.com",
    "icloud.com",
    "live.com",
    "hotmail.co.uk",
    "yahoo.co.uk",
    "hotmail.fr",
    "yahoo.fr",
    "hotmail.de",
    "yahoo.de",
    "hotmail.it",
    "comcast.net",
    "verizon.net",
    "protonmail.com",
    "proton.me",
    "yandex.ru",
    "rambler.ru",
    "orange.fr",
    "wanadoo.fr",
    "t-online.de",
    "btinternet.com",
    "sbcglobal.net",
    "bellsouth.net",
    "rocketmail.com",
    "aol.com",
    "msn.com",
    "me.com",
    "mail.ru",
    "gmx.de",
    "gmx.net",
    "gmx.com",
    "web.de",
    "ymail.com",
    "libero.it",
    "qq.com",
    "163.com",
    "126.com",
    "naver.com",
    "att.net",
)
# Real domains that sit one edit away from a provider: never "correct" them.
KNOWN_REAL = frozenset(PROVIDERS) | frozenset(
    {
        "mail.com",
        "email.com",
        "gmai.ru",
        "yahoo.ca",
        "yahoo.es",
        "yahoo.it",
        "yahoo.in",
        "yahoo.gr",
        "hotmail.es",
        "hotmail.ca",
        "live.fr",
        "live.de",
        "live.it",
        "live.nl",
        "live.co.uk",
        "outlook.fr",
        "outlook.de",
        "outlook.es",
        "outlook.it",
        "icloud.co",
        "ymail.co",
        "gmx.at",
        "gmx.ch",
        "gmx.fr",
        "aim.com",
        "mac.com",
        "cox.net",
        "charter.net",
        "juno.com",
        "earthlink.net",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "yandex.com",
        "yandex.ua",
        "bk.ru",
        "inbox.ru",
        "list.ru",
        "free.fr",
        "sfr.fr",
        "laposte.net",
        "telenet.be",
        "skynet.be",
        "ziggo.nl",
        "kpnmail.nl",
        "shaw.ca",
        "rogers.com",
        "sympatico.ca",
        "bigpond.com",
        "optusnet.com.au",
        "xtra.co.nz",
        "uol.com.br",
        "bol.com.br",
        "terra.com.br",
        "virgilio.it",
        "tiscali.it",
        "alice.it",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "interia.pl",
        "onet.pl",
        "abv.bg",
        "hushmail.com",
        "hotmail.com.br",
        "hotmail.com.ar",
        "yahoo.com.br",
        "yahoo.com.ar",
        "yahoo.com.mx",
    }
)
CURATED = {
    "gmial.com": "gmail.com",
    "gmal.com": "gmail.com",
    "gmaill.com": "gmail.com",
    "gamil.com": "gmail.com",
    "gnail.com": "gmail.com",
    "gmail.co": "gmail.com",
    "gmail.con": "gmail.com",
    "gmail.cm": "gmail.com",
    "gmail.om": "gmail.com",
    "gmail.cmo": "gmail.com",
    "gmail.comm": "gmail.com",
    "gmai.com": "gmail.com",
    "gmali.com": "gmail.com",
    "gmaul.com": "gmail.com",
    "gemail.com": "gmail.com",
    "gimail.com": "gmail.com",
    "gmail.vom": "gmail.com",
    "gmail.xom": "gmail.com",
    "gmail.c0m": "gmail.com",
    "g-mail.com": "gmail.com",
    "hotmial.com": "hotmail.com",
    "hotmal.com": "hotmail.com",
    "hotmai.com": "hotmail.com",
    "hotmil.com": "hotmail.com",
    "hotamil.com": "hotmail.com",
    "homtail.com": "hotmail.com",
    "hotmail.con": "hotmail.com",
    "hotmail.co": "hotmail.com",
    "hotmail.cm": "hotmail.com",
    "hotnail.com": "hotmail.com",
    "hormail.com": "hotmail.com",
    "hotmaill.com": "hotmail.com",
    "yaho.com": "yahoo.com",
    "yahooo.com": "yahoo.com",
    "yhoo.com": "yahoo.com",
    "yahho.com": "yahoo.com",
    "yaoo.com": "yahoo.com",
    "yahoo.con": "yahoo.com",
    "yahoo.cm": "yahoo.com",
    "yahoo.om": "yahoo.com",
    "uahoo.com": "yahoo.com",
    "tahoo.com": "yahoo.com",
    "yajoo.com": "yahoo.com",
    "outlok.com": "outlook.com",
    "outloo.com": "outlook.com",
    "outllok.com": "outlook.com",
    "outlook.con": "outlook.com",
    "otlook.com": "outlook.com",
    "outlook.co": "outlook.com",
    "iclod.com": "icloud.com",
    "icoud.com": "icloud.com",
    "icluod.com": "icloud.com",
    "icloud.con": "icloud.com",
    "aol.con": "aol.com",
    "aol.co": "aol.com",
    "aoll.com": "aol.com",
    "aol.cm": "aol.com",
    "msn.con": "msn.com",
    "live.con": "live.com",
    "lve.com": "live.com",
    "liv.com": "live.com",
    "comcast.com": "comcast.net",
    "comcast.ner": "comcast.net",
    "verizon.com": "verizon.net",
    "gmx.con": "gmx.com",
    "web.cde": "web.de",
    "mail.r": "mail.ru",
    "yandex.ri": "yandex.ru",
    "protonmail.con": "protonmail.com",
    "protonmial.com": "protonmail.com",
}
# Suffix misspellings that are not the provider's own suffix (``gmail.con``). Real country suffixes
# (hotmail.dk, yahoo.se) are different mailbox domains, so suffixes are never edit-distance matched.
SUFFIX_TYPOS = {
    "com": frozenset(
        {
            "con",
            "cmo",
            "cm",
            "om",
            "co",
            "comm",
            "vom",
            "xom",
            "c0m",
            "ocm",
            "cpm",
            "coom",
            "cim",
            "comn",
            "copm",
            "clm",
            "cok",
            "vcom",
        }
    ),
    "net": frozenset({"ner", "nte", "ne", "nt", "met", "nett", "bet", "nwt", "neet"}),
}
# Only the name before the suffix is compared by edit distance, and only for names of 6+ letters (and
# gmail): one edit from "aol", "naver" or "yahoo" hits real domains (wahoo.com, never.com); typos of
# those are in the curated map instead.
_SPLIT_PROVIDERS = tuple(provider.split(".", 1) for provider in PROVIDERS)
_NAMES_BY_SUFFIX: dict[str, tuple[str, ...]] = {}
for _name, _suffix in _SPLIT_PROVIDERS:
    _NAMES_BY_SUFFIX[_suffix] = (*_NAMES_BY_SUFFIX.get(_suffix, ()), _name)
_PROVIDER_BY_NAME = {name: f"{name}.{suffix}" for name, suffix in reversed(_SPLIT_PROVIDERS)}


def _within_one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b:
        return False
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return b[i + 1 :] == a[i:]


@lru_cache(maxsize=100_000)
def suggest_domain(domain: str) -> str | None:
    """The provider ``domain`` is probably a typo of, or None."""
    if domain in KNOWN_REAL:
        return None
    curated = CURATED.get(domain)
    if curated is not None:
        return curated
    name, _, suffix = domain.partition(".")
    if not suffix:
        return None
    for candidate in _NAMES_BY_SUFFIX.get(suffix, ()):
        if (len(candidate) >= 6 or candidate == "gmail") and _within_one_edit(name, candidate):
            return f"{candidate}.{suffix}"
    provider = _PROVIDER_BY_NAME.get(name)
    if provider is not None:
        provider_suffix = provider.partition(".")[2]
        if suffix in SUFFIX_TYPOS.get(provider_suffix, ()):
            return provider
    return None
