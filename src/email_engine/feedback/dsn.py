"""Bounce and complaint messages → accounting records (pure; stdlib ``email``).

* RFC 3464 delivery status notifications (``multipart/report; report-type=delivery-status``, also the RFC 6533
  ``message/global-delivery-status`` form): one record per recipient block, type ``rb`` for ``Action: failed``
  and ``rs`` for the other actions (delayed, delivered, relayed, expanded).
* RFC 5965 ARF complaints (``report-type=feedback-report``): one ``f`` record with ``feedback_type``.
* Plain-text bounces (Exim, qmail, Yahoo, DragonFly…) that name the failed recipients in
  ``X-Failed-Recipients`` or, when the message says it is a bounce, on lines of their own: one ``rb`` record per
  address, the diagnostic taken from the text under it.

Records have the shape of :class:`~email_engine.feedback.accounting.AccountingRecord`, so a remote bounce feeds
the same classification and storage as a PowerMTA accounting line.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import Message
from email.parser import HeaderParser
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from typing import IO, Final

from email_engine.errors import InvalidInput, PayloadTooLarge
from email_engine.feedback.accounting import MAX_FIELD_CHARS, AccountingRecord, clean_diagnostic, split_status
from email_engine.feedback.dsn_stream import MAX_MESSAGE_BYTES, MAX_RECIPIENT_GROUPS, reduce_message

__all__ = ["MAX_MESSAGE_BYTES", "MAX_RECIPIENT_GROUPS", "parse_dsn", "parse_dsn_stream"]
#: How many headers of the returned original message are kept on the record.
_MAX_ORIGINAL_HEADERS: Final = 60
_FOLD = re.compile(r"\r?\n[ \t]+")
_BLOCK_SPLIT = re.compile(r"\r?\n[ \t]*\r?\n")
_TYPED_VALUE = re.compile(r"^\s*[A-Za-z0-9-]+\s*;\s*")
# "550-5.2.1 " continuation prefixes of a multi-line SMTP reply, after the first line.
_CONTINUATION = re.compile(r"(?<=\s)[245]\d\d-(?:[245]\.\d{1,3}\.\d{1,3}\s)?")
_STATUS_IN_TEXT = re.compile(r"\b([245]\.\d{1,3}\.\d{1,3})\b")


def parse_dsn(data: bytes) -> list[AccountingRecord]:
    """Parse one message. Raises InvalidInput when it is no DSN or ARF report, PayloadTooLarge past a limit
    of :mod:`email_engine.feedback.dsn_stream` (size, recipient groups)."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise PayloadTooLarge(
            f"The message is {len(data)} bytes; bounce and complaint messages are limited to {MAX_MESSAGE_BYTES}."
        )
    return parse_dsn_stream(io.BytesIO(data))


def parse_dsn_stream(stream: IO[bytes]) -> list[AccountingRecord]:
    """Parse one message read from ``stream`` (a file, stdin, a spooled upload) in bounded memory."""
    reduced = reduce_message(stream)
    try:
        return _parse(reduced)
    except RecursionError as exc:
        raise InvalidInput(
            "The message nests MIME parts too deeply to be a bounce or complaint report."
        ) from exc


def _parse(data: bytes) -> list[AccountingRecord]:
    message = message_from_bytes(data, policy=compat32)
    if not message.keys():
        raise InvalidInput("The input is not an email message (it has no header lines).")
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in {"message/delivery-status", "message/global-delivery-status"}:
            records = list(_delivery_status(message, part))
            if records:
                return records
        elif content_type == "message/feedback-report":
            return [_feedback_report(message, part)]
    records = list(_failed_recipients_header(message))
    if records:
        return records
    raise InvalidInput(
        "The message is neither an RFC 3464 delivery status notification nor an RFC 5965 ARF report: it has no "
        "message/delivery-status or message/feedback-report part, no X-Failed-Recipients header, and its text "
        "names no failed recipient."
    )


# ------------------------------------------------------------------------------------------------- helpers


