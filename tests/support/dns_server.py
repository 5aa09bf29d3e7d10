"""A real authoritative DNS server on loopback for tests (dnslib wire format, UDP and TCP).

    server = DnsServer(zone_text)          # BIND-style records, one per line
    server.silent("slow.test")             # never answers queries under this name (timeout)
    server.servfail("broken.test")         # answers SERVFAIL
    with server:                           # binds 127.0.0.1 on a free port
        settings DNS_NAMESERVERS=f"127.0.0.1:{server.port}"

Names under a zone apex present in the records but with no record of the asked type get NODATA;
unknown names get NXDOMAIN; both carry the apex SOA so resolvers can cache the negative answer.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from types import TracebackType

from dnslib import QTYPE, RCODE, RR, DNSLabel, DNSRecord

__all__ = ["DnsServer"]


def _parse(zone_text: str) -> list[RR]:
    # Lines are stripped so zones can be written indented inside tests.
    lines = [line.strip() for line in zone_text.splitlines() if line.strip()]
    return RR.fromZone("\n".join(lines)) if lines else []


class DnsServer:
    def __init__(self, zone_text: str = "") -> None:
        self.records: list[RR] = _parse(zone_text)
        self._silent: list[DNSLabel] = []
        self._servfail: list[DNSLabel] = []
        self.queries: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        self.port = 0
        self._servers: list[socketserver.BaseServer] = []

    def add(self, zone_text: str) -> None:
        with self._lock:
            self.records.extend(_parse(zone_text))

    def silent(self, name: str) -> None:
        self._silent.append(DNSLabel(name))

    def servfail(self, name: str) -> None:
        self._servfail.append(DNSLabel(name))

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def query_count(self, name: str, qtype: str | None = None) -> int:
        wanted = str(DNSLabel(name)).lower()
        with self._lock:
            return sum(1 for n, t in self.queries if n == wanted and (qtype is None or t == qtype))

    # --- answering -------------------------------------------------------------------------
    def answer(self, data: bytes) -> bytes | None:
        request = DNSRecord.parse(data)
        qname, qtype = request.q.qname, QTYPE[request.q.qtype]
        with self._lock:
            self.queries.append((str(qname).lower(), qtype))
            records = list(self.records)
        if any(qname.matchSuffix(label) for label in self._silent):
            return None
        reply = request.reply()
        if any(qname.matchSuffix(label) for label in self._servfail):
            reply.header.rcode = RCODE.SERVFAIL
            return reply.pack()
        same_name = [rr for rr in records if rr.rname == qname]
        matches = [rr for rr in same_name if rr.rtype == request.q.qtype or (qtype == "ANY")]
        cname = [rr for rr in same_name if QTYPE[rr.rtype] == "CNAME"]
        if matches:
            for rr in matches:
                reply.add_answer(rr)
        elif cname:
            reply.add_answer(cname[0])
            target = cname[0].rdata.label
            for rr in records:
                if rr.rname == target and rr.rtype == request.q.qtype:
                    reply.add_answer(rr)
        else:
            soa = self._soa_for(qname, records)
            exists = bool(same_name) or any(rr.rname.matchSuffix(qname) for rr in records)
            if not exists:
                reply.header.rcode = RCODE.NXDOMAIN
            if soa is not None:
                reply.add_auth(soa)
        reply.header.aa = 1
        return reply.pack()

    @staticmethod
    def _soa_for(qname: DNSLabel, records: list[RR]) -> RR | None:
        best: RR | None = None
        for rr in records:
            is_soa = QTYPE[rr.rtype] == "SOA" and qname.matchSuffix(rr.rname)
            if is_soa and (best is None or len(rr.rname.label) > len(best.rname.label)):
                best = rr
        return best

    # --- serving ----------------------------------------------------------------------------
    def __enter__(self) -> DnsServer:
        server = self

        class Udp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                reply = server.answer(data)
                if reply is not None:
                    sock.sendto(reply, self.client_address)

        class Tcp(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                header = self.request.recv(2)
                if len(header) < 2:
                    return
                (length,) = struct.unpack("!H", header)
                data = b""
                while len(data) < length:
                    chunk = self.request.recv(length - len(data))
                    if not chunk:
                        return
                    data += chunk
                reply = server.answer(data)
                if reply is not None:
                    self.request.sendall(struct.pack("!H", len(reply)) + reply)

        class UdpServer(socketserver.ThreadingMixIn, socketserver.UDPServer):
            daemon_threads = True

        class TcpServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
            daemon_threads = True
            allow_reuse_address = True

        # Bind UDP on a free port, then TCP on the same port (retry if TCP's is taken).
        for _attempt in range(20):
            udp = UdpServer(("127.0.0.1", 0), Udp)
            port = udp.server_address[1]
            try:
                tcp = TcpServer(("127.0.0.1", port), Tcp)
            except OSError:
                udp.server_close()
                continue
            break
        else:  # pragma: no cover
            raise RuntimeError("no free port for the test DNS server")
        self.port = port
        self._servers = [udp, tcp]
        for srv in self._servers:
            threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for srv in self._servers:
            srv.shutdown()
            srv.server_close()
        self._servers = []


def _selftest() -> None:  # pragma: no cover - handy when debugging zones by hand
    zone = """
    example.test. 300 IN SOA ns.example.test. hostmaster.example.test. 1 3600 600 86400 60
    example.test. 300 IN MX 10 mx.example.test.
    mx.example.test. 300 IN A 192.0.2.10
    """
    with DnsServer(zone) as dns_server:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.sendto(DNSRecord.question("example.test", "MX").pack(), ("127.0.0.1", dns_server.port))
        print(DNSRecord.parse(sock.recv(4096)))


if __name__ == "__main__":  # pragma: no cover
    _selftest()
