"""The DNS records an operator must publish for one sending domain (pure; see dns/dns-templates.md).

Per domain, not per machine: SPF (on the sending domain and on its bounce/return-path domain) lists
only the IPs of the pools that send for that domain, so a cold-outreach domain never vouches for the
transactional IPs (RFC 7208 §2.3: the record authorizes hosts to use the domain). DKIM, DMARC
(``p=none`` with ``rua`` to start: monitor first, tighten later), A/AAAA for those IPs' host names,
and the PTR records the IP provider must set (forward-confirmed reverse DNS).

MX only where mail must be received, never invented: the return-path (MAIL FROM) domain needs one
(asynchronous bounces are sent to it, and receivers check that the MAIL FROM domain can receive
mail), a domain that only sends does not. Without a known host the record is replaced by a note
saying it is needed and how to provide it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from email_engine.integrations.powermta.dkim import split_txt
from email_engine.integrations.powermta.safety import check_email, check_hostname, check_name

__all__ = ["DnsRecord", "SendingHost", "dns_records", "to_bind", "to_rows"]


@dataclass(frozen=True)
class SendingHost:
    address: str
    hostname: str


@dataclass(frozen=True)
class DnsRecord:
    name: str
    type: str
    value: str
    purpose: str
    ttl: int = 3600
    where: str = "your DNS zone"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def _fqdn(name: str) -> str:
    return name.rstrip(".") + "."


def _spf(hosts: Sequence[SendingHost]) -> str:
    mechanisms = []
    for host in hosts:
        address = ipaddress.ip_address(host.address)
        mechanisms.append(f"ip{address.version}:{address}")
    return " ".join(["v=spf1", *mechanisms, "~all"])


def _mx_needed(domain: str, why: str) -> str:
    return (
        f"{domain} needs an MX record: {why} Point it at the host that takes bounces: PowerMTA itself "
        "(set PMTA_INBOUND_LISTENER and PMTA_HOST_NAME, then run this again) or your bounce mailbox "
        "(--mx-host HOST)."
    )


def dns_records(
    domain: str,
    *,
    hosts: Sequence[SendingHost],
    dkim_selector: str | None,
    dkim_txt: str | None,
    bounce_domain: str | None,
    mx_host: str | None,
    dmarc_rua: str | None = None,
) -> tuple[list[DnsRecord], list[str]]:
    """Records to create, and notes for anything that could not be derived (never a placeholder).

    ``hosts``: the IPs that send for this domain (its pools' IPs), nothing else. ``mx_host``: the host
    that receives the domain's bounces, when there is one."""
    domain = check_hostname(domain, what="domain")
    notes: list[str] = []
    records: list[DnsRecord] = []
    unique = sorted(
        {
            (str(ipaddress.ip_address(h.address)), check_hostname(h.hostname, what="IP host name"))
            for h in hosts
        }
    )
    hosts = [SendingHost(address, hostname) for address, hostname in unique]
    if hosts:
        records.append(
            DnsRecord(
                _fqdn(domain), "TXT", _spf(hosts), "SPF: the IPs that send for this domain, and no others"
            )
        )
    else:
        notes.append(
            f"No pool sends for {domain} yet, so there is no SPF record to publish: name its pools with "
            f"`email-engine dns senders {domain} --pool NAME` (SPF then lists only their IPs)."
        )
    if dkim_selector and dkim_txt:
        selector = check_name(dkim_selector, what="DKIM selector")
        records.append(
            DnsRecord(_fqdn(f"{selector}._domainkey.{domain}"), "TXT", dkim_txt, "DKIM public key")
        )
    elif dkim_selector:
        notes.append(
            f"No DKIM key found for selector {dkim_selector}: run `email-engine dkim generate --domain {domain} "
            f"--selector {dkim_selector}` and run this again."
        )
    else:
        notes.append("The domain has no DKIM selector in the inventory; set one, then generate its key.")
    rua = check_email(dmarc_rua, what="DMARC_RUA") if dmarc_rua else f"dmarc-reports@{domain}"
    records.append(
        DnsRecord(
            _fqdn(f"_dmarc.{domain}"),
            "TXT",
            f"v=DMARC1; p=none; rua=mailto:{rua}; fo=1",
            "DMARC: monitor (p=none) and receive aggregate reports; tighten to quarantine later",
        )
    )
    mx = check_hostname(mx_host, what="MX host") if mx_host else None
    return_path = check_hostname(bounce_domain, what="bounce domain") if bounce_domain else domain
    why = (
        "it is the return-path (MAIL FROM) domain, so asynchronous bounces are sent to it and receivers "
        "check that it can receive mail."
    )
    if mx:
        records.append(
            DnsRecord(
                _fqdn(return_path), "MX", f"10 {_fqdn(mx)}", "Return-path: receives asynchronous bounces"
            )
        )
    else:
        notes.append(_mx_needed(return_path, why))
    if bounce_domain:
        if hosts:
            records.append(
                DnsRecord(
                    _fqdn(return_path), "TXT", _spf(hosts), "SPF for the return-path (MAIL FROM) domain"
                )
            )
        notes.append(
            f"No MX is published for {domain}: a domain that only sends needs none (replies go to the "
            "Reply-To address). Add one only if it must receive mail."
        )
    else:
        notes.append(
            f"{domain} has no bounce (return-path) domain in the inventory, so it is its own MAIL FROM "
            "domain; a separate bounce domain keeps bounce traffic off it."
        )
    for host in hosts:
        address = ipaddress.ip_address(host.address)
        record_type = "A" if address.version == 4 else "AAAA"
        records.append(
            DnsRecord(_fqdn(host.hostname), record_type, str(address), "Forward DNS of the sending host")
        )
        records.append(
            DnsRecord(
                address.reverse_pointer + ".",
                "PTR",
                _fqdn(host.hostname),
                "Reverse DNS (must match the A record and the HELO name)",
                where="your IP provider's panel",
            )
        )
    return records, notes


def _quoted(value: str) -> str:
    return " ".join(f'"{part}"' for part in split_txt(value.replace('"', '\\"')))


def to_bind(records: Sequence[DnsRecord], notes: Sequence[str] = ()) -> str:
    """A BIND zone snippet (absolute names); PTR records are listed as comments for the provider."""
    lines = ["; Generated by email-engine dns records"]
    lines += [f"; NOTE: {note}" for note in notes]
    for record in records:
        value = _quoted(record.value) if record.type == "TXT" else record.value
        line = f"{record.name}\t{record.ttl}\tIN\t{record.type}\t{value}"
        if record.type == "PTR":
            lines.append(f"; {record.purpose}, set at {record.where}:")
            lines.append(f"; {line}")
        else:
            lines.append(f"; {record.purpose}")
            lines.append(line)
    return "\n".join(lines) + "\n"


def to_rows(records: Sequence[DnsRecord]) -> list[tuple[str, str, str, str]]:
    return [(record.type, record.name, record.value, record.where) for record in records]
