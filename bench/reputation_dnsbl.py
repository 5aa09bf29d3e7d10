"""DNSBL checks: 5 IPs and 3 domains against 20 zones, one of which never answers.

    .venv/bin/python bench/reputation_dnsbl.py [--runs 5] [--timeout 1.0]

rbldnsd serves 19 zones on loopback (15 IP lists, 4 domain lists; some targets listed; each lists
its RFC 5782 test point, which every run also asks for); the 20th zone is routed to nowhere by a small
forwarder, so each of its queries runs into the 1 s per-query timeout. Target: the whole check completes in under 1.5 s (queries run concurrently). Also prints
the DNS-authentication validation time of the 3 domains against a loopback DnsServer.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.dns_server import DnsServer  # noqa: E402
from tests.support.rbldnsd import DnsRouter, Rbldnsd  # noqa: E402

from email_engine.config import Settings  # noqa: E402
from email_engine.reputation.auth_service import check_domain  # noqa: E402
from email_engine.reputation.compliance import SendingIpFacts  # noqa: E402
from email_engine.reputation.dnsbl import catalogue, resolve_zone_names  # noqa: E402
from email_engine.reputation.service import run_dnsbl_lookups  # noqa: E402
from email_engine.reputation.settings import ReputationSettings  # noqa: E402

IPS = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.66", "2001:db8::10"]
DOMAINS = ["example.com", "example.net", "bad.example.org"]
CUSTOM_IP = [f"rbl{n}.example.test" for n in range(9)]
CUSTOM_DOMAIN = ["uri1.example.test", "uri2.example.test"]
SILENT = "rbl8.example.test"  # never answers


def zone_names() -> list[str]:
    return [*catalogue(), *CUSTOM_IP, *(f"domain:{name}" for name in CUSTOM_DOMAIN)]


def rbldnsd_zones() -> dict[str, object]:
    # Every zone lists its RFC 5782 test point, as real lists do (each run asks for it).
    ip_data = "127.0.0.2 :127.0.0.2:\n192.0.2.66 :127.0.0.2:\n"
    zones: dict[str, object] = {}
    for zone in resolve_zone_names(zone_names()):
        if zone.name == SILENT:
            continue
        if zone.kind == "ip":
            zones[zone.name] = [("ip4set", ip_data), ("ip6trie", "2001:db8::66 :127.0.0.2:\n")]
        else:
            zones[zone.name] = ("dnset", f"bad.example.org :127.0.1.2:\n{zone.test_listed} :127.0.1.2:\n")
    return zones


AUTH_ZONE = """
example.com. 300 IN SOA ns.example.com. h.example.com. 1 3600 600 86400 60
example.com. 300 IN TXT "v=spf1 include:_spf.example.com -all"
_spf.example.com. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
example.com. 300 IN MX 10 mx.example.com.
mx.example.com. 300 IN A 192.0.2.53
_dmarc.example.com. 300 IN TXT "v=DMARC1; p=none; rua=mailto:d@example.com"
10.2.0.192.in-addr.arpa. 300 IN PTR mta1.example.com.
mta1.example.com. 300 IN A 192.0.2.10
"""


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=1.0)
    args = parser.parse_args()

    zones = resolve_zone_names(zone_names())
    assert len(zones) == 20, len(zones)
    rep = ReputationSettings(_env_file=None, DNSBL_TIMEOUT=args.timeout, DNSBL_DEADLINE=10)  # type: ignore[call-arg]
    with (
        tempfile.TemporaryDirectory() as tmp,
        Rbldnsd(Path(tmp), rbldnsd_zones()) as rbl,  # type: ignore[arg-type]
        DnsRouter({SILENT: None}, default=("127.0.0.1", rbl.port)) as router,
    ):
        settings = Settings(_env_file=None, DNS_NAMESERVERS=router.nameserver)  # type: ignore[call-arg]
        timings = []
        for _ in range(args.runs):
            started = time.perf_counter()
            results = run_dnsbl_lookups(settings, rep, zones, [*IPS, *DOMAINS])
            timings.append(time.perf_counter() - started)
    queries = sum(len(r) for r in results.values())
    statuses = [r.status for rs in results.values() for r in rs]
    print(
        f"DNSBL: {len(IPS)} IPs + {len(DOMAINS)} domains x {len(zones)} zones = {queries} queries "
        f"(IPv6 only to IPv6-capable lists, domains only to domain lists) + {2 * len(zones)} test-point "
        f"queries (RFC 5782, two per zone); per-query timeout {args.timeout:g} s"
    )
    print(
        f"  statuses: listed={statuses.count('listed')} clean={statuses.count('clean')} "
        f"unknown={statuses.count('unknown')} error={statuses.count('error')}"
    )
    print(
        f"  wall time over {args.runs} runs: median {statistics.median(timings):.3f} s, "
        f"max {max(timings):.3f} s (target < 1.5 s)"
    )

    with DnsServer(AUTH_ZONE) as dns:
        settings = Settings(_env_file=None, DNS_NAMESERVERS=dns.nameserver)  # type: ignore[call-arg]
        started = time.perf_counter()
        for domain in DOMAINS:
            check_domain(
                settings,
                rep,
                domain=domain,
                dkim_selector="s1",
                bounce_domain=None,
                ips=[SendingIpFacts(ip) for ip in IPS[:3]],
            )
        print(
            f"DNS auth: {len(DOMAINS)} domains x 3 IPs validated in {time.perf_counter() - started:.3f} s "
            "(one after another; timeouts on unknown names excluded: the server answers NXDOMAIN)"
        )
    return 0 if max(timings) < 1.5 else 1


if __name__ == "__main__":
    raise SystemExit(main())
