"""Decisions drawn from the providers' own signals. Pure: no I/O, no clock; each returns its reasons.

- Warmup (:func:`warmup_signals`): an SNDS YELLOW day or any trap hit holds the plan; an SNDS RED
  day pauses it; a Gmail spam rate at or over 0.1 % holds, at or over 0.3 % pauses.
- Failover (:func:`list_causes`): trap hits, a Gmail spam rate at the pause level or an SNDS
  complaint rate at or over 0.3 % say the list is the cause, so failover is refused.
- Preflight (:func:`alignment_problems`): our own IPs failing DMARC alignment at receivers is NO-GO.
- Alerts (:func:`snds_alert`, :func:`gmail_alert`, :func:`unknown_source_alert`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Literal

__all__ = [
    "AlertText",
    "AlignmentRow",
    "GmailView",
    "ProviderSignal",
    "SignalAction",
    "SignalRules",
    "SndsView",
    "SourceCount",
    "alignment_problems",
    "gmail_alert",
    "list_causes",
    "snds_alert",
    "unknown_source_alert",
    "warmup_signals",
]


class SignalAction(StrEnum):
    HOLD = "hold"
    PAUSE = "pause"


@dataclass(frozen=True, slots=True)
class ProviderSignal:
    """A provider's verdict that must stop a warmup from advancing (hold) or stop it (pause)."""

    name: str
    action: SignalAction
    reason: str


@dataclass(frozen=True, slots=True)
class SignalRules:
    gmail_spam_hold: float = 0.001
    gmail_spam_pause: float = 0.003
    trap_hits_hold: int = 1
    snds_complaint_list_cause: float = 0.003


@dataclass(frozen=True, slots=True)
class SndsView:
    ip: str
    day: date
    filter_result: str | None  # GREEN, YELLOW, RED
    complaint_rate: float | None
    complaint_below: bool  # "< 0.1%": the rate is under the number given
    trap_hits: int | None
    blocked: bool = False
    blocked_reason: str = ""


@dataclass(frozen=True, slots=True)
class GmailView:
    domain: str
    day: date
    spam_rate: float | None


@dataclass(frozen=True, slots=True)
class AlertText:
    severity: Literal["info", "warning", "critical"]
    title: str
    text: str


def _pct(value: float) -> str:
    return f"{value:.2%}"


def warmup_signals(
    snds: SndsView | None, gmail: Sequence[GmailView], rules: SignalRules
) -> tuple[ProviderSignal, ...]:
    signals: list[ProviderSignal] = []
    if snds is not None:
        where = f"SNDS {snds.day.isoformat()}"
        if snds.filter_result == "RED":
            signals.append(
                ProviderSignal(
                    "snds_red",
                    SignalAction.PAUSE,
                    f"{where}: Outlook.com filtered {snds.ip} RED (most of its mail is spam)",
                )
            )
        elif snds.filter_result == "YELLOW":
            signals.append(
                ProviderSignal(
                    "snds_yellow",
                    SignalAction.HOLD,
                    f"{where}: Outlook.com filtered {snds.ip} YELLOW (10-90 % spam)",
                )
            )
        if (snds.trap_hits or 0) >= rules.trap_hits_hold:
            signals.append(
                ProviderSignal(
                    "snds_traps",
                    SignalAction.HOLD,
                    f"{where}: {snds.trap_hits} spam-trap hits from {snds.ip}",
                )
            )
        if snds.blocked:
            signals.append(
                ProviderSignal(
                    "snds_blocked",
                    SignalAction.PAUSE,
                    f"SNDS lists {snds.ip} as blocked ({snds.blocked_reason or 'no reason given'})",
                )
            )
    for view in gmail:
        if view.spam_rate is None:
            continue
        where = f"Gmail {view.day.isoformat()}"
        if view.spam_rate >= rules.gmail_spam_pause:
            signals.append(
                ProviderSignal(
                    "gmail_spam_rate",
                    SignalAction.PAUSE,
                    f"{where}: spam rate of {view.domain} is {_pct(view.spam_rate)}, at or over {_pct(rules.gmail_spam_pause)}",
                )
            )
        elif view.spam_rate >= rules.gmail_spam_hold:
            signals.append(
                ProviderSignal(
                    "gmail_spam_rate",
                    SignalAction.HOLD,
                    f"{where}: spam rate of {view.domain} is {_pct(view.spam_rate)}, at or over {_pct(rules.gmail_spam_hold)}",
                )
            )
    return tuple(signals)


