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


def _scope_index(entries: list[_Entry]) -> tuple[dict[str, list[_Entry]], list[_Entry]]:
    """Entries by exact pattern, and the entries with a wildcard pattern (matched one by one)."""
    exact: dict[str, list[_Entry]] = {}
    wild: list[_Entry] = []
    for entry in entries:
        for pattern in entry.patterns:
            if "*" in pattern or pattern.startswith("["):
                if not wild or wild[-1] is not entry:
                    wild.append(entry)
            else:
                exact.setdefault(pattern, []).append(entry)
    return exact, wild


def _candidates(
    indexed: Mapping[tuple[str, str], tuple[dict[str, list[_Entry]], list[_Entry]]],
    scopes: tuple[tuple[str, str], ...],
    queue: str,
    order: Order,
) -> list[Block]:
    ranked: list[tuple[tuple[int, int], int, Block]] = []
    for scope_rank, scope in enumerate(scopes):
        exact, wild = indexed[scope]
        for entry in exact.get(queue, []):
            key = (scope_rank, -3) if order == "scope-first" else (-3, scope_rank)
            ranked.append((key, len(ranked), entry.block))
        for entry in wild:
            best = max(
                (value for value in (_specificity(p, queue) for p in entry.patterns) if value is not None),
                default=None,
            )
            if best is not None:
                key = (scope_rank, -best) if order == "scope-first" else (-best, scope_rank)
                ranked.append((key, len(ranked), entry.block))
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [block for _, _, block in ranked]


def _settings(blocks: list[Block]) -> dict[str, Directive]:
    settings: dict[str, Directive] = {}
    for block in blocks:
        for item in block.directives:
            settings.setdefault(item.name, item)
    return settings


def pools_of(tree: Tree) -> dict[str, list[str]]:
    """VMTA name → the pools that list it."""
    pools: dict[str, list[str]] = {}
    for pool in tree.blocks("virtual-mta-pool"):
        for item in pool.directives:
            if item.name == "virtual-mta":
                pools.setdefault(item.value, []).append(pool.argument)
    return pools


def queue_views(tree: Tree, *, vmtas: Iterable[str] | None = None) -> Iterator[QueueView]:
    """Every queue through every VMTA (and through ``{default}``), in both :data:`ORDERS`. VMTAs whose
    scopes hold the same blocks share one computation (most active VMTAs have no blocks of their own)."""
    index = domain_index(tree)
    indexed = {scope: _scope_index(entries) for scope, entries in index.items()}
    membership = pools_of(tree)
    names = list(vmtas) if vmtas is not None else [block.argument for block in tree.blocks("virtual-mta")]
    queues = queue_names(index)
    computed: dict[tuple[tuple[tuple[str, str], ...], str, Order], dict[str, Directive]] = {}
    for vmta in [DEFAULT_VMTA, *names]:
        scopes = [("global", "")]
        if vmta != DEFAULT_VMTA:
            scopes = [("vmta", vmta), *(("pool", pool) for pool in membership.get(vmta, [])), *scopes]
        present = tuple(scope for scope in scopes if scope in indexed)
        for queue, order in product(queues, ORDERS):
            key = (present, queue, order)
            if key not in computed:
                computed[key] = _settings(_candidates(indexed, present, queue, order))
            yield QueueView(vmta, queue, order, computed[key])
