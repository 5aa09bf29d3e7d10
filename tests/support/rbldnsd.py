"""Debian's rbldnsd on loopback, serving DNSBL zones exactly as list operators do, and a tiny DNS router.

    with Rbldnsd(tmp_path, {"zen.test": ("ip4set", "192.0.2.1 :127.0.0.2:SBL\n")}) as rbl:
        settings DNS_NAMESERVERS=rbl.nameserver

Zone data uses rbldnsd's own formats (ip4set, ip6trie, dnset; see rbldnsd(8)). A zone may be
given several datasets as a list of (type, text) pairs.

:class:`DnsRouter` forwards each query to an upstream chosen by the longest matching name suffix
(``None`` drops the query, so that zone never answers). One resolver can then reach rbldnsd zones,
``DnsServer`` zones and a silent zone at once, the way a real recursive resolver reaches many lists.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
from pathlib import Path
from types import TracebackType

from dnslib import RCODE, DNSLabel, DNSRecord

__all__ = ["DnsRouter", "Rbldnsd", "rbldnsd_path"]

Dataset = tuple[str, str]


def rbldnsd_path() -> str | None:
    return shutil.which("rbldnsd") or ("/usr/sbin/rbldnsd" if Path("/usr/sbin/rbldnsd").exists() else None)


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, name: str) -> bool:
    """True once the zones are loaded (rbldnsd answers SERVFAIL while it is still reading them)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(DNSRecord.question(name, "A").pack(), ("127.0.0.1", port))
            reply = DNSRecord.parse(sock.recv(4096))
        except OSError:
            return False
    return reply.header.rcode in (RCODE.NOERROR, RCODE.NXDOMAIN)


def _rcode(port: int, name: str) -> int | None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        try:
            sock.sendto(DNSRecord.question(name, "A").pack(), ("127.0.0.1", port))
            return int(DNSRecord.parse(sock.recv(4096)).header.rcode)
        except OSError:
            return None


class Rbldnsd:
    def __init__(self, directory: Path, zones: dict[str, Dataset | list[Dataset]]) -> None:
        self.directory = directory
        self.zones = zones
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def __enter__(self) -> Rbldnsd:
        binary = rbldnsd_path()
        if binary is None:
            raise RuntimeError(
                "rbldnsd is not installed; apt-get install rbldnsd (scripts/system-packages.txt)"
            )
        specs = []
        for index, (zone, datasets) in enumerate(self.zones.items()):
            for number, (kind, text) in enumerate(datasets if isinstance(datasets, list) else [datasets]):
                filename = f"zone{index}-{number}.{kind}"
                (self.directory / filename).write_text(text, encoding="utf-8")
                (self.directory / filename).chmod(0o644)
                specs.append(f"{zone}:{kind}:{filename}")
        # Started as root, rbldnsd chroots to the directory and then drops to its own user, which
        # must be able to read the files; the parents do not matter after the chroot.
        self.directory.chmod(0o755)
        first_zone = next(iter(self.zones))
        for _attempt in range(3):
            self.port = _free_udp_port()
            process = subprocess.Popen(
                [binary, "-n", "-b", f"127.0.0.1/{self.port}", "-r", str(self.directory), *specs],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and process.poll() is None:
                if _answers(self.port, f"2.0.0.127.{first_zone}"):
                    self._process = process
                    return self
                time.sleep(0.02)
            process.kill()
            process.wait()
        raise RuntimeError("rbldnsd did not start on a free loopback port")

    def update(self, zone: str, text: str, *, probe: str, listed: bool) -> None:
        """Replace the zone's (single) dataset as a list operator does, and make rbldnsd reload it:
        rbldnsd(8) re-reads changed files on SIGHUP. Waits until ``probe`` (a name in the zone)
        answers ``listed`` (NOERROR) or not (NXDOMAIN)."""
        index = list(self.zones).index(zone)
        datasets = self.zones[zone]
        kind = (datasets if isinstance(datasets, tuple) else datasets[0])[0]
        path = self.directory / f"zone{index}-0.{kind}"
        path.write_text(text, encoding="utf-8")
        stamp = path.stat().st_mtime + 2  # rbldnsd compares modification times (seconds)
        os.utime(path, (stamp, stamp))
        assert self._process is not None
        self._process.send_signal(signal.SIGHUP)
        wanted = RCODE.NOERROR if listed else RCODE.NXDOMAIN
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if _rcode(self.port, probe) == wanted:
                return
            time.sleep(0.05)
        raise RuntimeError(f"rbldnsd did not reload {zone}")

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self._process.kill()
                self._process.wait()
            self._process = None


class DnsRouter:
    """A UDP DNS forwarder on loopback routing by name suffix; ``None`` as upstream means silence."""

    def __init__(
        self, routes: dict[str, tuple[str, int] | None], default: tuple[str, int] | None = None
    ) -> None:
        self.routes = [(DNSLabel(suffix), upstream) for suffix, upstream in routes.items()]
        self.routes.sort(key=lambda item: -len(item[0].label))
        self.default = default
        self.port = 0
        self._server: socketserver.UDPServer | None = None

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _upstream(self, data: bytes) -> tuple[str, int] | None:
        qname = DNSRecord.parse(data).q.qname
        for suffix, upstream in self.routes:
            if qname.matchSuffix(suffix):
                return upstream
        return self.default

    def __enter__(self) -> DnsRouter:
        router = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                data, sock = self.request
                try:
                    upstream = router._upstream(data)
                except Exception:  # malformed query: drop it, as a server would
                    return
                if upstream is None:
                    return
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as out:
                    out.settimeout(3)
                    try:
                        out.sendto(data, upstream)
                        reply = out.recv(65535)
                    except OSError:
                        return
                sock.sendto(reply, self.client_address)

        class Server(socketserver.ThreadingMixIn, socketserver.UDPServer):
            daemon_threads = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
