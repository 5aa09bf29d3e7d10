"""Read aggregate reports from the IMAP mailbox that receives the domain's ``rua=`` mail.

Each message of ``DMARC_IMAP_FOLDER`` is imported (every report attached to it), the result is
committed, and only then is the message moved: to ``DMARC_IMAP_PROCESSED_FOLDER`` when its reports
were imported (or were already), to ``DMARC_IMAP_INVALID_FOLDER`` when nothing in it was a readable
report (junk, a failure report, a bomb). A crash between commit and move re-reads the message next
time and finds a duplicate, so nothing is counted twice and nothing is lost. Messages are deleted
only with ``DMARC_IMAP_DELETE=true``, and then only processed ones.

Uses the standard library's IMAP4 client (RFC 3501) with MOVE (RFC 6851) when the server offers it,
else COPY + \\Deleted + EXPUNGE (UID EXPUNGE, RFC 4315, when offered).
"""

from __future__ import annotations

import imaplib
import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser
from typing import Any

import structlog
from sqlalchemy.orm import Session, sessionmaker

from email_engine.dmarc import service
from email_engine.dmarc.settings import DmarcSettings
from email_engine.errors import ConfigurationError, DependencyUnavailable

__all__ = ["MailboxSummary", "fetch_reports"]

log = structlog.get_logger(__name__)

_LIST_LINE = re.compile(rb'\((?P<flags>[^)]*)\) (?:"(?P<delim>[^"]*)"|NIL) ')
_BASE64_OVERHEAD = 1.4  # a base64 attachment is about 4/3 of the file, plus headers


@dataclass(slots=True)
class MailboxSummary:
    messages: int = 0
    imported: int = 0
    duplicate: int = 0
    refused: int = 0
    moved: int = 0
    deleted: int = 0
    records: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _check(result: tuple[str, list[Any]], what: str) -> list[Any]:
    status, data = result
    if status != "OK":
        detail = b" ".join(item for item in data if isinstance(item, bytes)).decode("utf-8", "replace")
        raise DependencyUnavailable(f"The IMAP server refused {what}: {detail[:200]}")
    return data


def _tls_context(options: DmarcSettings) -> ssl.SSLContext:
    if options.imap_ca_file is not None:
        return ssl.create_default_context(cafile=str(options.imap_ca_file))
    return ssl.create_default_context()


@contextmanager
def _connect(options: DmarcSettings) -> Iterator[imaplib.IMAP4]:
    if not options.imap_configured or options.imap_host is None or options.imap_password is None:
        raise ConfigurationError(
            "Set DMARC_IMAP_HOST, DMARC_IMAP_USER and DMARC_IMAP_PASSWORD to read reports."
        )
    host, port = options.imap_host, options.imap_effective_port
    try:
        client: imaplib.IMAP4
        if options.imap_tls == "ssl":
            client = imaplib.IMAP4_SSL(
                host, port, ssl_context=_tls_context(options), timeout=options.imap_timeout
            )
        else:
            client = imaplib.IMAP4(host, port, timeout=options.imap_timeout)
            if options.imap_tls == "starttls":
                client.starttls(ssl_context=_tls_context(options))
    except ssl.SSLError as exc:
        raise DependencyUnavailable(
            f"TLS with the IMAP server {host}:{port} failed ({exc.reason or exc}); check DMARC_IMAP_TLS and "
            "DMARC_IMAP_CA_FILE."
        ) from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise DependencyUnavailable(f"Cannot reach the IMAP server {host}:{port} ({exc}).") from None
    try:
        try:
            client.login(options.imap_user or "", options.imap_password.get_secret_value())
        except imaplib.IMAP4.error:
            raise DependencyUnavailable(
                f"The IMAP server {host}:{port} refused the login of DMARC_IMAP_USER; check the user and password."
            ) from None
        yield client
    finally:
        with suppress(OSError, imaplib.IMAP4.error):
            client.logout()


def _delimiter(client: imaplib.IMAP4) -> str:
    for line in _check(client.list('""', '""'), "LIST"):
        if isinstance(line, bytes) and (match := _LIST_LINE.match(line)) and match.group("delim"):
            return match.group("delim").decode()
    return "/"


def _folder(name: str, delimiter: str) -> str:
    return name.replace("/", delimiter) if delimiter != "/" else name


def _ensure(client: imaplib.IMAP4, folder: str) -> None:
    status, _data = client.create(_quote(folder))
    if status != "OK":  # usually [ALREADYEXISTS]; a real problem shows at the first MOVE
        log.debug("dmarc.imap_create", folder=folder, status=status)


def _message_bytes(data: list[Any]) -> bytes | None:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], bytes):
            return item[1]
    return None


