"""A fast loopback authoritative DNS server for the validation benchmarks (own process).

The test suite's tests/support/dns_server.py scans every record per query and starts a thread per
UDP packet: right for tests, too slow to measure thousands of lookups. This one answers the same
wire format (dnslib) from a dict on one asyncio UDP socket, so the server is not the bottleneck.

    .venv/bin/python bench/support/validation_dnsd.py --domains 2000   # prints the port, serves until killed
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from dnslib import QTYPE, RCODE, RR, DNSRecord

APEX = "bench.test."
SOA = f"{APEX} 300 IN SOA ns.{APEX} hostmaster.{APEX} 1 3600 600 86400 300"
MX_HOSTS = 50
PUBLIC_IP = "93.184.215.14"


def domain_name(index: int) -> str:
    return f"d{index}.bench.test"


def zone(domains: int) -> str:
    lines = [SOA]
    for i in range(MX_HOSTS):
        lines.append(f"mx{i}.hosts.{APEX} 300 IN A {PUBLIC_IP}")
    for i in range(domains):
        lines.append(f"{domain_name(i)}. 300 IN MX 10 mx{i % MX_HOSTS}.hosts.{APEX}")
    return "\n".join(lines)


class Answerer(asyncio.DatagramProtocol):
    def __init__(self, records: list[RR]) -> None:
        self.by_key: dict[tuple[str, int], list[RR]] = {}
        self.names: set[str] = set()
        self.soa = next(rr for rr in records if rr.rtype == QTYPE.SOA)
        for rr in records:
            name = str(rr.rname).lower()
            self.by_key.setdefault((name, rr.rtype), []).append(rr)
            self.names.add(name)
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        request = DNSRecord.parse(data)
        name = str(request.q.qname).lower()
        reply = request.reply()
        answers = self.by_key.get((name, request.q.qtype))
        if answers:
            for rr in answers:
                reply.add_answer(rr)
        else:
            if name not in self.names:
                reply.header.rcode = RCODE.NXDOMAIN
            reply.add_auth(self.soa)
        assert self.transport is not None
        self.transport.sendto(reply.pack(), addr)


async def serve(domains: int) -> None:
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: Answerer(RR.fromZone(zone(domains))), local_addr=("127.0.0.1", 0)
    )
    print(transport.get_extra_info("sockname")[1], flush=True)
    await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--domains", type=int, default=2000)
    args = parser.parse_args()
    try:
        asyncio.run(serve(args.domains))
    except KeyboardInterrupt:
        sys.exit(0)


if __name__ == "__main__":
    main()
