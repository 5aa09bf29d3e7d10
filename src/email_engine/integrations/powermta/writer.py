"""A line writer that only emits what PowerMTA's User's Guide documents, with checked values.

Every block and directive is looked up in :mod:`reference` for the block it is written in, every
value must have the directive's documented form (:mod:`values`) and be a safe token (see
:mod:`safety`); ``/regex/`` values have their own check. So a rendered file is well-formed by
construction; the linter checks it again, independently, as a whole.
"""

from __future__ import annotations

import re
from typing import Final

from email_engine.integrations.powermta.reference import GLOBAL, reference
from email_engine.integrations.powermta.safety import UnsafeValue
from email_engine.integrations.powermta.values import check_value

__all__ = ["ConfigWriter"]

_VALUE: Final = re.compile(r"[A-Za-z0-9._/:,*=@+{}\[\]|-]{1,4096}")
_COMMENT_SAFE: Final = re.compile(r"[^A-Za-z0-9 ._,:;/()=+*@%'&-]")
_REGEX: Final = re.compile(r"/(?:[^/\\\n\r]|\\[^\n\r])+/")


class ConfigWriter:
    def __init__(self, indent: str = "    ") -> None:
        self._lines: list[str] = []
        self._stack: list[str] = []
        self._indent = indent

    @property
    def context(self) -> str:
        return self._stack[-1] if self._stack else GLOBAL

    def _emit(self, text: str) -> None:
        self._lines.append(self._indent * len(self._stack) + text if text else "")

    def blank(self) -> None:
        self._lines.append("")

    def comment(self, text: str) -> None:
        """A comment; characters outside a plain alphabet are replaced, so it stays one line."""
        self._emit("# " + _COMMENT_SAFE.sub("?", text)[:200])

    def _use_form(self, name: str) -> str | tuple[str, ...]:
        use = reference().use(name, self.context)
        if use is None:
            raise UnsafeValue(f"Directive {name!r} is not documented inside <{self.context}> (renderer bug).")
        return use.form

    def directive(self, name: str, *values: str) -> None:
        form = self._use_form(name)
        for value in values:
            if not _VALUE.fullmatch(value):
                raise UnsafeValue(f"Value {value[:80]!r} for {name} is not safe in a PowerMTA configuration.")
        problem = check_value(form, " ".join(values))
        if problem is not None:
            raise UnsafeValue(f"{name} {' '.join(values)[:80]!r}: {problem} (renderer bug).")
        self._emit(" ".join((name, *values)))

    def pattern_line(self, keyword: str | None, regex: str, *tail: str) -> None:
        """``reply /regex/ mode=backoff`` (a directive) or ``/regex/ category`` (a pattern block line)."""
        if not _REGEX.fullmatch(regex):
            raise UnsafeValue(f"Pattern {regex[:80]!r} is not a single-line /regex/.")
        for value in tail:
            if not _VALUE.fullmatch(value):
                raise UnsafeValue(f"Value {value[:80]!r} after a pattern is not safe.")
        if keyword is not None:
            problem = check_value(self._use_form(keyword), " ".join((regex, *tail)))
            if problem is not None:
                raise UnsafeValue(f"{keyword} {regex[:60]}: {problem} (renderer bug).")
        parts = ([keyword] if keyword else []) + [regex, *tail]
        self._emit(" ".join(parts))

    def open(self, tag: str, argument: str | None = None) -> None:
        spec = reference().blocks.get(tag)
        if spec is None or self.context not in spec.contexts:
            raise UnsafeValue(f"Block <{tag}> cannot open inside <{self.context}> (renderer bug).")
        # "$name" refers to a domain-macro; "$" is allowed nowhere else.
        checked = (
            argument[1:]
            if tag == "domain" and argument is not None and argument.startswith("$")
            else argument
        )
        if checked is not None and not _VALUE.fullmatch(checked):
            raise UnsafeValue(f"Block argument {checked[:80]!r} for <{tag}> is not safe.")
        self._emit(f"<{tag} {argument}>" if argument is not None else f"<{tag}>")
        self._stack.append(tag)

    def close(self) -> None:
        tag = self._stack.pop()
        self._emit(f"</{tag}>")

    def text(self) -> str:
        if self._stack:
            raise UnsafeValue(f"Unclosed block <{self._stack[-1]}> (renderer bug).")
        return "\n".join(self._lines).rstrip("\n") + "\n"
