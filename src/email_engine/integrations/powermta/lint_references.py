"""Linter checks of names (pure): every VMTA, pool, pattern list, macro and source a directive
names is defined; reserved ``{…}`` source names; ``domain-macro`` loops."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from email_engine.integrations.powermta.config_tree import Block, Directive, Tree
from email_engine.integrations.powermta.lint_findings import LintRun
from email_engine.integrations.powermta.reference import RESERVED_SOURCES
from email_engine.integrations.powermta.values import is_cidr, split_list

__all__ = ["check_macro_loops", "check_references"]

# Directives whose value names something defined elsewhere: name -> (kind(s), how to read the value).
# Directives whose value names something defined elsewhere: name -> (kind(s), how to read the value).
_VMTA_OR_POOL: Final = ("virtual-mta", "virtual-mta-pool")

_REFERENCES: Final[dict[str, tuple[str, ...]]] = {
    "default-virtual-mta": _VMTA_OR_POOL,
    "cold-virtual-mta": _VMTA_OR_POOL,
    "reroute-to-virtual-mta": _VMTA_OR_POOL,
    "backoff-reroute-to-virtual-mta": _VMTA_OR_POOL,
    "invalid-virtual-mta-fallback": _VMTA_OR_POOL,
    "smtp-pattern-list": ("smtp-pattern-list",),
    "pattern-list": ("pattern-list",),
    "rewrite-list": ("rewrite-list",),
    "source-group": ("source-group",),
    "suppression-lists": ("address-list",),
    "use-proxy": ("proxy",),
}

_NAMED_BLOCKS: Final = frozenset(
    {
        "virtual-mta",
        "virtual-mta-pool",
        "smtp-pattern-list",
        "pattern-list",
        "rewrite-list",
        "source-group",
        "address-list",
        "proxy",
        "domain-key-list",
        "smtp-user",
    }
)


def _definitions(tree: Tree) -> dict[str, dict[str, Block | Directive]]:
    defined: dict[str, dict[str, Block | Directive]] = {}
    for block in tree.root.walk():
        if block.tag in _NAMED_BLOCKS and block.argument:
            defined.setdefault(block.tag, {}).setdefault(block.argument.lower(), block)
        if block.tag == "source" and block.argument and not is_cidr(block.argument):
            defined.setdefault("source", {}).setdefault(block.argument.lower(), block)
    for item in tree.directives("domain-macro"):
        name = item.value.split(None, 1)[0] if item.value else ""
        defined.setdefault("domain-macro", {}).setdefault(name.lower(), item)
    return defined


def check_references(lint: LintRun) -> None:
    ref = lint.ref
    defined = _definitions(lint.tree)

    def need(item: Directive | Block, kinds: tuple[str, ...], name: str, section: str) -> None:
        if not any(name.lower() in defined.get(kind, {}) for kind in kinds):
            what = " or ".join(kinds)
            lint.at(item, "unknown-reference", f"{what} {name!r} is not defined", section)

    for block in lint.tree.root.walk():
        for item in block.directives:
            section = ref.cite_directive(item.name)
            if item.name in _REFERENCES and item.value and item.value != "by-smtp-source-ip":
                for name in split_list(item.value):
                    need(item, _REFERENCES[item.name], name, section)
            elif item.name == "virtual-mta" and block.tag == "virtual-mta-pool":
                need(item, ("virtual-mta",), item.value, section)
            elif item.name == "source" and block.tag in ("smtp-user", "smtp-listener"):
                _check_source_name(lint, item, item.value, defined)
            elif item.name == "smtp-listener" and "source=" in item.value:
                _check_source_name(lint, item, item.value.split("source=", 1)[1].strip(), defined)
            elif item.name == "domain-macro":
                for member in split_list(item.value.partition(" ")[2]):
                    for macro in re.findall(r"\$([A-Za-z0-9_]+)", member):
                        need(item, ("domain-macro",), macro, section)
        if block.tag == "domain":
            for macro in re.findall(r"\$([A-Za-z0-9_]+)", block.argument):
                need(block, ("domain-macro",), macro, ref.cite("3.3.10"))
        if (
            block.tag == "source"
            and block.argument.startswith("{")
            and block.argument not in RESERVED_SOURCES
        ):
            lint.at(
                block,
                "reserved-source",
                f"<source {block.argument}>: names beginning with '{{' are reserved; only {{auth}} and "
                "{pickup} are documented. Use a plain name for a named source",
                ref.cite("3.3.7"),
            )


def _check_source_name(
    lint: LintRun, item: Directive, name: str, defined: Mapping[str, Mapping[str, Block | Directive]]
) -> None:
    section = lint.ref.cite_directive(item.name)
    if name.startswith("{") and name not in RESERVED_SOURCES:
        lint.at(
            item,
            "reserved-source",
            f"source {name}: names beginning with '{{' are reserved (§3.3.7)",
            section,
        )
    elif name.lower() not in defined.get("source", {}) and name not in RESERVED_SOURCES:
        lint.at(item, "unknown-reference", f"source {name!r} is not defined", section)


def check_macro_loops(lint: LintRun) -> None:
    """§3.3.10: "Any loops are detected and result in a configuration load or startup error"."""
    graph: dict[str, tuple[Directive, list[str]]] = {}
    for item in lint.tree.directives("domain-macro"):
        name, _, members = item.value.partition(" ")
        graph[name] = (item, re.findall(r"\$([A-Za-z0-9_]+)", members))
    for start, (item, _) in graph.items():
        seen: set[str] = set()
        todo = list(graph[start][1])
        while todo:
            name = todo.pop()
            if name == start:
                lint.at(
                    item, "macro-loop", f"domain-macro {start} expands into itself", lint.ref.cite("3.3.10")
                )
                break
            if name not in seen and name in graph:
                seen.add(name)
                todo.extend(graph[name][1])
