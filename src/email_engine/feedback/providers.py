"""Mailbox provider of a recipient domain (pure: a map of the domains each provider hosts).

Only consumer domains the provider owns are listed. Domains hosted on a provider's platform under
their own name (Google Workspace, Microsoft 365) would need an MX lookup, which the ingestion path
deliberately avoids so it never waits on DNS; they count as ``other``.
"""

from __future__ import annotations

__all__ = ["OTHER", "PROVIDER_DOMAINS", "provider_for_domain"]

OTHER = "other"

PROVIDER_DOMAINS: dict[str, tuple[str, ...]] = {
    "gmail": ("gmail.com", "googlemail.com"),
    "microsoft": (
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "passport.com",
        "outlook.fr",
        "hotmail.fr",
        "live.fr",
        "hotmail.co.uk",
        "live.co.uk",
        "outlook.de",
        "hotmail.de",
        "live.de",
        "hotmail.it",
        "outlook.it",
        "hotmail.es",
        "outlook.es",
        "live.nl",
        "hotmail.nl",
        "outlook.be",
        "hotmail.be",
        "live.be",
        "live.ca",
        "hotmail.ca",
        "outlook.com.au",
        "live.com.au",
        "windowslive.com",
    ),
    "yahoo": (
        "yahoo.com",
        "yahoo.fr",
        "yahoo.co.uk",
        "yahoo.de",
        "yahoo.it",
        "yahoo.es",
        "yahoo.ca",
        "yahoo.com.au",
        "yahoo.co.jp",
        "yahoo.com.br",
        "ymail.com",
        "rocketmail.com",
        "aol.com",
        "aol.fr",
        "aol.de",
        "aim.com",
        "verizon.net",
        "att.net",
        "sbcglobal.net",
        "bellsouth.net",
    ),
    "apple": ("icloud.com", "me.com", "mac.com"),
    "gmx": ("gmx.de", "gmx.net", "gmx.at", "gmx.ch", "gmx.com", "gmx.fr", "web.de", "mail.com", "email.de"),
    "t-online": ("t-online.de", "magenta.de"),
    "orange": ("orange.fr", "wanadoo.fr", "voila.fr"),
    "free": ("free.fr", "aliceadsl.fr"),
    "sfr": ("sfr.fr", "neuf.fr", "cegetel.net", "club-internet.fr"),
    "laposte": ("laposte.net",),
    "comcast": ("comcast.net", "xfinity.com"),
    "proton": ("protonmail.com", "proton.me", "pm.me", "protonmail.ch"),
    "zoho": ("zoho.com", "zohomail.com"),
    "yandex": ("yandex.ru", "yandex.com", "ya.ru"),
    "mailru": ("mail.ru", "bk.ru", "inbox.ru", "list.ru"),
    "libero": ("libero.it",),
    "seznam": ("seznam.cz",),
    "wp": ("wp.pl", "o2.pl"),
    "interia": ("interia.pl",),
    "qq": ("qq.com", "foxmail.com"),
    "netease": ("163.com", "126.com", "yeah.net"),
    "cox": ("cox.net",),
    "charter": ("charter.net", "spectrum.net"),
}

_BY_DOMAIN: dict[str, str] = {
    domain: provider for provider, domains in PROVIDER_DOMAINS.items() for domain in domains
}


def provider_for_domain(domain: str | None) -> str:
    """``gmail``, ``microsoft``… for a recipient domain; ``other`` when it is not a known consumer domain."""
    if not domain:
        return OTHER
    return _BY_DOMAIN.get(domain.strip().lower().rstrip("."), OTHER)
