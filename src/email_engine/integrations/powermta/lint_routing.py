"""Linter checks of queue routing (pure): a ``queue-to`` target and a wildcard MX rollup without
``rollup-by-ip`` need ``smtp-hosts`` (§10.9, §10.17)."""

from __future__ import annotations

from email_engine.integrations.powermta.config_tree import Block, Tree
from email_engine.integrations.powermta.inheritance import pools_of
from email_engine.integrations.powermta.lint_findings import LintRun

__all__ = ["check_queue_to", "check_rollups"]


def _domain_blocks(tree: Tree, scope: Block, queue: str) -> list[Block]:
    return [block for block in scope.blocks if block.tag == "domain" and block.argument.strip('"') == queue]


def check_queue_to(lint: LintRun) -> None:
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


def check_rollups(lint: LintRun) -> None:
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
