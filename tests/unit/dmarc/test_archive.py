"""Report containers: gzip, zip, e-mail, and the limits that refuse decompression bombs."""

from __future__ import annotations

import gzip
import io
import zipfile
import zlib
from email.message import EmailMessage
from pathlib import Path

import pytest

from email_engine.dmarc.archive import Limits, RefusedInput, report_payloads

DATA = Path(__file__).resolve().parents[2] / "data" / "dmarc-reports"
XML = (DATA / "veeam.com!example.com!1530133200!1530219600.xml").read_bytes()
SMALL = Limits(
    max_input_bytes=1024 * 1024, max_xml_bytes=4 * 1024 * 1024, max_ratio=300, ratio_floor=64 * 1024
)


def unpack(data: bytes, limits: Limits = SMALL) -> list[bytes]:
    return [b"".join(payload.chunks) for payload in report_payloads("input", data, limits)]


def zipped(members: dict[str, bytes], *, level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return buffer.getvalue()


def test_plain_gzip_zip_and_mail_give_the_same_xml() -> None:
    mail = EmailMessage()
    mail["Subject"] = "Report domain: example.com"
    mail.set_content("see attachment")
    mail.add_attachment(gzip.compress(XML), maintype="application", subtype="gzip", filename="r.xml.gz")
    for data in (XML, gzip.compress(XML), zipped({"r.xml": XML}), mail.as_bytes()):
        assert unpack(data) == [XML]


def test_gzip_with_trailing_bytes_and_several_members() -> None:
    assert unpack(gzip.compress(XML) + b"\x00\x00") == [XML]  # Mimecast sends two stray bytes
    assert unpack(gzip.compress(XML[:500]) + gzip.compress(XML[500:])) == [XML]  # RFC 1952 members
    with pytest.raises(RefusedInput, match="follow the gzip stream"):
        unpack(gzip.compress(XML) + b"x" * 500)
    with pytest.raises(RefusedInput, match="truncated"):
        unpack(gzip.compress(XML)[:-30])


def test_gzip_bomb_stops_at_the_size_limit_without_inflating_it() -> None:
    bomb = gzip.compress(b"<feedback>" + b" " * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024  # 64 MiB of blanks in ~64 KiB: about 1000:1
    with pytest.raises(RefusedInput, match="decompression bomb"):
        unpack(bomb)


def test_ratio_limit_applies_below_the_size_limit() -> None:
    roomy = Limits(
        max_input_bytes=1024 * 1024, max_xml_bytes=512 * 1024 * 1024, max_ratio=300, ratio_floor=1024 * 1024
    )
    bomb = gzip.compress(b"<feedback>" + b"a" * (16 * 1024 * 1024), compresslevel=9)
    with pytest.raises(RefusedInput, match="300:1"):
        unpack(bomb, roomy)


def test_zip_bomb_refused_from_its_declared_size() -> None:
    bomb = zipped({"report.xml": b"<feedback>" + b"\0" * (8 * 1024 * 1024)})
    with pytest.raises(RefusedInput, match="declares 8,388,618 bytes uncompressed"):
        unpack(bomb)


def test_zip_bomb_with_a_lying_header_is_stopped_while_reading() -> None:
    body = b"<feedback>" + b"\0" * (8 * 1024 * 1024)
    honest = zipped({"report.xml": body})
    # Rewrite the declared uncompressed size in both headers to 100 bytes.
    real = len(body).to_bytes(4, "little")
    liar = honest.replace(real, (100).to_bytes(4, "little"))
    assert liar != honest
    with pytest.raises(RefusedInput):
        unpack(liar)


def test_nested_and_crowded_archives_are_refused() -> None:
    with pytest.raises(RefusedInput, match="archive inside an archive"):
        unpack(zipped({"inner.zip": zipped({"r.xml": XML})}))
    with pytest.raises(RefusedInput, match="at most 20"):
        unpack(zipped({f"r{i}.xml": XML for i in range(21)}))
    with pytest.raises(RefusedInput, match="zip archive is empty"):
        unpack(zipped({}))


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        (b"", "empty"),
        (b"%PDF-1.4 not a report", "not XML, gzip, zip"),
        (b"\x1f\x8bnot really gzip", "not a readable gzip"),
        (b"PK\x03\x04broken", "not a readable zip"),
        (b"Subject: hello\r\nFrom: a@b.test\r\n\r\njust text\r\n", "no .xml, .xml.gz or .zip report"),
    ],
)
def test_unreadable_inputs_say_what_they_are_not(data: bytes, needle: str) -> None:
    with pytest.raises(RefusedInput, match=needle):
        unpack(data)


def test_oversize_input_is_refused_before_reading() -> None:
    with pytest.raises(RefusedInput, match="input limit"):
        unpack(b"<" + b" " * (2 * 1024 * 1024))


def test_deflate_of_zeroes_really_is_a_bomb() -> None:
    # The numbers the limits are set against: deflate reaches ~1000:1 on constant input.
    raw = b"\0" * (10 * 1024 * 1024)
    assert len(raw) / len(zlib.compress(raw, 9)) > 900
