"""DNS records a sending domain needs besides SPF and DMARC, pure: DKIM keys, PTR, bounce MX, MTA-STS, TLS-RPT.

Each check reads a :class:`DnsFacts` snapshot (raising :class:`MissingFact` for what it lacks) and returns a
:class:`Check` with a sentence the operator can act on; a record that could not be read is ``unknown``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.serialization import load_der_public_key

from email_engine.reputation.auth_facts import Check, CheckStatus, DnsFacts, normalise_name
from email_engine.reputation.dnsbl import reverse_ip

__all__ = [
    "MIN_RSA_BITS",
    "check_bounce_mx",
    "check_dkim",
    "check_mta_sts",
    "check_ptr",
    "check_tls_rpt",
    "parse_tags",
    "reverse_name",
]

MIN_RSA_BITS = 1024
RECOMMENDED_RSA_BITS = 2048


# --- DKIM -----------------------------------------------------------------------------------------
def parse_tags(text: str) -> dict[str, str]:
    """DKIM/DMARC tag lists: ``k=v; k=v``. Whitespace around tags is ignored; the last duplicate wins."""
    tags: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        name, sep, value = part.partition("=")
        if not sep:
            raise ValueError(f"{part.strip()!r} is not a tag=value pair")
        tags[name.strip().lower()] = value.strip()
    return tags


def check_dkim(domain: str, selector: str | None, facts: DnsFacts) -> Check:
    if not selector:
        return Check(
            "dkim",
            CheckStatus.WARN,
            f"No DKIM selector is set for {domain} in the inventory; set dkim_selector to the selector PowerMTA "
            "signs with so the key can be checked.",
        )
    name = f"{selector}._domainkey.{domain}"
    fact = facts.get(name, "TXT")
    data: dict[str, Any] = {"selector": selector, "name": name}
    if not fact.usable:
        return Check(
            "dkim",
            CheckStatus.UNKNOWN,
            f"The DKIM key at {name} could not be read ({fact.why_unusable}); check again later.",
            data,
        )
    records = [v for v in fact.values if "p=" in v.replace(" ", "") or v.lower().startswith("v=dkim1")]
    if not records:
        return Check(
            "dkim",
            CheckStatus.FAIL,
            f"No DKIM key is published at {name}; publish the public key for selector {selector} "
            "(v=DKIM1; k=rsa; p=...) that matches PowerMTA's domain-key.",
            data,
        )
    if len(set(records)) > 1:
        return Check(
            "dkim", CheckStatus.FAIL, f"{name} publishes {len(records)} DKIM records; keep exactly one.", data
        )
    try:
        tags = parse_tags(records[0])
    except ValueError as exc:
        return Check("dkim", CheckStatus.FAIL, f"The DKIM record at {name} cannot be parsed: {exc}.", data)
    version = tags.get("v")
    if version is not None and version != "DKIM1":
        return Check(
            "dkim", CheckStatus.FAIL, f"The DKIM record at {name} has v={version}; it must be v=DKIM1.", data
        )
    key_type = tags.get("k", "rsa").lower()
    data["key_type"] = key_type
    if "p" not in tags:
        return Check("dkim", CheckStatus.FAIL, f"The DKIM record at {name} has no p= tag (public key).", data)
    encoded = re.sub(r"\s+", "", tags["p"])
    if not encoded:
        return Check(
            "dkim",
            CheckStatus.FAIL,
            f"The DKIM key at {name} is revoked (empty p=); publish a new key or point PowerMTA at another selector.",
            data,
        )
    try:
        der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return Check(
            "dkim", CheckStatus.FAIL, f"The p= value at {name} is not valid base64; re-publish the key.", data
        )
    testing = "y" in tags.get("t", "").lower().split(":")
    if key_type == "ed25519":
        if len(der) != 32:
            return Check(
                "dkim",
                CheckStatus.FAIL,
                f"The ed25519 key at {name} is {len(der)} bytes; it must be 32.",
                data,
            )
        ed25519.Ed25519PublicKey.from_public_bytes(der)
        return Check(
            "dkim",
            CheckStatus.WARN if testing else CheckStatus.PASS,
            f"DKIM ed25519 key at {name} is valid; many receivers also want an RSA signature, so keep an RSA selector."
            + (" t=y (testing) is set: remove it once signing works." if testing else ""),
            data,
        )
    if key_type != "rsa":
        return Check(
            "dkim",
            CheckStatus.FAIL,
            f"The DKIM record at {name} has k={key_type}; use k=rsa or k=ed25519.",
            data,
        )
    try:
        key = load_der_public_key(der)
    except (ValueError, TypeError):
        return Check(
            "dkim",
            CheckStatus.FAIL,
            f"The p= value at {name} is not an RSA public key; re-publish the key.",
            data,
        )
    if not isinstance(key, rsa.RSAPublicKey):
        return Check(
            "dkim", CheckStatus.FAIL, f"The key at {name} is not RSA although k=rsa; fix k= or the key.", data
        )
    bits = key.key_size
    data["bits"] = bits
    if bits < MIN_RSA_BITS:
        return Check(
            "dkim",
            CheckStatus.FAIL,
            f"The DKIM key at {name} is only {bits} bits; Gmail and others treat keys under {MIN_RSA_BITS} bits as "
            f"no signature. Generate a {RECOMMENDED_RSA_BITS}-bit key and publish it under a new selector.",
            data,
        )
    if bits < RECOMMENDED_RSA_BITS:
        return Check(
            "dkim",
            CheckStatus.WARN,
            f"The DKIM key at {name} is {bits} bits: accepted, but {RECOMMENDED_RSA_BITS} bits is recommended; "
            "rotate to a 2048-bit key under a new selector.",
            data,
        )
    if testing:
        return Check(
            "dkim",
            CheckStatus.WARN,
            f"DKIM key at {name} ({bits} bits) is in testing mode (t=y); remove t=y.",
            data,
        )
    return Check("dkim", CheckStatus.PASS, f"DKIM key at {name} is a valid {bits}-bit RSA key.", data)


# --- PTR, MX, MTA-STS, TLS-RPT --------------------------------------------------------------------
def reverse_name(ip: str) -> str:
    suffix = "in-addr.arpa" if ipaddress.ip_address(ip).version == 4 else "ip6.arpa"
    return f"{reverse_ip(ip)}.{suffix}"


def check_ptr(ip: str, hostname: str | None, facts: DnsFacts) -> Check:
    name = f"ptr:{ip}"
    fact = facts.get(reverse_name(ip), "PTR")
    data: dict[str, Any] = {"ip": ip, "hostname": hostname}
    if not fact.usable:
        return Check(
            name,
            CheckStatus.UNKNOWN,
            f"The PTR record of {ip} could not be read ({fact.why_unusable}).",
            data,
        )
    if not fact.values:
        want = f" {hostname}" if hostname else " your VMTA hostname"
        return Check(
            name,
            CheckStatus.FAIL,
            f"{ip} has no PTR record; ask the provider of the IP to set its reverse DNS to{want}.",
            data,
        )
    ptr = normalise_name(fact.values[0])
    data["ptr"] = ptr
    version = ipaddress.ip_address(ip).version
    forward = facts.get(ptr, "A" if version == 4 else "AAAA")
    if not forward.usable:
        return Check(
            name,
            CheckStatus.UNKNOWN,
            f"The address of {ptr} (PTR of {ip}) could not be read ({forward.why_unusable}).",
            data,
        )
    wanted = ipaddress.ip_address(ip)
    if not any(_same_ip(value, wanted) for value in forward.values):
        return Check(
            name,
            CheckStatus.FAIL,
            f"The PTR of {ip} is {ptr}, but {ptr} does not resolve back to {ip} (no forward confirmation); "
            f"add an {'A' if version == 4 else 'AAAA'} record {ptr} -> {ip}.",
            data,
        )
    notes = []
    if len(fact.values) > 1:
        notes.append(f"{ip} has {len(fact.values)} PTR records; keep exactly one")
    if hostname and ptr != normalise_name(hostname):
        notes.append(
            f"it differs from the VMTA hostname {normalise_name(hostname)} that PowerMTA greets with; make them equal"
        )
    if notes:
        return Check(
            name,
            CheckStatus.WARN,
            f"The PTR of {ip} is {ptr} and resolves back, but " + "; ".join(notes) + ".",
            data,
        )
    return Check(
        name,
        CheckStatus.PASS,
        f"The PTR of {ip} is {ptr}, resolves back to {ip} and matches the VMTA hostname.",
        data,
    )


def _same_ip(value: str, wanted: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(value) == wanted
    except ValueError:
        return False


def check_bounce_mx(domain: str, bounce_domain: str | None, facts: DnsFacts) -> Check:
    target = normalise_name(bounce_domain or domain)
    fact = facts.get(target, "MX")
    data: dict[str, Any] = {"bounce_domain": target}
    if not fact.usable:
        return Check(
            "bounce_mx",
            CheckStatus.UNKNOWN,
            f"The MX of {target} could not be read ({fact.why_unusable}).",
            data,
        )
    hosts = [value.split()[-1] for value in fact.values]
    data["mx"] = hosts
    if not hosts:
        return Check(
            "bounce_mx",
            CheckStatus.FAIL,
            f"The bounce domain {target} has no MX record, so bounces and complaints sent to it cannot arrive; "
            "publish an MX pointing at your bounce-processing server.",
            data,
        )
    if hosts in (["."], [""]):
        return Check(
            "bounce_mx",
            CheckStatus.FAIL,
            f"The bounce domain {target} publishes a null MX (accepts no mail); bounces are lost.",
            data,
        )
    note = "" if bounce_domain else f" (no bounce domain is set, so {target} itself was checked)"
    return Check(
        "bounce_mx",
        CheckStatus.PASS,
        f"The bounce domain {target} receives mail via {', '.join(hosts)}{note}.",
        data,
    )


def _optional_txt(check: str, name: str, prefix: str, facts: DnsFacts, *, what: str, why: str) -> Check:
    fact = facts.get(name, "TXT")
    if not fact.usable:
        return Check(check, CheckStatus.INFO, f"{what} at {name} could not be read ({fact.why_unusable}).")
    records = [v for v in fact.values if v.replace(" ", "").lower().startswith(prefix.lower())]
    if not records:
        return Check(check, CheckStatus.INFO, f"{what} is not published at {name} (optional: {why}).")
    return Check(
        check, CheckStatus.INFO, f"{what} is published at {name}: {records[0]}", {"record": records[0]}
    )


def check_mta_sts(domain: str, facts: DnsFacts) -> Check:
    return _optional_txt(
        "mta_sts",
        f"_mta-sts.{normalise_name(domain)}",
        "v=STSv1",
        facts,
        what="MTA-STS",
        why="it makes mail *to* this domain require TLS",
    )


def check_tls_rpt(domain: str, facts: DnsFacts) -> Check:
    return _optional_txt(
        "tls_rpt",
        f"_smtp._tls.{normalise_name(domain)}",
        "v=TLSRPTv1",
        facts,
        what="TLS-RPT",
        why="it asks receivers to report TLS failures",
    )
