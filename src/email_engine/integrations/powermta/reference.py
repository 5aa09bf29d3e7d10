"""PowerMTA's configuration language as data: ``data/reference.yaml``, read once.

Every block and directive the renderer writes or the linter accepts is an entry there, with the
contexts PowerMTA allows it in, its value form (see :mod:`values`) and the section of the
PowerMTA v5.0 User's Guide (2019 revision) it comes from. The renderer's writer and the linter
both ask this module; neither has a list of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final

import yaml

from email_engine.feedback.bounce import CATEGORIES
from email_engine.integrations.powermta.values import FORMS

__all__ = [
    "BOUNCE_CATEGORIES",
    "GLOBAL",
    "PATTERN_BLOCKS",
    "RESERVED_SOURCES",
    "BlockSpec",
    "DirectiveUse",
    "Reference",
    "reference",
]

GLOBAL: Final = "global"

# Blocks whose body is not made of directives: each line is "/regex/ category" (§10.8).
PATTERN_BLOCKS: Final = frozenset({"bounce-category-patterns"})

# §3.3.7: "Named entries beginning with { are reserved and have special meaning: <source {pickup}> …
# and <source {auth}>".
RESERVED_SOURCES: Final = frozenset({"{pickup}", "{auth}"})

# PowerMTA's standard bounce categories (§11.6) are the classifier's list (one source of truth).
BOUNCE_CATEGORIES: Final[frozenset[str]] = frozenset({*CATEGORIES, "success"})


@dataclass(frozen=True)
class DirectiveUse:
    """One documented use of a directive: where it may appear, its value form, its section."""

    name: str
    contexts: frozenset[str]
    form: str | tuple[str, ...]
    source: str
    example: str = ""
    deprecated: str = ""


@dataclass(frozen=True)
class BlockSpec:
    name: str
    contexts: frozenset[str]
    argument: str
    source: str


class Reference:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.guide: str = str(data["guide"])
        self.sections: dict[str, str] = {str(key): str(value) for key, value in data["sections"].items()}
        self.blocks: dict[str, BlockSpec] = {
            name: BlockSpec(name, frozenset(spec["in"]), str(spec["argument"]), str(spec["source"]))
            for name, spec in data["blocks"].items()
        }
        self.directives: dict[str, tuple[DirectiveUse, ...]] = {
            name: tuple(_use(name, use) for use in uses) for name, uses in data["directives"].items()
        }
        self._check()

    def _check(self) -> None:
        """The file is data people edit: refuse an entry without a known form or a cited section."""
        for uses in self.directives.values():
            for use in uses:
                if isinstance(use.form, str) and use.form not in FORMS:
                    raise ValueError(f"reference.yaml: {use.name} has an unknown value form {use.form!r}")
                if use.source not in self.sections:
                    raise ValueError(f"reference.yaml: {use.name} cites §{use.source}, which has no title")
        for block in self.blocks.values():
            if block.source not in self.sections:
                raise ValueError(f"reference.yaml: <{block.name}> cites §{block.source}, which has no title")

    def use(self, name: str, context: str) -> DirectiveUse | None:
        """The use of ``name`` allowed directly inside ``context`` ("global" or a block tag)."""
        for use in self.directives.get(name, ()):
            if context in use.contexts:
                return use
        return None

    def allowed(self, name: str, context: str) -> bool:
        return self.use(name, context) is not None

    def cite(self, section: str) -> str:
        """``§3.3.10.33 max-msg-rate``: the section number and its title in the guide."""
        title = self.sections.get(section, "")
        return f"§{section} {title}".strip()

    def cite_directive(self, name: str) -> str:
        uses = self.directives.get(name)
        return self.cite(uses[0].source) if uses else ""

    def cite_block(self, name: str) -> str:
        block = self.blocks.get(name)
        return self.cite(block.source) if block else ""


def _use(name: str, raw: Mapping[str, Any]) -> DirectiveUse:
    value = raw["value"]
    form: str | tuple[str, ...] = tuple(value["enum"]) if isinstance(value, dict) else str(value)
    return DirectiveUse(
        name=name,
        contexts=frozenset(raw["in"]),
        form=form,
        source=str(raw["source"]),
        example=str(raw.get("example", "")),
        deprecated=str(raw.get("deprecated", "")),
    )


@lru_cache(maxsize=1)
def reference() -> Reference:
    """The shipped reference (``data/reference.yaml``)."""
    text = (
        resources.files("email_engine.integrations.powermta")
        .joinpath("data/reference.yaml")
        .read_text("utf-8")
    )
    # libyaml's loader when PyYAML was built with it: the file is ~1,100 lines, read on every CLI run.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return Reference(yaml.load(text, Loader=loader))  # noqa: S506 - a safe loader either way
