"""Who a source IP in a DMARC report is: ours, a known forwarder or provider, or unknown. Pure.

"Ours" comes from the inventory (``sending_ip``). Otherwise the reverse DNS decides: a PTR name under
one of the domains in ``forwarders.yaml`` (mailbox providers, forwarding services, mail gateways),
forward-confirmed (the name resolves back to the IP, so a PTR the IP's owner made up cannot pass),
makes the source a known forwarder. Everything else is unknown: spoofing, or a service of ours
nobody told the engine about.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib import resources

import yaml

__all__ = ["Forwarder", "SourceClass", "classify_ptr", "classify_source", "forwarders"]


class SourceClass(StrEnum):
    OURS = "ours"
    FORWARDER = "forwarder"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Forwarder:
    suffix: str
    operator: str


@lru_cache(maxsize=1)
def forwarders() -> tuple[Forwarder, ...]:
    text = resources.files("email_engine.dmarc").joinpath("forwarders.yaml").read_text(encoding="utf-8")
    return tuple(
        Forwarder(str(item["suffix"]).lower(), str(item["operator"])) for item in yaml.safe_load(text)
    )


def classify_ptr(
    ptr: str | None, *, confirmed: bool, known: Sequence[Forwarder] | None = None
) -> tuple[SourceClass, Forwarder | None]:
    """A source that is not ours, judged by its reverse DNS name."""
    if not ptr or not confirmed:
        return SourceClass.UNKNOWN, None
    name = ptr.lower().rstrip(".")
    for forwarder in known if known is not None else forwarders():
        if name == forwarder.suffix or name.endswith("." + forwarder.suffix):
            return SourceClass.FORWARDER, forwarder
    return SourceClass.UNKNOWN, None


def classify_source(address: str, *, ours: frozenset[str], stored: SourceClass | None) -> SourceClass:
    """The inventory first (it can change at any time), then the stored reverse-DNS verdict."""
    if address in ours:
        return SourceClass.OURS
    return stored if stored is SourceClass.FORWARDER else SourceClass.UNKNOWN
