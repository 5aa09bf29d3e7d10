"""The import contracts hold: the layers of pyproject.toml, and no import cycle between domains."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import grimp
import pytest

import email_engine
from email_engine.plugins import DOMAINS

ROOT = Path(__file__).resolve().parents[3]
#: The checkout whose code is under test (its ``src``), not necessarily the installed one.
SOURCE = Path(email_engine.__file__).resolve().parents[1]


@pytest.mark.slow
def test_layer_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run(
        [str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(SOURCE)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _domain_of(module: str) -> str | None:
    for domain in sorted(DOMAINS, key=len, reverse=True):
        package = f"email_engine.{domain}"
        if module == package or module.startswith(f"{package}."):
            return domain
    return None


def domain_imports(graph: grimp.ImportGraph) -> dict[str, dict[str, list[str]]]:
    """importer domain -> imported domain -> the module imports behind the edge."""
    edges: dict[str, dict[str, list[str]]] = {}
    for importer in graph.modules:
        source = _domain_of(importer)
        if source is None:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            target = _domain_of(imported)
            if target is not None and target != source:
                edges.setdefault(source, {}).setdefault(target, []).append(f"{importer} -> {imported}")
    return edges


def cycles(edges: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges.get(node, ()):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_cycles_finds_a_loop_and_only_a_loop() -> None:
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]
    assert cycles({"a": ["b"], "b": ["c"]}) == []


def test_no_import_cycle_between_domains() -> None:
    graph = grimp.build_graph("email_engine", cache_dir=None)
    edges = domain_imports(graph)
    problems = [
        f"{' <-> '.join(group)}: "
        + "; ".join(
            example for a in group for b in group if b in edges.get(a, {}) for example in edges[a][b][:2]
        )
        for group in cycles(edges)
    ]
    assert not problems, "\n".join(problems)
