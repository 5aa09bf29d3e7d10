"""docs/deployment-guide.md and docs/runbook.md stay true: every file they name exists, every `email-engine …`
command they give is a real command, and every `--option` given to it is one it takes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from email_engine import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ("docs/deployment-guide.md", "docs/runbook.md")
PATH = re.compile(r"(?<![\w/.$-])((?:scripts|deploy|monitoring|tests|docs)/[\w./-]*[\w/])")
COMMAND = re.compile(r"email-engine((?: +[a-z][\w-]*| +--[a-z][\w-]*| +[A-Z0-9<{][^\s`|;&]*)+)")


@pytest.fixture(scope="module")
def tree() -> Any:
    cli._register_domains()
    return typer.main.get_command(cli.app)


@pytest.mark.parametrize("doc", DOCS)
def test_every_named_file_exists(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = sorted(set(PATH.findall(text)))
    assert named, doc
    # The runbook's monitoring commands run in monitoring/ (cd monitoring && promtool … tests/…).
    missing = [
        path for path in named if not (ROOT / path).exists() and not (ROOT / "monitoring" / path).exists()
    ]
    assert missing == [], f"{doc} names files that do not exist: {missing}"


@pytest.mark.parametrize("doc", DOCS)
def test_every_command_and_option_exists(doc: str, tree: Any) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    problems: list[str] = []
    found = 0
    for match in COMMAND.finditer(text):
        words = match.group(1).split()
        node = tree
        for word in words:
            commands = getattr(node, "commands", None)
            if commands is None or word.startswith("-") or word not in commands:
                break
            node = commands[word]
        if getattr(node, "commands", None):  # still a group: the word after it is not one of its commands
            problems.append(f"email-engine {' '.join(words)}: no such command")
            continue
        found += 1
        options = {name for param in node.params for name in (*param.opts, *param.secondary_opts)}
        problems.extend(
            f"email-engine {' '.join(words)}: {word} is not an option of it"
            for word in words
            if word.startswith("--") and word.split("=")[0] not in options
        )
    assert found > 5, doc
    assert problems == [], problems
