"""Read a bounce or complaint message as a stream and keep only what the DSN/ARF reader needs (pure).

A bounce can carry a 20 MiB original message, and a hostile "report" can list hundreds of thousands of
recipient groups; the standard library's parser would hold all of it, and one object per group, in
memory (896 MB for 376,074 groups). :func:`reduce_message` walks the MIME structure line by line and
copies into a much smaller message:

- every header section (at most ``MAX_HEADER_BYTES`` each) and every boundary line, so the structure
  stays intact;
- the report parts whole — ``message/delivery-status`` (also the RFC 6533 global form) up to
  ``MAX_RECIPIENT_GROUPS`` recipient groups and ``MAX_REPORT_BYTES``; past either the message is
  refused (:class:`~email_engine.errors.PayloadTooLarge`) with a sentence saying which limit;
- the first ``MAX_TEXT_BYTES`` of each text part (the diagnostics of plain-text bounces are at the
  top) and of ``message/feedback-report`` / ``text/rfc822-headers`` parts;
- nothing of other bodies (attachments, the returned message's own body).

Memory is then bounded by these limits whatever the input size (the message itself may be up to
``MAX_MESSAGE_BYTES``).
"""

from __future__ import annotations

import io
import re
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import IO, Final

from email_engine.errors import InvalidInput, PayloadTooLarge

__all__ = [
    "MAX_HEADER_BYTES",
    "MAX_MESSAGE_BYTES",
    "MAX_RECIPIENT_GROUPS",
    "MAX_REPORT_BYTES",
    "MAX_TEXT_BYTES",
    "reduce_message",
]

#: Bounce and complaint messages carry at most the original message; anything bigger is refused.
MAX_MESSAGE_BYTES: Final = 25 * 1024 * 1024
MAX_RECIPIENT_GROUPS: Final = 1000
MAX_REPORT_BYTES: Final = 2 * 1024 * 1024
MAX_HEADER_BYTES: Final = 1024 * 1024
MAX_TEXT_BYTES: Final = 256 * 1024
_MAX_PARTS: Final = 1000
_MAX_DEPTH: Final = 50
_MAX_LINE: Final = 64 * 1024
_REPORTS = frozenset({"message/delivery-status", "message/global-delivery-status"})
_HEADS = frozenset({"message/feedback-report", "text/rfc822-headers", "text/global-headers"})
_ENCLOSED = frozenset({"message/rfc822", "message/global"})
_RECIPIENT_FIELD = re.compile(rb"^(final|original)-recipient[ \t]*:", re.IGNORECASE)
_IDENTITY = frozenset({"", "7bit", "8bit", "binary"})


