"""Which ``<domain>`` settings a queue really gets, after PowerMTA's inheritance (pure).

A queue is one destination through one virtual MTA. Its settings come from ``<domain>`` blocks at
three scopes and several patterns:

- scopes (§3.3.13.2): "a domain defined inside a Virtual MTA will first inherit its settings from
  domain definitions in the pool that the Virtual MTA is part of and then subsequently inherit from
  global domain definitions";
- patterns (§3.3.10): settings are merged "from more general to more specific domains", the most
  specific entry winning (``name`` over ``[*.]name`` / ``*.name`` over ``*``).

The guide does not say which of the two comes first when they disagree (is a VMTA's ``<domain *>``
more or less specific than a global ``<domain gmail.rollup>``?). So every view is computed in both
orders, and the checks hold only if they hold in both (:data:`ORDERS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import product
from typing import Final, Literal

from email_engine.integrations.powermta.config_tree import Block, Directive, Tree
from email_engine.integrations.powermta.values import split_list

__all__ = ["ORDERS", "Order", "QueueView", "domain_index", "expand_pattern", "queue_names", "queue_views"]

Order = Literal["scope-first", "pattern-first"]
ORDERS: Final[tuple[Order, ...]] = ("scope-first", "pattern-first")
DEFAULT_VMTA: Final = "{default}"


@dataclass(frozen=True)
class QueueView:
    """The effective settings of ``queue`` through ``vmta`` (``{default}``: no VMTA selected)."""

    vmta: str
    queue: str
    order: Order
    settings: Mapping[str, Directive]

    def value(self, name: str) -> str | None:
        item = self.settings.get(name)
        return item.value if item is not None else None


@dataclass(frozen=True)
class _Entry:
    block: Block
    patterns: tuple[str, ...]


def expand_pattern(pattern: str, macros: Mapping[str, list[str]], depth: int = 0) -> list[str]:
    """``yahoo.$tld`` with ``domain-macro tld com,de`` → ``yahoo.com``, ``yahoo.de`` (§3.3.10)."""
    if "$" not in pattern or depth > 8:
        return [pattern]
    head, _, rest = pattern.partition("$")
    name = ""
    for char in rest:
        if not (char.isalnum() or char == "_"):
            break
        name += char
    tail = rest[len(name) :]
    out: list[str] = []
    for member in macros.get(name, []):
        out.extend(
            expand_pattern(
                f"{head}{member.lstrip('.') if head.endswith('.') else member}{tail}", macros, depth + 1
            )
        )
    return out


def _macros(tree: Tree) -> dict[str, list[str]]:
    macros: dict[str, list[str]] = {}
    for item in tree.directives("domain-macro"):
        name, _, members = item.value.partition(" ")
        macros[name] = [member for member in split_list(members) if member]
    return macros


def domain_index(tree: Tree) -> dict[tuple[str, str], list[_Entry]]:
    """``<domain>`` blocks by scope: ``("global", "")``, ``("pool", name)``, ``("vmta", name)``."""
    macros = _macros(tree)
    index: dict[tuple[str, str], list[_Entry]] = {}
    for block in tree.blocks("domain"):
        parent = block.parent
        if parent is None or parent.tag == "global":
            scope = ("global", "")
        elif parent.tag == "virtual-mta-pool":
            scope = ("pool", parent.argument)
        elif parent.tag == "virtual-mta":
            scope = ("vmta", parent.argument)
        else:
            continue
        patterns = tuple(expand_pattern(block.argument, macros))
        index.setdefault(scope, []).append(_Entry(block, patterns))
    return index


def _specificity(pattern: str, queue: str) -> int | None:
    """How specifically ``pattern`` names ``queue`` (§3.2 DOMAIN pattern); None when it does not."""
    if pattern == queue:
        return 3
    if pattern.startswith("[*.]"):
        base = pattern[4:]
        return 2 if queue == base or queue.endswith("." + base) else None
    if pattern.startswith("*."):
        return 2 if queue.endswith(pattern[1:]) else None
    if pattern == "*":
        return 0
    return None


def queue_names(index: Mapping[tuple[str, str], list[_Entry]]) -> list[str]:
    """Every queue a block names exactly, plus ``*`` (all other domains)."""
    names = {
        pattern
        for entries in index.values()
        for entry in entries
        for pattern in entry.patterns
        if "*" not in pattern and not pattern.startswith("[")
    }
    return ["*", *sorted(names)]


def _candidates(
    index: Mapping[tuple[str, str], list[_Entry]], scopes: list[tuple[str, str]], queue: str, order: Order
) -> list[Block]:
    ranked: list[tuple[tuple[int, int], Block]] = []
    for scope_rank, scope in enumerate(scopes):
        for entry in index.get(scope, []):
            matches = [_specificity(pattern, queue) for pattern in entry.patterns]
            best = max((value for value in matches if value is not None), default=None)
            if best is None:
                continue
            key = (scope_rank, -best) if order == "scope-first" else (-best, scope_rank)
            ranked.append((key, entry.block))
    ranked.sort(key=lambda item: item[0])
    return [block for _, block in ranked]


def _view(
    index: Mapping[tuple[str, str], list[_Entry]],
    vmta: str,
    scopes: list[tuple[str, str]],
    queue: str,
    order: Order,
) -> QueueView:
    settings: dict[str, Directive] = {}
    for block in _candidates(index, scopes, queue, order):
        for item in block.directives:
            settings.setdefault(item.name, item)
    return QueueView(vmta, queue, order, settings)


def pools_of(tree: Tree) -> dict[str, list[str]]:
    """VMTA name → the pools that list it."""
    pools: dict[str, list[str]] = {}
    for pool in tree.blocks("virtual-mta-pool"):
        for item in pool.directives:
            if item.name == "virtual-mta":
                pools.setdefault(item.value, []).append(pool.argument)
    return pools


def queue_views(tree: Tree, *, vmtas: Iterable[str] | None = None) -> Iterator[QueueView]:
    """Every queue through every VMTA (and through ``{default}``), in both :data:`ORDERS`."""
    index = domain_index(tree)
    membership = pools_of(tree)
    names = list(vmtas) if vmtas is not None else [block.argument for block in tree.blocks("virtual-mta")]
    queues = queue_names(index)
    for vmta, queue, order in product([DEFAULT_VMTA, *names], queues, ORDERS):
        scopes = [("global", "")]
        if vmta != DEFAULT_VMTA:
            scopes = [("vmta", vmta), *(("pool", pool) for pool in membership.get(vmta, [])), *scopes]
        yield _view(index, vmta, scopes, queue, order)