def list_causes(snds: SndsView | None, gmail: Sequence[GmailView], rules: SignalRules) -> tuple[str, ...]:
    """Provider signals that blame the list (complaints, traps), not the IP: failover must not move it."""
    causes: list[str] = []
    if snds is not None:
        if (snds.trap_hits or 0) >= rules.trap_hits_hold:
            causes.append(
                f"SNDS counted {snds.trap_hits} spam-trap hits on {snds.day.isoformat()}: the list holds traps"
            )
        if (
            snds.complaint_rate is not None
            and not snds.complaint_below
            and snds.complaint_rate >= rules.snds_complaint_list_cause
        ):
            causes.append(
                f"SNDS complaint rate {_pct(snds.complaint_rate)} on {snds.day.isoformat()} is at or over "
                f"{_pct(rules.snds_complaint_list_cause)}"
            )
    for view in gmail:
        if view.spam_rate is not None and view.spam_rate >= rules.gmail_spam_pause:
            causes.append(
                f"Gmail spam rate of {view.domain} is {_pct(view.spam_rate)} on {view.day.isoformat()}, at or over "
                f"{_pct(rules.gmail_spam_pause)}"
            )
    return tuple(causes)


@dataclass(frozen=True, slots=True)
class AlignmentRow:
    """DMARC results of one of our IPs as one domain over the window."""

    source_ip: str
    header_from: str
    messages: int
    dmarc_pass: int
    reporters: tuple[str, ...]


def alignment_problems(rows: Sequence[AlignmentRow], *, max_fail_rate: float, min_messages: int) -> list[str]:
    """Sentences for our IPs whose mail fails DMARC alignment at receivers (enough of it to be sure)."""
    problems = []
    for row in sorted(rows, key=lambda r: (r.source_ip, r.header_from)):
        failed = row.messages - row.dmarc_pass
        if row.messages < min_messages or failed <= 0:
            continue
        rate = failed / row.messages
        if rate > max_fail_rate:
            problems.append(
                f"{row.source_ip} failed DMARC alignment as {row.header_from} on {failed} of {row.messages} messages "
                f"({_pct(rate)}) at {', '.join(sorted(row.reporters)[:5])}"
            )
    return problems


@dataclass(frozen=True, slots=True)
class SourceCount:
    source_ip: str
    ptr: str | None
    messages: int
    dmarc_pass: int
    reporters: tuple[str, ...]


def unknown_source_alert(
    domain: str, day: date, sources: Sequence[SourceCount], *, threshold: int, top: int = 5
) -> AlertText | None:
    total = sum(source.messages for source in sources)
    if total <= threshold:
        return None
    lines = [
        f"{s.source_ip}{f' ({s.ptr})' if s.ptr else ''}: {s.messages} messages, {s.dmarc_pass} passing DMARC, "
        f"seen by {', '.join(sorted(s.reporters)[:3])}"
        for s in sorted(sources, key=lambda s: (-s.messages, s.source_ip))[:top]
    ]
    return AlertText(
        "warning",
        f"Unknown senders used {domain}",
        f"DMARC reports for {day.isoformat()} show {total} messages with From: {domain} from {len(sources)} IPs that are "
        f"neither ours nor a known forwarder (over the {threshold} threshold): spoofing, or a service sending for "
        "you that nobody registered. Top sources:\n" + "\n".join(lines),
    )


def snds_alert(snds: SndsView, rules: SignalRules) -> AlertText | None:
    reasons = []
    if snds.filter_result in ("RED", "YELLOW"):
        reasons.append(f"filter result {snds.filter_result}")
    if (snds.trap_hits or 0) >= rules.trap_hits_hold:
        reasons.append(f"{snds.trap_hits} spam-trap hits")
    if snds.blocked:
        reasons.append(f"blocked ({snds.blocked_reason or 'no reason given'})")
    if not reasons:
        return None
    severity: Literal["warning", "critical"] = (
        "critical" if snds.filter_result == "RED" or snds.blocked else "warning"
    )
    return AlertText(
        severity,
        f"Outlook.com (SNDS) flags {snds.ip}",
        f"SNDS for {snds.day.isoformat()}: {snds.ip} has {', '.join(reasons)}. Warmup of this IP holds or pauses; "
        "check the list segment it sent to and its complaint handling.",
    )


def gmail_alert(view: GmailView, rules: SignalRules) -> AlertText | None:
    if view.spam_rate is None or view.spam_rate < rules.gmail_spam_hold:
        return None
    severity: Literal["warning", "critical"] = (
        "critical" if view.spam_rate >= rules.gmail_spam_pause else "warning"
    )
    return AlertText(
        severity,
        f"Gmail spam rate of {view.domain} is {_pct(view.spam_rate)}",
        f"Postmaster Tools for {view.day.isoformat()}: {view.domain}'s user-reported spam rate is {_pct(view.spam_rate)} "
        f"(hold at {_pct(rules.gmail_spam_hold)}, pause at {_pct(rules.gmail_spam_pause)}). Gmail asks bulk senders to "
        "stay under 0.10 % and never reach 0.30 %.",
    )
