"""DKIM keys and the DNS records an operator must create."""

from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from email_engine.errors import Conflict, InvalidInput
from email_engine.integrations.powermta import dkim
from email_engine.integrations.powermta.dns_records import SendingHost, dns_records, to_bind


@pytest.fixture(scope="module")
def rsa_pair() -> dkim.DkimKeyPair:
    return dkim.generate_key("rsa")


def test_rsa_2048_key_and_txt_split(rsa_pair: dkim.DkimKeyPair) -> None:
    key = serialization.load_pem_private_key(rsa_pair.private_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert rsa_pair.txt.startswith("v=DKIM1; k=rsa; p=MII")
    chunks = dkim.split_txt(rsa_pair.txt)
    assert len(chunks) >= 2
    assert all(len(chunk.encode()) <= 255 for chunk in chunks)
    assert "".join(chunks) == rsa_pair.txt
    public = serialization.load_der_public_key(base64.b64decode(rsa_pair.public_b64))
    assert public.public_numbers() == key.public_key().public_numbers()  # type: ignore[union-attr]
    assert dkim.public_txt_from_private(rsa_pair.private_pem) == rsa_pair.txt


def test_ed25519_key() -> None:
    pair = dkim.generate_key("ed25519")
    assert isinstance(
        serialization.load_pem_private_key(pair.private_pem, password=None), ed25519.Ed25519PrivateKey
    )
    assert pair.txt.startswith("v=DKIM1; k=ed25519; p=")
    assert len(base64.b64decode(pair.public_b64)) == 32
    assert dkim.split_txt(pair.txt) == [pair.txt]
    assert dkim.public_txt_from_private(pair.private_pem) == pair.txt


def test_private_key_written_0600_and_never_overwritten(tmp_path: Path, rsa_pair: dkim.DkimKeyPair) -> None:
    path = dkim.key_path(tmp_path / "keys", domain="Example.COM", selector="s2026")
    assert path.name == "example.com.s2026.pem"
    dkim.write_private_key(path, rsa_pair.private_pem)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == rsa_pair.private_pem
    with pytest.raises(Conflict, match="--force"):
        dkim.write_private_key(path, b"other")
    dkim.write_private_key(path, b"other", overwrite=True)
    assert path.read_bytes() == b"other" and stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("domain", "selector"),
    [
        ("exa mple.com", "s1"),
        ("example.com", "s1/../../etc"),
        ("example.com", "s\n1"),
        ("../x", "s1"),
        ("a.com", ""),
    ],
)
def test_hostile_key_names_are_refused(tmp_path: Path, domain: str, selector: str) -> None:
    with pytest.raises(InvalidInput):
        dkim.key_path(tmp_path, domain=domain, selector=selector)


def test_bad_inputs() -> None:
    with pytest.raises(InvalidInput):
        dkim.generate_key("rsa", bits=512)
    with pytest.raises(InvalidInput):
        dkim.public_txt_from_private(b"not a key")


def test_records_for_a_sending_domain(rsa_pair: dkim.DkimKeyPair) -> None:
    hosts = [
        SendingHost("192.0.2.10", "mta1.mail.example.com"),
        SendingHost("2001:db8::25", "mta6.mail.example.com"),
        SendingHost("192.0.2.10", "mta1.mail.example.com"),
    ]
    records, notes = dns_records(
        "example.com",
        hosts=hosts,
        dkim_selector="s2026",
        dkim_txt=rsa_pair.txt,
        bounce_domain="bounce.example.com",
        mx_host="mta1.mail.example.com",
    )
    by_key = {(record.name, record.type): record.value for record in records}
    assert by_key[("example.com.", "TXT")] == "v=spf1 ip4:192.0.2.10 ip6:2001:db8::25 ~all"
    assert by_key[("bounce.example.com.", "TXT")] == by_key[("example.com.", "TXT")]
    assert by_key[("s2026._domainkey.example.com.", "TXT")] == rsa_pair.txt
    assert (
        by_key[("_dmarc.example.com.", "TXT")]
        == "v=DMARC1; p=none; rua=mailto:dmarc-reports@example.com; fo=1"
    )
    assert by_key[("bounce.example.com.", "MX")] == "10 mta1.mail.example.com."
    # a domain that only sends gets no MX; a note says so instead
    assert ("example.com.", "MX") not in by_key
    assert notes == [
        "No MX is published for example.com: a domain that only sends needs none (replies go to the "
        "Reply-To address). Add one only if it must receive mail."
    ]
    assert by_key[("mta1.mail.example.com.", "A")] == "192.0.2.10"
    assert by_key[("mta6.mail.example.com.", "AAAA")] == "2001:db8::25"
    assert by_key[("10.2.0.192.in-addr.arpa.", "PTR")] == "mta1.mail.example.com."
    assert any(name.endswith("ip6.arpa.") for name, kind in by_key if kind == "PTR")
    zone = to_bind(records, notes)
    dkim_line = next(line for line in zone.splitlines() if line.startswith("s2026._domainkey"))
    quoted = dkim_line.split("\tTXT\t")[1]
    assert quoted.count('"') >= 4  # split into several <=255-byte strings
    assert all(len(part) <= 255 for part in quoted.strip('"').split('" "'))
    assert "; 10.2.0.192.in-addr.arpa.\t3600\tIN\tPTR\tmta1.mail.example.com." in zone


def test_no_mx_is_invented_and_the_return_path_says_it_needs_one(rsa_pair: dkim.DkimKeyPair) -> None:
    hosts = [SendingHost("192.0.2.12", "mta3.mail.example.com")]
    records, notes = dns_records(
        "cold.example",
        hosts=hosts,
        dkim_selector="s1",
        dkim_txt=rsa_pair.txt,
        bounce_domain="rp.cold.example",
        mx_host=None,
    )
    assert not [record for record in records if record.type == "MX"]
    assert any(note.startswith("rp.cold.example needs an MX record: it is the return-path") for note in notes)
    # without a bounce domain, the sending domain is its own return-path: it is the one that needs the MX
    records, notes = dns_records(
        "cold.example",
        hosts=hosts,
        dkim_selector="s1",
        dkim_txt=rsa_pair.txt,
        bounce_domain=None,
        mx_host=None,
    )
    assert not [record for record in records if record.type == "MX"]
    assert any(note.startswith("cold.example needs an MX record") for note in notes)
    records, _ = dns_records(
        "cold.example",
        hosts=hosts,
        dkim_selector="s1",
        dkim_txt=rsa_pair.txt,
        bounce_domain=None,
        mx_host="mx.cold.example",
    )
    assert [(r.name, r.value) for r in records if r.type == "MX"] == [
        ("cold.example.", "10 mx.cold.example.")
    ]


def test_missing_key_gives_a_note_not_a_placeholder() -> None:
    records, notes = dns_records(
        "example.org",
        hosts=[],
        dkim_selector="s1",
        dkim_txt=None,
        bounce_domain=None,
        mx_host=None,
        dmarc_rua="reports@example.net",
    )
    assert any("email-engine dkim generate --domain example.org --selector s1" in note for note in notes)
    assert any("No pool sends for example.org" in note and "dns senders" in note for note in notes)
    assert any("needs an MX record" in note for note in notes)
    assert [record.type for record in records] == ["TXT"]
    assert records[0].value == "v=DMARC1; p=none; rua=mailto:reports@example.net; fo=1"
    with pytest.raises(InvalidInput):
        dns_records(
            "bad domain", hosts=[], dkim_selector=None, dkim_txt=None, bounce_domain=None, mx_host=None
        )
