"""What a report file holds: plain XML, gzip, zip, or a whole e-mail with the report attached.

Receivers send aggregate reports as ``.xml``, ``.xml.gz`` or ``.zip`` attachments (RFC 7489 §7.2.1.1;
the samples in tests/data/dmarc-reports show each, plus Mimecast's gzip with two trailing bytes). This
module turns one input into the XML of each report it carries, decompressed in a stream under
limits, so that a decompression bomb is refused after at most ``max_xml_bytes`` and never fills
memory: the caps are the decompressed size per report, the decompressed/compressed ratio, and the
number of members. The kind is read from the bytes (magic numbers), never trusted from a name.
"""

from __future__ import annotations

import email
import email.policy
import io
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage

__all__ = ["Limits", "RefusedInput", "ReportPayload", "report_payloads"]

CHUNK = 64 * 1024
_GZIP = b"\x1f\x8b"
_ZIP = b"PK\x03\x04"
_EMPTY_ZIP = b"PK\x05\x06"
_REPORT_TYPES = {
    "application/zip",
    "application/x-zip-compressed",
    "application/x-zip",
    "application/gzip",
    "application/x-gzip",
    "application/xml",
    "text/xml",
    "application/octet-stream",
}
_MAX_TRAILING_GARBAGE = 64  # bytes after a gzip stream that are ignored (Mimecast adds two)


class RefusedInput(ValueError):
    """The input is refused (not a report container, or over a safety limit); the message says why."""


@dataclass(frozen=True, slots=True)
class Limits:
    max_input_bytes: int = 20 * 1024 * 1024
    max_xml_bytes: int = 100 * 1024 * 1024
    # Deflate tops out near 1032:1; real reports stay far below (the most repetitive sample, a
    # 2,286-record report from one reporter, compresses 102:1). Applied past ``ratio_floor`` bytes.
    max_ratio: int = 300
    ratio_floor: int = 8 * 1024 * 1024
    max_members: int = 20


@dataclass(frozen=True, slots=True)
class ReportPayload:
    """One report inside an input: a name for messages, its compressed size and its XML chunks."""

    name: str
    chunks: Iterator[bytes]


def _limited(chunks: Iterator[bytes], name: str, compressed: int, limits: Limits) -> Iterator[bytes]:
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if total > limits.max_xml_bytes:
            raise RefusedInput(
                f"{name}: the report decompresses to more than {limits.max_xml_bytes:,} bytes "
                "(DMARC_MAX_XML_BYTES); refused as a possible decompression bomb."
            )
        if total > limits.ratio_floor and total > compressed * limits.max_ratio:
            raise RefusedInput(
                f"{name}: the report decompresses more than {limits.max_ratio}:1 "
                "(DMARC_MAX_RATIO); refused as a possible decompression bomb."
            )
        yield chunk


def _gunzip(data: bytes, name: str) -> Iterator[bytes]:
    """Decompress every gzip member, a chunk at a time (``max_length`` keeps each step small)."""
    rest = data
    while rest:
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        pending = rest
        try:
            while not inflater.eof:
                out = inflater.decompress(pending, CHUNK)
                pending = inflater.unconsumed_tail
                if out:
                    yield out
                elif not pending:
                    raise RefusedInput(f"{name}: the gzip stream is truncated.")
        except zlib.error as exc:
            raise RefusedInput(f"{name}: not a readable gzip stream ({exc}).") from None
        rest = inflater.unused_data
        if rest.startswith(_GZIP):
            continue  # another member (RFC 1952 §2.2)
        if len(rest) > _MAX_TRAILING_GARBAGE:
            raise RefusedInput(f"{name}: {len(rest)} bytes of data follow the gzip stream.")
        return


def _plain(data: bytes) -> Iterator[bytes]:
    for start in range(0, len(data), CHUNK):
        yield data[start : start + CHUNK]


