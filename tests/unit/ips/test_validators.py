"""Every field that reaches a config file, a DNS query or a shell is checked here."""

from __future__ import annotations

import pytest

from email_engine.ips import validators as v


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("192.0.2.10", "192.0.2.10"),
        ("203.0.113.255", "203.0.113.255"),
        ("2001:DB8::0001", "2001:db8::1"),
        ("2001:0db8:0000:0000:0000:0000:0000:0010", "2001:db8::10"),
        ("10.1.2.3", "10.1.2.3"),  # private: allowed (1:1 NAT on clouds)
        ("fd00::25", "fd00::25"),  # ULA: allowed for the same reason
    ],
)
def test_addresses_are_normalised(raw: str, expected: str) -> None:
    assert v.normalise_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("::ffff:192.0.2.1", "IPv4-mapped"),
        ("::FFFF:c000:0201", "IPv4-mapped"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.5", "multicast"),
        ("ff02::1", "multicast"),
        ("169.254.1.1", "link-local"),
        ("fe80::1", "link-local"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("fe80::1%eth0", "zone"),
        ("192.0.2.1 ", "not an IP"),
        (" 192.0.2.1", "not an IP"),
        ("192.0.2.1\n", "not an IP"),
        ("192.0.2", "not an IP"),
        ("192.0.2.256", "not an IP"),
        ("192.000.002.001", "not an IP"),
        ("1.2.3.4.5", "not an IP"),
        ("2001:db8::g", "not an IP"),
        ("2001:db8:::1", "not an IP"),
        ("", "not an IP"),
        ("mail.example.com", "not an IP"),
        ("192.0.2.1/32", "not an IP"),
        ("192.0.2.1'; DROP TABLE sending_ip; --", "not an IP"),
        ("1" * 100, "not an IP"),
    ],
)
def test_bad_addresses_are_refused(raw: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        v.normalise_address(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("mail1.example.com", "mail1.example.com"),
        ("MTA-7.Mail.Example.ORG.", "mta-7.mail.example.org"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("a" * 63 + ".example.com", "a" * 63 + ".example.com"),
    ],
)
def test_hostnames_are_normalised(raw: str, expected: str) -> None:
    assert v.normalise_hostname(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "mail 1.example.com",
        "mail1.example.com\n",
        "mail1\n.example.com",
        "mail1.example.com}",
        "{mail1}.example.com",
        'mail"1.example.com',
        "mail'1.example.com",
        "mail_1.example.com",
        "-mail.example.com",
        "mail-.example.com",
        "mail..example.com",
        "localhost",
        "example.123",
        "a" * 64 + ".example.com",
        ".".join(["abcdefghi"] * 30),
        "",
        "mail1.example.com; rm -rf /",
        "mail1.example.com'--",
        "émail.example.com",
        "mail1.example.com\x00",
        "\tmail1.example.com",
    ],
)
def test_bad_hostnames_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        v.normalise_hostname(raw)


@pytest.mark.parametrize("raw", ["vmta-1", "pool7", "a", "9-lives", "x" * 64])
def test_slugs_accepted(raw: str) -> None:
    assert v.normalise_slug(raw, what="VMTA name") == raw


@pytest.mark.parametrize(
    "raw",
    ["VMTA1", "vmta_1", "vmta 1", "vmta-1\n", "-vmta", "vmta}", "vmta.1", "", "x" * 65, "vmta'1", "ä"],
)
def test_bad_slugs_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=r"lowercase letters, digits and hyphens|spaces"):
        v.normalise_slug(raw, what="VMTA name")


@pytest.mark.parametrize(("raw", "expected"), [("s2026", "s2026"), ("Mail.2026", "mail.2026"), ("k1", "k1")])
def test_selectors_accepted(raw: str, expected: str) -> None:
    assert v.normalise_dkim_selector(raw) == expected


@pytest.mark.parametrize("raw", ["s 1", "s1\n", "s_1", "s1}", "-s1", "", "a" * 64, "s1._domainkey'", "s..1"])
def test_bad_selectors_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        v.normalise_dkim_selector(raw)


def test_notes_allow_newlines_but_not_control_characters() -> None:
    assert v.clean_notes("  rack 4\nport 2  ") == "rack 4\nport 2"
    with pytest.raises(ValueError, match="control"):
        v.clean_notes("bad\x00byte")
    with pytest.raises(ValueError, match="longer"):
        v.clean_notes("x" * (v.MAX_NOTES + 1))


def test_reason_is_required() -> None:
    with pytest.raises(ValueError, match="reason"):
        v.clean_reason("   ")
    assert v.clean_reason(" listed on a major list ") == "listed on a major list"


@pytest.mark.parametrize(
    ("hostname", "expected"),
    [
        ("mail.example.com", "vmta-mail-example-com"),
        ("mta-1.mail.example.com", "vmta-mta-1-mail-example-com"),
        ("a" * 63 + ".example.com", "vmta-" + "a" * 59),
        ("x" * 20 + "." + "y" * 37 + ".example.com", "vmta-" + "x" * 20 + "-" + "y" * 37),
    ],
)
def test_vmta_name_for_a_hostname(hostname: str, expected: str) -> None:
    name = v.vmta_name_for(hostname)
    assert name == expected
    assert v.normalise_slug(name, what="VMTA name") == name