def _cap(value: str) -> str:
    return value[:MAX_FIELD_CHARS]


def _unfold(value: str | None) -> str:
    return _FOLD.sub(" ", value or "").strip()


def _untyped(value: str) -> str:
    """``rfc822; a@example.org`` → ``a@example.org``; ``dns; mx.example.org`` → ``mx.example.org``."""
    return _TYPED_VALUE.sub("", value, count=1).strip().strip("<>")


def _decode(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        charset = part.get_content_charset() or "utf-8"
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            return payload.decode("utf-8", errors="replace")
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _field_blocks(part: Message) -> list[Mapping[str, str]]:
    """The header-like blocks of a delivery-status or feedback-report part, field names lower-cased."""
    payload = part.get_payload()
    blocks: list[Mapping[str, str]] = []
    if isinstance(payload, list) and part.get_content_type() == "message/delivery-status":
        # The email package already split message/delivery-status into its blocks.
        for block in payload:
            if isinstance(block, Message):
                blocks.append({k.lower(): _unfold(str(v)) for k, v in block.items()})
        return blocks
    if isinstance(payload, list):
        # Other message/* types were read as one enclosed message: its header is the first block, its body the rest.
        text = "".join(m.as_string() for m in payload if isinstance(m, Message))
    else:
        text = _decode(part)
    parser = HeaderParser(policy=compat32)
    for chunk in _BLOCK_SPLIT.split(text.strip()):
        if chunk.strip():
            block = parser.parsestr(chunk.strip() + "\n")
            blocks.append({k.lower(): _unfold(str(v)) for k, v in block.items()})
    return blocks


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.split("(")[0].strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _first_address(value: str | None) -> str:
    addresses = [addr for _, addr in getaddresses([value or ""]) if "@" in addr]
    return addresses[0] if addresses else ""


def _original(message: Message) -> Message | None:
    """The returned original message (or its headers) enclosed in the report, if any."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in {"message/rfc822", "message/global"}:
            payload = part.get_payload()
            if isinstance(payload, list) and payload and isinstance(payload[0], Message):
                return payload[0]
        elif content_type in {"text/rfc822-headers", "text/global-headers"}:
            return HeaderParser(policy=compat32).parsestr(_decode(part))
    return None


def _original_headers(original: Message | None) -> dict[str, str]:
    if original is None:
        return {}
    headers: dict[str, str] = {}
    for name, value in list(original.items())[:_MAX_ORIGINAL_HEADERS]:
        if name.lower() not in {"received", "dkim-signature", "arc-seal", "arc-message-signature"}:
            headers.setdefault(name, _cap(_unfold(str(value))))
    return headers


def _job_id(headers: Mapping[str, str]) -> str:
    for name, value in headers.items():
        if name.lower() in {"x-job", "x-jobid", "x-mw-campaign-uid"}:
            return value
    return ""


def _envelope_sender(message: Message, original: Message | None) -> str:
    if original is not None and original.get("Return-Path"):
        return _first_address(str(original.get("Return-Path")))
    return _first_address(str(message.get("To", "")))


# ------------------------------------------------------------------------------------------------- RFC 3464


def _delivery_status(message: Message, part: Message) -> Iterator[AccountingRecord]:
    blocks = _field_blocks(part)
    if not blocks:
        return
    per_message = blocks[0] if not _is_recipient_block(blocks[0]) else {}
    recipients = [b for b in blocks if _is_recipient_block(b)]
    if len(recipients) > MAX_RECIPIENT_GROUPS:
        raise PayloadTooLarge(f"The report lists more than {MAX_RECIPIENT_GROUPS} recipients.")
    original = _original(message)
    headers = _original_headers(original)
    orig = _envelope_sender(message, original)
    report_time = _time(str(message.get("Date", "")))
    for block in recipients:
        action = block.get("action", "").strip().lower()
        code, status_text = split_status(block.get("status", ""))
        raw_diag = _cap(block.get("diagnostic-code", ""))
        reported = code
        code = _refined_status(code, raw_diag)
        arrival = _time(block.get("arrival-date") or per_message.get("arrival-date"))
        yield AccountingRecord(
            type="rb" if action in {"failed", ""} else "rs",
            time_logged=_time(block.get("last-attempt-date")) or report_time or arrival,
            time_queued=arrival,
            orig=orig,
            rcpt=_cap(_untyped(block.get("final-recipient") or block.get("original-recipient", ""))),
            orcpt=_cap(block.get("original-recipient", "")),
            dsn_action=action,
            dsn_status=code,
            dsn_diag=_join_continuations(clean_diagnostic(raw_diag)),
            dsn_mta=_cap(_untyped(block.get("remote-mta", ""))),
            src_mta=_cap(_untyped(per_message.get("reporting-mta", ""))),
            env_id=_cap(per_message.get("original-envelope-id", "")),
            job_id=_job_id(headers),
            headers=headers,
            dsn_status_text=_cap(status_text),
            dsn_diag_raw=raw_diag,
            extra={
                key: _cap(value)
                for key, value in (
                    ("reportingMta", _untyped(per_message.get("reporting-mta", ""))),
                    ("xPostfixSender", _untyped(per_message.get("x-postfix-sender", ""))),
                    ("reportedStatus", reported if reported != code else ""),
                )
                if value
            },
        )


def _join_continuations(diag: str) -> str:
    """``550-5.2.1 The user … 550-5.2.1 prevents …`` → ``550-5.2.1 The user … prevents …`` (one sentence again)."""
    return _CONTINUATION.sub("", diag) if _CONTINUATION.search(diag) else diag


def _refined_status(code: str, diag: str) -> str:
    """Many MTAs report a generic X.0.0 (or nothing) while the server's reply names the precise code.

    The precise code is used when it has the same class (or none was reported); the reported one stays in
    ``extra["reportedStatus"]``.
    """
    if code and not code.endswith(".0.0"):
        return code
    match = _STATUS_IN_TEXT.search(diag)
    if match is None or match.group(1).endswith(".0.0"):
        return code
    found = match.group(1)
    return found if not code or found[0] == code[0] else code


def _is_recipient_block(block: Mapping[str, str]) -> bool:
    return "final-recipient" in block or "original-recipient" in block


# ------------------------------------------------------------------------------------------------- RFC 5965


def _feedback_report(message: Message, part: Message) -> AccountingRecord:
    blocks = _field_blocks(part)
    fields: dict[str, str] = {}
    for block in blocks:
        for key, value in block.items():
            fields.setdefault(key, value)
    original = _original(message)
    headers = _original_headers(original)
    rcpt = _first_address(fields.get("original-rcpt-to"))
    if not rcpt and original is not None:
        rcpt = _first_address(str(original.get("To", "")))
    orig = _first_address(fields.get("original-mail-from"))
    if not orig and original is not None:
        orig = _first_address(str(original.get("Return-Path", "")))
    arrival = _time(fields.get("arrival-date") or fields.get("received-date"))
    return AccountingRecord(
        type="f",
        time_logged=_time(str(message.get("Date", ""))) or arrival,
        time_queued=arrival,
        orig=_cap(orig),
        rcpt=_cap(rcpt),
        feedback_type=_cap(fields.get("feedback-type", "").strip().lower()),
        dlv_source_ip=_cap(fields.get("source-ip", "").strip()),
        src_mta=_cap(_untyped(fields.get("reporting-mta", ""))),
        job_id=_job_id(headers),
        headers=headers,
        extra={
            key: _cap(fields[field])
            for key, field in (
                ("userAgent", "user-agent"),
                ("reportedDomain", "reported-domain"),
                ("reportedUri", "reported-uri"),
                ("authenticationResults", "authentication-results"),
            )
            if fields.get(field)
        },
    )


# ------------------------------------------------------------------------------------------------- fallback


def _failed_recipients_header(message: Message) -> Iterator[AccountingRecord]:
    """Plain-text bounces. The failed addresses come from X-Failed-Recipients (Exim), or, in a message that
    says it is a bounce (from MAILER-DAEMON/postmaster, or a failure subject), from lines that hold nothing but
    an address (qmail's "<a@example.org>:", Yahoo, many others); the text under each address says why."""
    value = ", ".join(str(v) for v in message.get_all("X-Failed-Recipients", []))
    addresses = list(dict.fromkeys(addr for _, addr in getaddresses([value]) if "@" in addr))
    if len(addresses) > MAX_RECIPIENT_GROUPS:
        raise PayloadTooLarge(f"X-Failed-Recipients lists more than {MAX_RECIPIENT_GROUPS} recipients.")
    text = _plain_text(message)
    if not addresses and _looks_like_a_bounce(message):
        addresses = _address_lines(text)
    if not addresses:
        return
    original = _original(message)
    headers = _original_headers(original)
    for address in addresses:
        diag = _cap(_diagnostic_near(text, address))
        match = _STATUS_IN_TEXT.search(diag)
        yield AccountingRecord(
            type="rb",
            time_logged=_time(str(message.get("Date", ""))),
            orig=_envelope_sender(message, original),
            rcpt=_cap(address),
            dsn_action="failed",
            dsn_status=match.group(1) if match else "",
            dsn_diag=diag,
            dsn_diag_raw=diag,
            job_id=_job_id(headers),
            headers=headers,
        )


_BOUNCE_SENDER = re.compile(r"mailer-daemon|postmaster|mail delivery|mailer_daemon", re.IGNORECASE)
_BOUNCE_SUBJECT = re.compile(
    r"undeliver|undelivered|delivery (status|failure|failed|notification)|failure notice|returned mail"
    r"|mail delivery failed|could not be delivered|non.?delivery|delivery problem",
    re.IGNORECASE,
)
_ADDRESS_LINE = re.compile(r"^\s*<?([^\s<>@\"]+@[^\s<>@\"]+?\.[^\s<>@\":]+)>?:?\s*$")
# "There was an error delivering your mail to <a@example.org>." (DragonFly and similar one-line reports)
_ADDRESS_SENTENCE = re.compile(
    r"deliver\w* (?:your )?(?:mail|message) to <?([^\s<>@\"]+@[^\s<>@\"]+?\.[^\s<>@\":]+?)>?[.:]?\s*$",
    re.IGNORECASE,
)
# Where the returned original message starts: addresses below it are not failed recipients.
_COPY_MARKER = re.compile(r"^-{2,}.*(copy|original|below|message)|^Received: |^Return-Path: ", re.IGNORECASE)
_MAX_TEXT_ADDRESSES = 50


def _looks_like_a_bounce(message: Message) -> bool:
    return bool(
        _BOUNCE_SENDER.search(str(message.get("From", "")))
        or _BOUNCE_SUBJECT.search(str(message.get("Subject", "")))
    )


def _address_lines(text: str) -> list[str]:
    found: list[str] = []
    for line in text.splitlines():
        if _COPY_MARKER.search(line):
            break
        match = _ADDRESS_LINE.match(line) or _ADDRESS_SENTENCE.search(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
            if len(found) >= _MAX_TEXT_ADDRESSES:
                break
    return found


def _plain_text(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/plain" and not part.is_multipart():
            return _decode(part)
    return ""


def _diagnostic_near(text: str, address: str) -> str:
    """The lines after the address up to the next blank line, folded into one line (Exim's layout)."""
    lines = text.splitlines()
    lowered = address.lower()
    for index, line in enumerate(lines):
        if lowered in line.lower():
            following: list[str] = []
            for candidate in lines[index + 1 :]:
                if not candidate.strip():
                    if following:
                        break
                    continue
                following.append(candidate.strip())
            # Keep the whole explanation: "SMTP error ... after MAIL FROM" says whom the refusal concerns.
            return " ".join(following)
    return ""