def _sizes(client: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, int]:
    sizes: dict[bytes, int] = {}
    for start in range(0, len(uids), 200):
        data = _check(
            client.uid("FETCH", b",".join(uids[start : start + 200]).decode(), "(RFC822.SIZE)"), "FETCH"
        )
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if isinstance(line, bytes):
                uid = re.search(rb"UID (\d+)", line)
                size = re.search(rb"RFC822\.SIZE (\d+)", line)
                if uid and size:
                    sizes[uid.group(1)] = int(size.group(1))
    return sizes


def _subject(raw: bytes) -> str:
    try:
        header = BytesHeaderParser().parsebytes(raw[:65536]).get("Subject", "")
        text = str(make_header(decode_header(str(header))))
    except (ValueError, LookupError, TypeError):
        text = ""
    return "".join(char if char.isprintable() else " " for char in text)[:120]


def _move(client: imaplib.IMAP4, uid: bytes, folder: str, *, can_move: bool, uidplus: bool) -> None:
    if can_move:
        _check(client.uid("MOVE", uid.decode(), _quote(folder)), f"MOVE to {folder}")
        return
    _check(client.uid("COPY", uid.decode(), _quote(folder)), f"COPY to {folder}")
    _delete(client, uid, uidplus=uidplus)


def _delete(client: imaplib.IMAP4, uid: bytes, *, uidplus: bool) -> None:
    _check(client.uid("STORE", uid.decode(), "+FLAGS.SILENT", r"(\Deleted)"), "STORE \\Deleted")
    if uidplus:
        _check(client.uid("EXPUNGE", uid.decode()), "UID EXPUNGE")
    else:
        _check(client.expunge(), "EXPUNGE")


def fetch_reports(
    session_factory: sessionmaker[Session], options: DmarcSettings, *, now: datetime
) -> MailboxSummary:
    """One pass over the mailbox (at most ``DMARC_IMAP_BATCH`` messages)."""
    summary = MailboxSummary()
    with _connect(options) as client:
        # The capabilities after login (imaplib keeps only those of the greeting).
        listed = _check(client.capability(), "CAPABILITY")
        capabilities = set(b" ".join(x for x in listed if isinstance(x, bytes)).decode().upper().split())
        can_move, uidplus = "MOVE" in capabilities, "UIDPLUS" in capabilities
        delimiter = _delimiter(client)
        inbox = _folder(options.imap_folder, delimiter)
        processed = _folder(options.imap_processed_folder, delimiter)
        invalid = _folder(options.imap_invalid_folder, delimiter)
        for folder in (processed, invalid):
            _ensure(client, folder)
        _check(client.select(_quote(inbox)), f"SELECT {inbox}")
        found = _check(client.uid("SEARCH", "ALL"), "SEARCH")
        uids = (found[0] or b"").split()[: options.imap_batch] if found else []
        sizes = _sizes(client, uids) if uids else {}
        limit = int(options.max_input_bytes * _BASE64_OVERHEAD) + 65536
        for uid in uids:
            summary.messages += 1
            size = sizes.get(uid, 0)
            if size > limit:
                outcome = _refuse_big(session_factory, uid=uid, size=size, limit=limit, now=now)
            else:
                data = _check(client.uid("FETCH", uid.decode(), "(BODY.PEEK[])"), "FETCH")
                raw = _message_bytes(data)
                if raw is None:
                    summary.errors.append(f"message {uid.decode()} vanished before it was read")
                    continue
                name = f"imap:{options.imap_folder}/{uid.decode()} {_subject(raw)}".strip()
                with session_factory() as session:
                    outcome = service.import_file(
                        session, name=name, data=raw, source="imap", limits=options.limits, now=now
                    )
                    session.commit()
            summary.records += outcome.records
            if outcome.status is service.ImportStatus.ERROR:
                summary.refused += 1
                _move(client, uid, invalid, can_move=can_move, uidplus=uidplus)
                summary.moved += 1
                continue
            if outcome.status is service.ImportStatus.IMPORTED:
                summary.imported += 1
            else:
                summary.duplicate += 1
            if options.imap_delete:
                _delete(client, uid, uidplus=uidplus)
                summary.deleted += 1
            else:
                _move(client, uid, processed, can_move=can_move, uidplus=uidplus)
                summary.moved += 1
    log.info("dmarc.imap_pass", **{k: v for k, v in summary.as_dict().items() if k != "errors"})
    return summary


def _refuse_big(
    session_factory: sessionmaker[Session], *, uid: bytes, size: int, limit: int, now: datetime
) -> service.FileOutcome:
    """A message too large to read is refused without downloading it (a dead letter without the bytes)."""
    reason = f"the message is {size:,} bytes, over the {limit:,} bytes DMARC_MAX_INPUT_BYTES allows with its encoding"
    name = f"imap:{uid.decode()}"
    with session_factory() as session:
        service.record_refusal(
            session, name=name, key=f"imap-size:{uid.decode()}:{size}", reason=reason, now=now
        )
        session.commit()
    return service.FileOutcome(file=name, status=service.ImportStatus.ERROR, error=reason)
