"""Read PowerMTA configuration text into a tree of blocks and directives (pure; no file access).

The syntax is the guide's (§3.1): one directive per line (``name value…``), blocks between
``<tag argument>`` and ``</tag>``, and ``#`` starting a comment wherever it appears (the guide has
``#`` written as ``\\x23`` inside patterns for this reason, §3.3.15). ``include`` lines are followed
where they stand, so an included file's lines belong to the block around the ``include``.
Structural problems (unbalanced tags, unreadable includes) are reported as :class:`LintIssue`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Final, Literal

__all__ = [
    "Block",
    "Directive",
    "LintIssue",
    "Severity",
    "Tree",
    "parse_tree",
    "strip_comment",
]

Severity = Literal["error", "warning"]

_TAG: Final = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s+([^>]*?))?\s*>$")
_MAX_INCLUDE_DEPTH: Final = 8


@dataclass(frozen=True)
class LintIssue:
    file: str
    line: int
    severity: Severity
    code: str
    message: str
    #: The User's Guide section the finding rests on (``§3.3.10.33 max-msg-rate``).
    section: str = ""

    def __str__(self) -> str:
        where = f" [{self.code}; guide {self.section}]" if self.section else f" [{self.code}]"
        return f"{self.file}:{self.line}: {self.severity}: {self.message}{where}"


@dataclass
class Directive:
    name: str
    value: str
    file: str
    line: int
    block: Block


@dataclass
class Block:
    tag: str
    argument: str
    file: str
    line: int
    parent: Block | None = None
    directives: list[Directive] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    #: Raw body lines of pattern blocks (``/regex/ category``): (file, line, text).
    lines: list[tuple[str, int, str]] = field(default_factory=list)

    def first(self, name: str) -> Directive | None:
        return next((item for item in self.directives if item.name == name), None)

    def walk(self) -> Iterator[Block]:
        """This block and every block inside it, depth first."""
        stack = [self]
        while stack:
            block = stack.pop()
            yield block
            stack.extend(reversed(block.blocks))


@dataclass
class Tree:
    root: Block
    files: list[str]
    issues: list[LintIssue]
    _blocks: dict[str, list[Block]] = field(default_factory=dict, repr=False)
    _directives: dict[str, list[Directive]] = field(default_factory=dict, repr=False)

    def _index(self) -> None:
        for block in self.root.walk():
            self._blocks.setdefault(block.tag, []).append(block)
            for item in block.directives:
                self._directives.setdefault(item.name, []).append(item)

    def blocks(self, tag: str) -> Iterator[Block]:
        """Every block with this tag, in file order."""
        if not self._blocks:
            self._index()
        return iter(self._blocks.get(tag, []))

    def directives(self, name: str) -> Iterator[Directive]:
        """Every directive with this name, in file order (by block)."""
        if not self._blocks:
            self._index()
        return iter(self._directives.get(name, []))


def strip_comment(line: str) -> str:
    """The line without its ``#`` comment (§3.1: "PowerMTA ignores the # and any characters following
    it until the end of the line")."""
    return line.split("#", 1)[0].strip()


def resolve_include(target: str, current: str, files: Mapping[str, str]) -> str | None:
    """The included file: as written, relative to the including file, or (a rendered copy being
    checked outside PMTA_CONFIG_DIR) the file of the same name beside the including one."""
    beside = PurePosixPath(current).parent
    for candidate in (target, str(beside / target), str(beside / PurePosixPath(target).name)):
        if candidate in files:
            return candidate
    name = PurePosixPath(target).name
    return name if name in files else None


@dataclass
class _Parser:
    files: Mapping[str, str]
    on_disk: bool
    pattern_blocks: frozenset[str]
    line_hook: Callable[[str, int, str], None]
    issues: list[LintIssue] = field(default_factory=list)
    read: list[str] = field(default_factory=list)

    def add(self, file: str, line: int, code: str, message: str, severity: Severity = "error") -> None:
        self.issues.append(
            LintIssue(file, line, severity, code, message, "§3.1 Working with the configuration file")
        )

    def parse(self, name: str, block: Block, depth: int, visiting: tuple[str, ...]) -> None:
        self.read.append(name)
        stack: list[Block] = [block]
        for number, raw in enumerate(self.files[name].splitlines(), start=1):
            text = strip_comment(raw)
            if not text:
                continue
            self.line_hook(name, number, text)
            current = stack[-1]
            if text.startswith("<"):
                self._tag(name, number, text, stack)
                continue
            if current.tag in self.pattern_blocks:
                current.lines.append((name, number, text))
                continue
            directive_name, _, value = text.partition(" ")
            item = Directive(directive_name.lower(), value.strip(), name, number, current)
            current.directives.append(item)
            if item.name == "include":
                self._include(item, depth, visiting, current)
        for open_block in reversed(stack[1:]):
            self.add(name, open_block.line, "unbalanced", f"<{open_block.tag}> is never closed")

    def _tag(self, name: str, number: int, text: str, stack: list[Block]) -> None:
        match = _TAG.match(text)
        if match is None:
            self.add(name, number, "bad-tag", f"malformed tag {text[:60]!r}")
            return
        closing, tag, argument = match.group(1), match.group(2).lower(), (match.group(3) or "").strip()
        if not closing:
            child = Block(tag, argument, name, number, parent=stack[-1])
            stack[-1].blocks.append(child)
            stack.append(child)
            return
        if len(stack) == 1:
            self.add(name, number, "unbalanced", f"</{tag}> closes nothing")
        elif stack[-1].tag != tag:
            open_block = stack[-1]
            self.add(
                name,
                number,
                "unbalanced",
                f"</{tag}> found while <{open_block.tag}> (line {open_block.line}) is still open",
            )
            if any(item.tag == tag for item in stack[1:]):
                while stack[-1].tag != tag:
                    stack.pop()
                stack.pop()
        else:
            stack.pop()

    def _include(self, item: Directive, depth: int, visiting: tuple[str, ...], block: Block) -> None:
        written = item.value.strip('"')
        target = resolve_include(written, item.file, self.files)
        if target is None:
            self.add(item.file, item.line, "missing-include", f"included file {written!r} was not found")
        elif target in visiting:
            self.add(item.file, item.line, "include-loop", f"{written!r} includes itself (loop)")
        elif depth >= _MAX_INCLUDE_DEPTH:
            self.add(item.file, item.line, "include-depth", "includes are nested more than 8 deep")
        else:
            if self.on_disk and target != written and PurePosixPath(written).is_absolute():
                self.add(
                    item.file,
                    item.line,
                    "include-elsewhere",
                    f"{written} was not found; checked {target} (the file of that name beside this one) instead",
                    "warning",
                )
            self.parse(target, block, depth + 1, (*visiting, target))


def parse_tree(
    files: Mapping[str, str],
    *,
    entry: str,
    pattern_blocks: frozenset[str],
    on_disk: bool = False,
    line_hook: Callable[[str, int, str], None] = lambda _file, _line, _text: None,
) -> Tree:
    """The tree of ``files[entry]`` and what it includes; ``line_hook`` sees every non-comment line."""
    root = Block("global", "", entry, 0)
    parser = _Parser(files, on_disk, pattern_blocks, line_hook)
    if entry not in files:
        parser.add(entry, 0, "missing-file", f"{entry} was not found")
    else:
        parser.parse(entry, root, 0, (entry,))
    return Tree(root=root, files=parser.read, issues=parser.issues)
