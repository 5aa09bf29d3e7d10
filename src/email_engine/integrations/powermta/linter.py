"""Check a PowerMTA configuration against the User's Guide before it is reloaded (pure;
:func:`lint_path` adds the file reads and permission checks).

Everything is judged by :mod:`reference` (``data/reference.yaml``): an unknown directive, a
directive or block in a context the guide does not allow, or a value outside its documented form
is an error. On top: illegal macro names, unbalanced tags, references to undefined VMTAs, pools,
pattern lists, macros and sources, leftover placeholders, and the semantic rules of the guide that
a wrong config breaks silently:

====================  =====================================================================
code                  rule (guide section)
====================  =====================================================================
backoff-not-slower    a queue's effective ``backoff-max-msg-rate`` (after inheritance, both
                      orders, :mod:`inheritance`) must be below its ``max-msg-rate``, and 0
                      where the queue is paused (§3.3.10.33-34)
over-warmup-cap       with the inventory: a warming VMTA's queues stay within its hourly cap
queue-to-target       a ``queue-to`` target queue needs ``smtp-hosts`` (§10.9)
rollup-smtp-hosts     a wildcard ``mx`` without ``rollup-by-ip`` needs ``smtp-hosts`` (§10.17)
reserved-source       ``{name}`` sources other than ``{auth}``/``{pickup}`` are reserved (§3.3.7)
default-vmta-unsafe   ``default-virtual-mta`` must not reach a paused or warming VMTA
no-bounce-processor   ``rb``/``rs`` records need a ``<bounce-processor>`` (§12.6); ``f`` records a
no-fbl-processor      ``<feedback-loop-processor>`` (§12.7)
pool-name-taken       a pool may not share a VMTA's name (§8.3)
vmta-in-two-pools     a VMTA in two pools that both have ``<domain>`` blocks (§3.3.13.2)
====================  =====================================================================

Every finding carries file, line and the guide section it rests on.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Final

from email_engine.integrations.powermta.config_tree import (
    Block,
    Directive,
    LintIssue,
    Severity,
    Tree,
    parse_tree,
    strip_comment,
)
from email_engine.integrations.powermta.inheritance import pools_of, queue_views
from email_engine.integrations.powermta.pmta_regex import from_pmta_regex
from email_engine.integrations.powermta.reference import (
    BOUNCE_CATEGORIES,
    GLOBAL,
    PATTERN_BLOCKS,
    RESERVED_SOURCES,
    Reference,
    reference,
)
from email_engine.integrations.powermta.values import (
    check_value,
    is_cidr,
    rate_per_hour,
    record_type,
    split_list,
)

__all__ = ["LintIssue", "LintReport", "VmtaFacts", "lint_files", "lint_path"]

_PLACEHOLDER: Final = re.compile(
    r"(?:\bIP\d*_(?:ADDRESS|HOSTNAME|HOST)\b|\bCHANGE[_-]?ME\w*|\bchange[_-]?me\w*|\bYOUR_[A-Z0-9_]+"
    r"|\bREPLACE[_-]?ME\w*|\bPLACEHOLDER\w*|\{\{[^}]*\}\}|%%[A-Z_]+%%|\$\{[A-Za-z_]+\})"
)
# Every placeholder pattern contains one of these, lower-cased (a cheap test before the regex).
_PLACEHOLDER_HINTS: Final = (
    "_address",
    "_host",
    "change",
    "your_",
    "replace",
    "placeholder",
    "{{",
    "%%",
    "${",
)
_REGEX_LINE: Final = re.compile(r"(/(?:[^/\\]|\\.)*/)\s*(.*)$")
_MAX_FILE_BYTES: Final = 20 * 1024 * 1024
_STRUCTURE: Final = "§3.1 Working with the configuration file"

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


@dataclass(frozen=True)
class VmtaFacts:
    """What the inventory knows about one VMTA that the configuration text cannot say."""

    state: str
    hourly_cap: int | None = None


@dataclass
class LintReport:
    issues: list[LintIssue] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[LintIssue]:
        return [issue for issue in self.issues if issue.severity == "error"]

    @property
    def warnings(self) -> list[LintIssue]:
        return [issue for issue in self.issues if issue.severity == "warning"]

    def ok(self, *, strict: bool = False) -> bool:
        return not self.errors and not (strict and self.warnings)

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok(),
            "files": self.files,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "issues": [issue.__dict__ for issue in self.issues],
        }


@dataclass
class _Lint:
    ref: Reference
    tree: Tree
    issues: list[LintIssue] = field(default_factory=list)

    def add(
        self, file: str, line: int, code: str, message: str, section: str, *, severity: Severity = "error"
    ) -> None:
        self.issues.append(LintIssue(file, line, severity, code, message, section))

    def at(
        self, item: Directive | Block, code: str, message: str, section: str, *, severity: Severity = "error"
    ) -> None:
        self.add(item.file, item.line, code, message, section, severity=severity)


# --- vocabulary: every block and directive is in the reference, in a context it allows ----------


def _check_vocabulary(lint: _Lint) -> None:
    ref = lint.ref
    for block in lint.tree.root.walk():
        context = block.tag
        if block.parent is not None:
            spec = ref.blocks.get(block.tag)
            parent = block.parent.tag
            if spec is None:
                lint.at(
                    block, "unknown-block", f"<{block.tag}> is not a block of PowerMTA's guide", _STRUCTURE
                )
            elif parent not in spec.contexts:
                where = "at global scope" if parent == GLOBAL else f"inside <{parent}>"
                lint.at(
                    block, "misplaced-block", f"<{block.tag}> is not allowed {where}", ref.cite(spec.source)
                )
            elif spec.argument == "none" and block.argument:
                lint.at(block, "bad-value", f"<{block.tag}> takes no argument", ref.cite(spec.source))
            elif spec.argument not in ("none", "optional-name") and not block.argument:
                lint.at(block, "bad-value", f"<{block.tag}> needs an argument", ref.cite(spec.source))
        for item in block.directives:
            _check_directive(lint, item, context)
        for file, line, text in block.lines:
            _check_category_line(lint, file, line, text)


def _check_directive(lint: _Lint, item: Directive, context: str) -> None:
    ref = lint.ref
    use = ref.use(item.name, context)
    if use is None:
        where = "at global scope" if context == GLOBAL else f"inside <{context}>"
        if item.name in ref.directives:
            known = sorted({ctx for use in ref.directives[item.name] for ctx in use.contexts})
            lint.at(
                item,
                "misplaced-directive",
                f"{item.name} is not valid {where} (the guide allows it in: {', '.join(known)})",
                ref.cite_directive(item.name),
            )
        else:
            lint.at(
                item, "unknown-directive", f"{item.name!r} is not a PowerMTA directive ({where})", _STRUCTURE
            )
        return
    section = ref.cite(use.source)
    if use.deprecated:
        lint.at(
            item, "deprecated", f"{item.name} is deprecated: {use.deprecated}", section, severity="warning"
        )
    if item.name == "domain-macro":
        name = item.value.split(None, 1)[0] if item.value else ""
        if name and not re.fullmatch(r"[A-Za-z0-9_]+", name):
            lint.at(
                item,
                "bad-macro-name",
                f"macro name {name!r}: only letters, digits and the underscore are allowed",
                section,
            )
            return
    problem = check_value(use.form, item.value)
    if problem is not None:
        lint.at(item, "bad-value", f"{item.name} {item.value[:80]!r}: {problem}", section)
        return
    regex = (
        _REGEX_LINE.search(item.value)
        if use.form in ("pattern-reply", "pattern-result", "pattern-header")
        else None
    )
    if use.form == "email-or-regex" and item.value.startswith("/"):
        regex = _REGEX_LINE.match(item.value)
    if regex is not None:
        _compile(lint, item.file, item.line, regex.group(1), section)


def _compile(lint: _Lint, file: str, line: int, pattern: str, section: str) -> bool:
    try:
        from_pmta_regex(pattern)
    except Exception as exc:  # any compile failure is a finding, not a crash
        lint.add(file, line, "bad-pattern", f"pattern {pattern[:60]!r} does not compile: {exc}", section)
        return False
    return True


def _check_category_line(lint: _Lint, file: str, line: int, text: str) -> None:
    section = lint.ref.cite_block("bounce-category-patterns")
    match = _REGEX_LINE.match(text)
    if match is None:
        lint.add(file, line, "bad-pattern", f"expected '/regex/ category', found {text[:60]!r}", section)
        return
    _compile(lint, file, line, match.group(1), section)
    rest = match.group(2).split()
    if len(rest) != 1:
        lint.add(file, line, "bad-category", "expected one category name after the pattern", section)
    elif rest[0] not in BOUNCE_CATEGORIES:
        # §10.8 allows custom names; the engine's classifier and reports know only the standard ones.
        lint.add(
            file,
            line,
            "bad-category",
            f"{rest[0]!r} is not one of PowerMTA's standard bounce categories (§11.6); the engine will count it as other",
            section,
            severity="warning",
        )


# --- references ---------------------------------------------------------------------------------


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


def _check_references(lint: _Lint, defined: Mapping[str, Mapping[str, Block | Directive]]) -> None:
    ref = lint.ref

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
    lint: _Lint, item: Directive, name: str, defined: Mapping[str, Mapping[str, Block | Directive]]
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


def _check_macro_loops(lint: _Lint) -> None:
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


# --- semantic rules of the guide ------------------------------------------------------------------


def _domain_blocks(tree: Tree, scope: Block, queue: str) -> list[Block]:
    return [block for block in scope.blocks if block.tag == "domain" and block.argument.strip('"') == queue]


def _check_queue_to(lint: _Lint) -> None:
    """§10.9: the queue named by ``queue-to`` needs ``smtp-hosts`` ("Use of the smtp-hosts directive is
    required"), looked up in the scope of the ``queue-to`` and the scopes it inherits from."""
    membership = pools_of(lint.tree)
    pools = {block.argument: block for block in lint.tree.blocks("virtual-mta-pool")}
    for item in lint.tree.directives("queue-to"):
        target = item.value.strip().strip('"')
        scope = item.block.parent
        if not target or scope is None:
            continue
        scopes = [scope]
        if scope.tag == "virtual-mta":
            scopes += [pools[name] for name in membership.get(scope.argument, []) if name in pools]
        if scope is not lint.tree.root:
            scopes.append(lint.tree.root)
        targets = [block for each in scopes for block in _domain_blocks(lint.tree, each, target)]
        if not any(block.first("smtp-hosts") for block in targets):
            lint.at(
                item,
                "queue-to-target",
                f"queue-to {target}: the target queue needs a <domain {target}> with smtp-hosts",
                lint.ref.cite("10.9"),
            )


def _check_rollups(lint: _Lint) -> None:
    section = lint.ref.cite("10.17")
    for block in lint.tree.blocks("mx-rollup-list"):
        for item in block.directives:
            words = item.value.split()
            if item.name != "mx" or len(words) < 2:
                continue
            queue_blocks = _domain_blocks(lint.tree, lint.tree.root, words[1])
            if words[0].startswith("*") and "rollup-by-ip" not in words[2:]:
                if not any(each.first("smtp-hosts") for each in queue_blocks):
                    lint.at(
                        item,
                        "rollup-smtp-hosts",
                        f"wildcard MX {words[0]} without rollup-by-ip: <domain {words[1]}> must set smtp-hosts",
                        section,
                    )
            elif not queue_blocks:
                lint.at(
                    item,
                    "rollup-queue-undefined",
                    f"rollup queue {words[1]} has no <domain {words[1]}> block; its delivery controls are the defaults",
                    section,
                    severity="warning",
                )


def _check_pools(lint: _Lint) -> None:
    vmtas = {block.argument.lower() for block in lint.tree.blocks("virtual-mta")}
    with_domains: dict[str, list[str]] = {}
    for pool in lint.tree.blocks("virtual-mta-pool"):
        if pool.argument.lower() in vmtas:
            lint.at(
                pool, "pool-name-taken", f"pool {pool.argument} has the name of a VMTA", lint.ref.cite("8.3")
            )
        if any(child.tag == "domain" for child in pool.blocks):
            for item in pool.directives:
                if item.name == "virtual-mta":
                    with_domains.setdefault(item.value, []).append(pool.argument)
    for vmta, pools in with_domains.items():
        if len(pools) > 1:
            block = next(b for b in lint.tree.blocks("virtual-mta-pool") if b.argument == pools[1])
            lint.at(
                block,
                "vmta-in-two-pools",
                f"VMTA {vmta} is in pools {', '.join(pools)}, which both define <domain> settings",
                lint.ref.cite("3.3.13.2"),
            )


def _check_accounting(lint: _Lint) -> None:
    has_bounce = any(True for _ in lint.tree.blocks("bounce-processor"))
    has_fbl = any(True for _ in lint.tree.blocks("feedback-loop-processor"))
    for block in lint.tree.blocks("acct-file"):
        records = [item for item in block.directives if item.name == "records"]
        section = lint.ref.cite_directive("records")
        if len(records) > 1:
            lint.at(records[1], "bad-value", "records may only be defined once per <acct-file>", section)
        kinds = {record_type(kind) for kind in split_list(records[0].value)} if records else {"d", "b"}
        if kinds & {"rb", "rs"} and not has_bounce:
            lint.at(
                records[0],
                "no-bounce-processor",
                "rb/rs records are written only for mail a <bounce-processor> recognised; there is none",
                lint.ref.cite("12.6"),
            )
        if "f" in kinds and not has_fbl:
            lint.at(
                records[0],
                "no-fbl-processor",
                "f records are written only for reports a <feedback-loop-processor> recognised; there is none",
                lint.ref.cite("12.7"),
            )
        for item in block.directives:
            if item.name in ("record-fields", "map-header-to-field") and item.value:
                kind = record_type(item.value.split()[0])
                if kind is not None and kind not in kinds:
                    lint.at(
                        item,
                        "fields-unused",
                        f"{item.name} for {kind!r} records, which this <acct-file> does not write",
                        lint.ref.cite_directive(item.name),
                        severity="warning",
                    )


def _paused(vmta: Block) -> bool:
    """Every queue of the VMTA at ``max-msg-rate 0`` (its own ``<domain *>`` says so)."""
    for child in vmta.blocks:
        if child.tag == "domain" and child.argument == "*":
            rate = child.first("max-msg-rate")
            return rate is not None and rate.value == "0"
    return False


def _check_default_vmta(lint: _Lint, facts: Mapping[str, VmtaFacts]) -> None:
    """Unmarked mail must not leave through a paused, warming or standby IP (§3.3.7.29 selects the
    VMTA or pool; §8.2: a VMTA without smtp-source-host sends from the host's own addresses)."""
    vmtas = {block.argument: block for block in lint.tree.blocks("virtual-mta")}
    pools = {
        block.argument: [item.value for item in block.directives if item.name == "virtual-mta"]
        for block in lint.tree.blocks("virtual-mta-pool")
    }

    def unsafe(name: str) -> bool:
        block = vmtas.get(name)
        if block is None:
            return False  # an unknown-reference finding already
        if block.first("smtp-source-host") is None:
            return not _paused(block)
        return _paused(block) or (name in facts and facts[name].state != "active")

    for item in lint.tree.directives("default-virtual-mta"):
        members = pools.get(item.value, [item.value])
        bad = [name for name in members if unsafe(name)] if members else ["(an empty pool)"]
        if bad:
            lint.at(
                item,
                "default-vmta-unsafe",
                f"default-virtual-mta {item.value} sends unmarked mail through {', '.join(bad)}, which is "
                "paused, warming, on standby or has no address of its own; use a pool of active IPs only",
                lint.ref.cite("3.3.7.29"),
            )


def _per_hour(item: Directive | None) -> Fraction | None:
    """A setting's rate in messages per hour; None when absent, unlimited or unreadable (the last is
    a bad-value finding already)."""
    if item is None:
        return None
    try:
        return rate_per_hour(item.value)
    except ValueError:
        return None


def _check_backoff(lint: _Lint, facts: Mapping[str, VmtaFacts]) -> None:
    """§3.3.10.34: in backoff mode ``backoff-max-msg-rate`` replaces ``max-msg-rate``; it defaults to
    the queue's ``max-msg-rate``. Slowing down must mean slower, for every queue through every VMTA,
    whichever inheritance order PowerMTA applies; with the inventory, within the warmup cap too."""
    section = lint.ref.cite("3.3.10.34")
    reported: set[tuple[str, int]] = set()

    def report(item: Directive, code: str, message: str, severity: Severity = "error") -> None:
        if (item.file, item.line) not in reported:
            reported.add((item.file, item.line))
            lint.at(item, code, message, section, severity=severity)

    judged: set[tuple[int, int | None]] = set()
    for view in queue_views(lint.tree):
        fact = facts.get(view.vmta)
        cap = fact.hourly_cap if fact is not None else None
        # VMTAs without blocks of their own share one settings object: judge it once per cap.
        if (id(view.settings), cap) in judged:
            continue
        judged.add((id(view.settings), cap))
        normal_item = view.settings.get("max-msg-rate")
        backoff_item = view.settings.get("backoff-max-msg-rate")
        normal, backoff = _per_hour(normal_item), _per_hour(backoff_item)
        where = f"queue {view.queue} through {view.vmta}"
        if cap is not None and normal_item is not None and (normal is None or normal > cap):
            report(
                normal_item,
                "over-warmup-cap",
                f"{where}: max-msg-rate {normal_item.value} is above the warmup cap {cap}/h",
            )
        if normal is None or normal_item is None:
            continue  # no finite rate to compare with (or a bad-value finding already)
        if backoff_item is None:
            if normal > 0 and "smtp-pattern-list" in view.settings:
                report(
                    normal_item,
                    "backoff-default",
                    f"{where}: no backoff-max-msg-rate, so backoff runs at max-msg-rate {normal_item.value}",
                    "warning",
                )
            continue
        if backoff_item.value != "unlimited" and backoff is None:
            continue  # unreadable: a bad-value finding already
        if normal == 0 and backoff != 0:
            report(
                backoff_item,
                "backoff-not-slower",
                f"{where} is paused (max-msg-rate 0) but backoff-max-msg-rate is {backoff_item.value}",
            )
        elif normal > 0 and (backoff is None or backoff >= normal):
            report(
                backoff_item,
                "backoff-not-slower",
                f"{where}: backoff-max-msg-rate {backoff_item.value} is not slower than max-msg-rate "
                f"{normal_item.value} ({normal_item.file}:{normal_item.line})",
            )
        elif cap and backoff is not None and backoff >= cap:
            report(
                backoff_item,
                "over-warmup-cap",
                f"{where}: backoff-max-msg-rate {backoff_item.value} is not below the warmup cap {cap}/h",
            )


# --- per-line checks, source IPs, entry point --------------------------------------------------


def _check_source_ips(lint: _Lint, expected_ips: Iterable[str], entry: str) -> None:
    seen: dict[str, Directive] = {}
    for item in lint.tree.directives("smtp-source-host"):
        words = item.value.split()
        if not words:
            continue
        try:
            canonical = str(ipaddress.ip_address(words[0]))
        except ValueError:
            continue  # a range, or already a bad-value finding
        if canonical in seen:
            first = seen[canonical]
            lint.at(
                item,
                "duplicate-ip",
                f"source IP {canonical} is already used at {first.file}:{first.line}",
                lint.ref.cite_directive("smtp-source-host"),
            )
        else:
            seen[canonical] = item
    for address in expected_ips:
        canonical = str(ipaddress.ip_address(address))
        if canonical not in seen:
            lint.add(
                entry,
                0,
                "missing-ip",
                f"inventory IP {canonical} has no virtual MTA (smtp-source-host)",
                lint.ref.cite("8.2"),
            )


def lint_files(
    files: Mapping[str, str],
    *,
    entry: str,
    expected_ips: Iterable[str] = (),
    vmtas: Mapping[str, VmtaFacts] | None = None,
    on_disk: bool = False,
) -> LintReport:
    """Lint ``files[entry]`` and everything it includes (pure: the files are given as text, keyed by
    name; an ``include`` resolves to the file of the same name). ``vmtas``: the inventory's facts by
    VMTA name (state, warmup cap) for the checks the text alone cannot make. ``on_disk``: keys are
    real paths."""
    placeholders: list[LintIssue] = []

    def on_line(file: str, line: int, text: str) -> None:
        lowered = text.lower()
        if any(hint in lowered for hint in _PLACEHOLDER_HINTS):
            placeholders.extend(
                LintIssue(
                    file, line, "error", "placeholder", f"placeholder {match.group(0)!r} was never replaced"
                )
                for match in _PLACEHOLDER.finditer(text)
            )

    tree = parse_tree(files, entry=entry, pattern_blocks=PATTERN_BLOCKS, on_disk=on_disk, line_hook=on_line)
    lint = _Lint(reference(), tree, [*tree.issues, *placeholders])
    if entry in files:
        facts = vmtas or {}
        defined = _definitions(tree)
        _check_vocabulary(lint)
        _check_references(lint, defined)
        _check_macro_loops(lint)
        _check_queue_to(lint)
        _check_rollups(lint)
        _check_pools(lint)
        _check_accounting(lint)
        _check_default_vmta(lint, facts)
        _check_backoff(lint, facts)
        _check_source_ips(lint, expected_ips, entry)
    report = LintReport(issues=lint.issues, files=tree.files)
    report.issues.sort(key=lambda issue: (issue.file != entry, issue.file, issue.line, issue.code))
    return report


def _read_tree(path: Path, files: dict[str, str], report: LintReport, depth: int = 0) -> None:
    key = str(path)
    if key in files or depth > 8:
        return
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):
            report.issues.append(LintIssue(key, 0, "error", "not-a-file", "not a regular file", _STRUCTURE))
            return
        if info.st_size > _MAX_FILE_BYTES:
            report.issues.append(
                LintIssue(key, 0, "error", "too-large", "file is larger than 20 MB", _STRUCTURE)
            )
            return
        with path.open("rb") as handle:
            text = handle.read(_MAX_FILE_BYTES).decode("utf-8", errors="replace")
    except OSError as exc:
        report.issues.append(
            LintIssue(key, 0, "error", "unreadable", f"cannot read: {exc.strerror}", _STRUCTURE)
        )
        return
    files[key] = text
    for raw in text.splitlines():
        words = strip_comment(raw).split()
        if len(words) >= 2 and words[0].lower() == "include":
            target = Path(words[1].strip('"'))
            resolved = target if target.is_absolute() else path.parent / target
            if target.is_absolute() and not resolved.exists() and (path.parent / target.name).is_file():
                resolved = path.parent / target.name  # a rendered copy checked outside PMTA_CONFIG_DIR
            _read_tree(resolved, files, report, depth + 1)