class _Lines:
    """Physical lines (split at ``_MAX_LINE``), with the total size checked against the message limit."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream
        self.size = 0

    def next(self) -> bytes | None:
        line = self._stream.readline(_MAX_LINE)
        if not line:
            return None
        self.size += len(line)
        if self.size > MAX_MESSAGE_BYTES:
            raise PayloadTooLarge(
                f"The message is over {MAX_MESSAGE_BYTES} bytes; bounce and complaint messages are limited to "
                f"{MAX_MESSAGE_BYTES} (25 MiB)."
            )
        return line


def _is_blank(line: bytes) -> bool:
    return line in (b"\n", b"\r\n")


def _boundary_of(line: bytes, boundaries: list[bytes]) -> bytes | None:
    """The boundary this line opens or closes (innermost first), if any."""
    if not line.startswith(b"--"):
        return None
    text = line.rstrip()
    for boundary in reversed(boundaries):
        if text == b"--" + boundary or text == b"--" + boundary + b"--":
            return boundary
    return None


class _Reducer:
    def __init__(self, stream: IO[bytes]) -> None:
        self.lines = _Lines(stream)
        self.out = io.BytesIO()
        self.parts = 0

    def entity(self, boundaries: list[bytes], depth: int) -> bytes | None:
        """Copy one entity; return the boundary line that ended it (None at the end of input)."""
        if depth > _MAX_DEPTH:
            raise InvalidInput("The message nests MIME parts too deeply to be a bounce or complaint report.")
        self.parts += 1
        if self.parts > _MAX_PARTS:
            raise PayloadTooLarge(
                f"The message has more than {_MAX_PARTS} MIME parts; a bounce report has a few."
            )
        header, ended = self._header(boundaries)
        if ended is not None:
            return ended
        part = BytesHeaderParser(policy=compat32).parsebytes(header)
        content_type = part.get_content_type()
        if content_type.startswith("multipart/") and part.get_boundary():
            return self._multipart(part, boundaries, depth)
        if content_type in _ENCLOSED:
            return self.entity(boundaries, depth + 1)
        return self._body(_policy(part), boundaries)

    def _header(self, boundaries: list[bytes]) -> tuple[bytes, bytes | None]:
        kept = bytearray()
        while (line := self.lines.next()) is not None:
            if _boundary_of(line, boundaries) is not None:
                self.out.write(kept)
                return bytes(kept), line
            kept += line
            if len(kept) > MAX_HEADER_BYTES:
                raise PayloadTooLarge(f"A header section of the message is over {MAX_HEADER_BYTES} bytes.")
            if _is_blank(line):
                break
        self.out.write(kept)
        return bytes(kept), None

    def _multipart(self, part: Message, boundaries: list[bytes], depth: int) -> bytes | None:
        boundary = str(part.get_boundary()).encode("ascii", "replace")
        inner = [*boundaries, boundary]
        line = self._skip(inner)  # the preamble
        while line is not None and _boundary_of(line, inner) == boundary:
            self.out.write(line)
            if line.rstrip() == b"--" + boundary + b"--":
                return self._skip(boundaries)  # the closing delimiter, then the epilogue
            line = self.entity(inner, depth + 1)
        return line  # an outer boundary (or the end) cut this multipart short

    def _skip(self, boundaries: list[bytes]) -> bytes | None:
        while (line := self.lines.next()) is not None:
            if _boundary_of(line, boundaries) is not None:
                return line
        return None

    def _body(self, policy: str, boundaries: list[bytes]) -> bytes | None:
        kept = 0
        groups = 0
        counted = False
        while (line := self.lines.next()) is not None:
            if _boundary_of(line, boundaries) is not None:
                return line
            if policy == "drop":
                continue
            if policy == "report":
                if _is_blank(line):
                    counted = False  # the next block is another group
                elif not counted and _RECIPIENT_FIELD.match(line):
                    counted = True
                    groups += 1
                    if groups > MAX_RECIPIENT_GROUPS:
                        raise PayloadTooLarge(
                            f"The report lists more than {MAX_RECIPIENT_GROUPS} recipients; a bounce report "
                            "covers the recipients of one message. Split it, or read it with another tool."
                        )
                kept += len(line)
                if kept > MAX_REPORT_BYTES:
                    raise PayloadTooLarge(
                        f"The delivery-status part of the message is over {MAX_REPORT_BYTES} bytes."
                    )
                self.out.write(line)
                continue
            if kept + len(line) > MAX_TEXT_BYTES:
                policy = "drop"  # the rest of this text is not needed
                continue
            kept += len(line)
            self.out.write(line)
        return None


def _policy(part: Message) -> str:
    content_type = part.get_content_type()
    encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if content_type in _REPORTS:
        # An encoded report cannot be counted line by line: keep a text-sized head of it only.
        return "report" if encoding in _IDENTITY else "head"
    if content_type in _HEADS or part.get_content_maintype() == "text":
        return "head"
    return "drop"


def reduce_message(stream: IO[bytes]) -> bytes:
    """The parts of the message on ``stream`` that the DSN/ARF reader uses (see the module docstring)."""
    reducer = _Reducer(stream)
    reducer.entity([], 0)
    return reducer.out.getvalue()