def _unzip(data: bytes, name: str, limits: Limits) -> Iterator[ReportPayload]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [info for info in archive.infolist() if not info.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise RefusedInput(f"{name}: not a readable zip archive ({exc}).") from None
    if not members:
        raise RefusedInput(f"{name}: the zip archive is empty.")
    if len(members) > limits.max_members:
        raise RefusedInput(
            f"{name}: the zip archive has {len(members)} files; at most {limits.max_members} are read."
        )
    for info in members:
        label = f"{name}/{info.filename}"
        if info.flag_bits & 0x1:
            raise RefusedInput(f"{label}: the zip member is encrypted.")
        # The declared sizes may lie; they are checked here and the stream is capped anyway.
        if info.file_size > limits.max_xml_bytes:
            raise RefusedInput(
                f"{label}: declares {info.file_size:,} bytes uncompressed, over the {limits.max_xml_bytes:,} "
                "byte limit (DMARC_MAX_XML_BYTES); refused as a possible decompression bomb."
            )
        if (
            info.file_size > limits.ratio_floor
            and info.file_size > max(info.compress_size, 1) * limits.max_ratio
        ):
            raise RefusedInput(
                f"{label}: declares a {info.file_size // max(info.compress_size, 1)}:1 compression ratio, over "
                f"{limits.max_ratio}:1 (DMARC_MAX_RATIO); refused as a possible decompression bomb."
            )
        yield ReportPayload(
            label, _limited(_zip_member(archive, info, label), label, max(info.compress_size, 1), limits)
        )


def _zip_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str) -> Iterator[bytes]:
    try:
        with archive.open(info) as member:
            head = member.read(4)
            if head.startswith((_ZIP, _GZIP, _EMPTY_ZIP)):
                raise RefusedInput(f"{label}: an archive inside an archive is not a DMARC report.")
            yield head
            while chunk := member.read(CHUNK):
                yield chunk
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise RefusedInput(f"{label}: the zip member cannot be read ({exc}).") from None


def _attachments(data: bytes, name: str) -> list[tuple[str, bytes]]:
    message = email.message_from_bytes(data, policy=email.policy.default)
    found: list[tuple[str, bytes]] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        filename = part.get_filename() or ""
        ctype = part.get_content_type()
        lowered = filename.lower()
        if ctype not in _REPORT_TYPES and not lowered.endswith((".xml", ".gz", ".zip")):
            continue
        payload = part.get_payload(decode=True) if isinstance(part, EmailMessage) else None
        if isinstance(payload, bytes) and payload:
            found.append((f"{name}/{filename or ctype}", payload))
    return found


def _looks_like_message(data: bytes) -> bool:
    head = data[:2048].lower()
    return b"\n" in head and any(
        marker in head for marker in (b"content-type:", b"mime-version:", b"received:", b"from:")
    )


def report_payloads(name: str, data: bytes, limits: Limits, *, depth: int = 0) -> Iterator[ReportPayload]:
    """The reports inside one input (XML, gzip, zip or an e-mail message). Raises
    :class:`RefusedInput` for anything else or over a limit; a payload's chunks may raise it too."""
    if len(data) > limits.max_input_bytes:
        raise RefusedInput(
            f"{name}: {len(data):,} bytes is over the {limits.max_input_bytes:,} byte input limit "
            "(DMARC_MAX_INPUT_BYTES)."
        )
    if not data.strip():
        raise RefusedInput(f"{name}: the file is empty.")
    if data.startswith(_GZIP):
        yield ReportPayload(name, _limited(_gunzip(data, name), name, len(data), limits))
    elif data.startswith((_ZIP, _EMPTY_ZIP)):
        yield from _unzip(data, name, limits)
    elif data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        yield ReportPayload(name, _limited(_plain(data), name, len(data), limits))
    elif depth == 0 and _looks_like_message(data):
        attachments = _attachments(data, name)
        if not attachments:
            raise RefusedInput(f"{name}: the message has no .xml, .xml.gz or .zip report attached.")
        for label, payload in attachments:
            yield from report_payloads(label, payload, limits, depth=depth + 1)
    else:
        raise RefusedInput(f"{name}: not XML, gzip, zip or an e-mail message with a report attached.")