def _secret_paths(files: Mapping[str, str]) -> dict[str, tuple[str, int]]:
    """Files holding secrets: any file with a ``password`` line, and every DKIM private key."""
    paths: dict[str, tuple[str, int]] = {}
    for name, text in files.items():
        for number, raw in enumerate(text.splitlines(), start=1):
            words = strip_comment(raw).split()
            if not words:
                continue
            if words[0].lower() in ("password", "auth-password"):
                paths.setdefault(name, (name, number))
            elif words[0].lower() == "domain-key" and len(words) >= 2:
                parts = words[1].split(",")
                if len(parts) >= 3:
                    paths.setdefault(parts[2], (name, number))
    return paths


def lint_path(
    path: Path, *, expected_ips: Iterable[str] = (), vmtas: Mapping[str, VmtaFacts] | None = None
) -> LintReport:
    """Lint a configuration on disk, following ``include`` lines and checking file permissions."""
    files: dict[str, str] = {}
    pre = LintReport()
    _read_tree(path, files, pre)
    report = (
        lint_files(files, entry=str(path), expected_ips=expected_ips, vmtas=vmtas, on_disk=True)
        if str(path) in files
        else pre
    )
    if report is not pre:
        report.issues[:0] = pre.issues
    for secret_path, (file, line) in _secret_paths(files).items():
        try:
            mode = os.stat(secret_path).st_mode
        except OSError:
            if secret_path not in files:
                report.issues.append(
                    LintIssue(
                        file,
                        line,
                        "warning",
                        "missing-key",
                        f"DKIM key {secret_path} does not exist",
                        "§3.3.1.33.1 domain-key",
                    )
                )
            continue
        if mode & stat.S_IROTH:
            report.issues.append(
                LintIssue(
                    file,
                    line,
                    "error",
                    "world-readable",
                    f"{secret_path} holds a secret but is readable by everyone; run chmod o-r {secret_path}",
                    "§10.4.2 Implementation for Inbound Connections",
                )
            )
    return report
