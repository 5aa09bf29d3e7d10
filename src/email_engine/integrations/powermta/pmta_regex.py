"""Python regular expressions in PowerMTA's ``/regex/`` form, and back (for the evaluator).

PowerMTA reads Perl-compatible expressions between slashes. Most of Python's syntax is the same;
the differences handled here:

- flags become inline groups (``re.I`` -> ``(?i)``, ``re.M`` -> ``(?m)``, ``re.S`` -> ``(?s)``);
- ``(?P<name>…)`` becomes ``(?<name>…)``, ``\\Z`` becomes ``\\z``;
- ``/`` is escaped, ``#`` is written ``\\x23`` (never read as a comment), non-ASCII characters are
  written ``\\x{hhhh}``.

Anything that cannot be expressed the same way is refused with the reason: verbose or locale
patterns, named back-references, ``\\N{…}`` escapes, and line breaks.
"""

from __future__ import annotations

import re
from typing import Final

from email_engine.errors import InvalidInput

__all__ = ["from_pmta_regex", "to_pmta_regex"]

_REFUSED_FLAGS: Final = ((re.VERBOSE, "verbose (re.X)"), (re.LOCALE, "locale (re.L)"))
_INLINE: Final = ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s"))


class InexpressiblePattern(InvalidInput):
    """A Python pattern that PowerMTA would read differently."""


def to_pmta_regex(pattern: re.Pattern[str]) -> str:
    """``/…/`` text PowerMTA reads as the same expression; raises :class:`InexpressiblePattern`."""
    source = pattern.pattern
    if not isinstance(source, str):
        raise InexpressiblePattern("Byte patterns cannot be written into the PowerMTA configuration.")
    for flag, name in _REFUSED_FLAGS:
        if pattern.flags & flag:
            raise InexpressiblePattern(
                f"Pattern {source!r} uses the {name} flag, which PowerMTA cannot read."
            )
    prefix = "".join(letter for flag, letter in _INLINE if pattern.flags & flag)
    body = _convert(source)
    return "/" + (f"(?{prefix})" if prefix else "") + body + "/"


_OPEN_MIN: Final = re.compile(r"\{,(\d+)\}")


def _convert(source: str) -> str:
    out: list[str] = []
    index = 0
    length = len(source)
    class_start: int | None = None  # index of the "[" of the character class we are in
    while index < length:
        char = source[index]
        if char in "\n\r\x00":
            raise InexpressiblePattern(f"Pattern {source[:60]!r} contains a line break or NUL character.")
        if char == "\\":
            if index + 1 >= length:
                raise InexpressiblePattern(f"Pattern {source[:60]!r} ends with a lone backslash.")
            nxt = source[index + 1]
            if nxt == "Z":
                out.append("\\z")
            elif nxt == "N":
                raise InexpressiblePattern(
                    f"Pattern {source[:60]!r} uses a \\N{{…}} escape; write the character."
                )
            elif nxt in "uU":
                digits = 4 if nxt == "u" else 8
                code = source[index + 2 : index + 2 + digits]
                if len(code) != digits or not all(c in "0123456789abcdefABCDEF" for c in code):
                    raise InexpressiblePattern(f"Pattern {source[:60]!r} has a malformed \\{nxt} escape.")
                out.append(f"\\x{{{int(code, 16):04x}}}")
                index += 2 + digits
                continue
            elif ord(nxt) > 127:
                out.append(f"\\x{{{ord(nxt):04x}}}")
            elif nxt == "#":
                out.append("\\x23")
            elif nxt in "\n\r":
                raise InexpressiblePattern(f"Pattern {source[:60]!r} contains a line break.")
            else:
                out.append(source[index : index + 2])
            index += 2
            continue
        if class_start is not None:
            first = index == class_start + 1 or (index == class_start + 2 and source[class_start + 1] == "^")
            if char == "]" and not first:
                class_start = None
        elif char == "[":
            class_start = index
        elif char == "{" and (match := _OPEN_MIN.match(source, index)):
            # Python reads "{,n}" as "{0,n}"; older PCRE reads it as literal text.
            out.append(f"{{0,{match.group(1)}}}")
            index = match.end()
            continue
        if class_start is None and source.startswith("(?P<", index):
            out.append("(?<")
            index += 4
            continue
        if class_start is None and source.startswith("(?P=", index):
            raise InexpressiblePattern(
                f"Pattern {source[:60]!r} uses a named back-reference (?P=…), which PowerMTA reads differently."
            )
        if (
            class_start is None
            and source.startswith("(?", index)
            and index + 2 < length
            and source[index + 2] in "aLux"
        ):
            raise InexpressiblePattern(
                f"Pattern {source[:60]!r} uses an inline flag PowerMTA does not support."
            )
        if char == "/":
            out.append("\\/")
        elif char == "#":
            out.append("\\x23")
        elif ord(char) > 127:
            out.append(f"\\x{{{ord(char):04x}}}")
        elif ord(char) < 32 and char != "\t":
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
        index += 1
    return "".join(out)


_HEX_BRACED: Final = re.compile(r"\\x\{([0-9a-fA-F]{1,6})\}")


def from_pmta_regex(text: str) -> re.Pattern[str]:
    """Compile PowerMTA ``/…/`` text with Python's engine, PCRE spellings translated back."""
    if len(text) < 2 or not text.startswith("/") or not text.endswith("/"):
        raise InvalidInput(f"{text[:60]!r} is not a /regex/ pattern.")
    body = text[1:-1]
    out: list[str] = []
    index = 0
    while index < len(body):
        if body[index] == "\\" and index + 1 < len(body):
            match = _HEX_BRACED.match(body, index)
            if match:
                out.append(re.escape(chr(int(match.group(1), 16))))
                index = match.end()
                continue
            nxt = body[index + 1]
            out.append("\\Z" if nxt == "z" else "/" if nxt == "/" else body[index : index + 2])
            index += 2
            continue
        if body.startswith("(?<", index) and index + 3 < len(body) and body[index + 3] not in "=!":
            out.append("(?P<")
            index += 3
            continue
        out.append(body[index])
        index += 1
    return re.compile("".join(out))
