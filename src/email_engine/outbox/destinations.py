"""Where events go: a *destination* is one peer, reached by the senders of one or more event kinds.

A ``<domain>/senders.py`` may group its kinds and say how to tell that the peer answers again::

    DESTINATIONS = {"scraper-pro": ("scraper_pro.bounce", "scraper_pro.delivery")}
    PROBES = {"scraper-pro": probe}        # probe(ctx) -> True when the peer answers

A kind no module groups is a destination of its own. The outbox revives a destination's dead events
when one of its events is delivered again, or when its probe answers (``outbox.revival``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from email_engine.errors import ConfigurationError
from email_engine.plugins import domain_modules

if TYPE_CHECKING:
    from email_engine.context import AppContext

__all__ = ["Destination", "Probe", "destination_of", "discover_destinations", "named_destination"]

Probe = Callable[["AppContext"], bool]


@dataclass(frozen=True, slots=True)
class Destination:
    name: str
    kinds: tuple[str, ...]
    probe: Probe | None = None


@cache
def discover_destinations() -> dict[str, Destination]:
    """Every declared destination by name (kinds that no module groups are added on demand)."""
    found: dict[str, Destination] = {}
    for module in domain_modules("senders"):
        probes: dict[str, Probe] = getattr(module, "PROBES", {})
        for name, kinds in getattr(module, "DESTINATIONS", {}).items():
            if name in found:
                raise ConfigurationError(f"Two senders.py modules declare the outbox destination {name!r}.")
            found[name] = Destination(name, tuple(kinds), probes.get(name))
    return found


def destination_of(kind: str) -> Destination:
    for destination in discover_destinations().values():
        if kind in destination.kinds:
            return destination
    return Destination(kind, (kind,))


def named_destination(name: str) -> Destination:
    """A destination by name; a kind's name works too (its own destination)."""
    return discover_destinations().get(name) or destination_of(name)
