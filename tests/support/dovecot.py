"""A private Dovecot IMAP server for tests: its own config, TLS certificate, users and maildirs in a
temporary folder, listening on a free loopback port. The system's Dovecot service is never touched.

    with Dovecot() as server:       # Debian's dovecot-imapd (scripts/system-packages.txt)
        server.port, server.ca_file           # implicit TLS (IMAPS) on 127.0.0.1
        server.user, server.password
        server.deliver(raw_message)           # drop a message into INBOX (as the MDA would)
        server.folder_messages("DMARC.Processed")   # raw messages in a folder

The namespace separator is Dovecot's maildir default ("."), so a client asking for "DMARC/Processed"
must translate the hierarchy delimiter it gets from LIST.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from tests.support.factories import free_port
from tests.support.tls_peer import make_self_signed

__all__ = ["Dovecot", "dovecot_available"]

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def dovecot_available() -> bool:
    return Path(DOVECOT).is_file()


class Dovecot:
    def __init__(self, *, user: str = "dmarc", password: str | None = None) -> None:
        # Not under pytest's tmp_path: Dovecot's unprivileged processes must be able to walk the path.
        self.root = Path(tempfile.mkdtemp(prefix="ee-dovecot-"))
        self.user = user
        self.password = password or uuid.uuid4().hex
        self.port = 0
        self.ca_file = Path()
        self._process: subprocess.Popen[bytes] | None = None

    def _owner(self) -> tuple[int, int, str]:
        """Mail files belong to the current user, or to "nobody" when the tests run as root
        (Dovecot refuses to access mail as uid 0)."""
        entry = pwd.getpwuid(os.getuid()) if os.getuid() != 0 else pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid, entry.pw_name

    def _config(self) -> str:
        uid, gid, name = self._owner()
        internal = (
            ""
            if os.getuid() == 0
            else f"default_internal_user = {name}\ndefault_login_user = {name}\ndefault_internal_group = {name}\n"
        )
        return f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{internal}
ssl = required
ssl_cert = <{self.ca_file}
ssl_key = <{self.root}/tls-key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain
first_valid_uid = {uid}
last_valid_uid = {uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
mail_location = maildir:{self.root}/mail/%u
namespace inbox {{
  inbox = yes
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""

    def __enter__(self) -> Dovecot:
        if not dovecot_available():
            raise RuntimeError(
                "dovecot is not installed (apt-get install dovecot-imapd; scripts/services.sh does)"
            )
        self.ca_file, _key = make_self_signed(self.root)
        uid, gid, _name = self._owner()
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir()
        (self.root / "passwd").write_text(f"{self.user}:{{PLAIN}}{self.password}::::::\n")
        (self.root / "passwd").chmod(0o644)
        for path in (self.root / "mail", self.root / "home"):
            os.chown(path, uid, gid)
        self.root.chmod(0o755)
        self.port = free_port()
        config = self.root / "dovecot.conf"
        config.write_text(self._config())
        self._process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.__exit__(None, None, None)
        raise RuntimeError(f"dovecot did not listen on {self.port}: {self.log()}")

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=5)
            self._process = None
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def _maildir(self, folder: str = "INBOX") -> Path:
        base = self.root / "mail" / self.user
        return base if folder == "INBOX" else base / f".{folder}"

    def deliver(self, raw: bytes, *, name: str | None = None) -> None:
        """Put a message into INBOX/new as a delivery agent would (maildir: tmp, then rename)."""
        uid, gid, _name = self._owner()
        inbox = self._maildir()
        for sub in ("tmp", "new", "cur"):
            (inbox / sub).mkdir(parents=True, exist_ok=True)
            os.chown(inbox / sub, uid, gid)
        os.chown(inbox, uid, gid)
        os.chown(inbox.parent, uid, gid)
        unique = name or f"{time.time_ns()}.{uuid.uuid4().hex}.test"
        temp = inbox / "tmp" / unique
        temp.write_bytes(raw)
        os.chown(temp, uid, gid)
        temp.rename(inbox / "new" / unique)

    def folder_messages(self, folder: str) -> list[bytes]:
        directory = self._maildir(folder)
        return [
            path.read_bytes()
            for sub in ("new", "cur")
            if (directory / sub).is_dir()
            for path in sorted((directory / sub).iterdir())
        ]
