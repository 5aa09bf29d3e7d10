"""Login attempt counting: the pure decisions (no I/O, no clock; times are milliseconds passed in).

Every login attempt is *claimed* before the password is checked, so concurrent attempts cannot slip
past a budget; a successful login gives its claim back. Three counters are claimed in turn (a refusal
stops there), each with its own :class:`Policy`:

1. ``client``: the client address, ``RATE_LIMIT_LOGIN`` attempts per window (default 10 a minute),
   whatever the account;
2. ``pair``: the account *and* the client address. ``LOGIN_BACKOFF_FREE_ATTEMPTS`` attempts are free,
   then each further one must wait twice as long as the previous (``LOGIN_BACKOFF_BASE_SECONDS`` up to
   ``LOGIN_BACKOFF_MAX_SECONDS``). An attacker slows down only himself: the same account from
   another address has its own pair;
3. ``account``: a ceiling per account over all addresses (``LOGIN_ACCOUNT_LIMIT``, default 500 an
   hour), far above what one address can reach through its pair backoff (about 18 an hour), so only
   a distributed attack can reach it.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Claim", "Policy", "Throttle", "claim", "refund"]


@dataclass(frozen=True, slots=True)
class Policy:
    """``threshold`` claims per ``window_ms``. At the threshold either the rest of the window is blocked
    (a rate limit, ``backoff_ms`` empty) or each claim blocks the next one for its backoff step."""

    name: str
    threshold: int
    window_ms: int
    backoff_ms: tuple[int, ...] = ()

    @classmethod
    def rate(cls, name: str, *, amount: int, window_seconds: float) -> Policy:
        return cls(name, max(1, amount), int(window_seconds * 1000))

    @classmethod
    def backoff(
        cls, name: str, *, free: int, base_seconds: float, max_seconds: float, window_seconds: float
    ) -> Policy:
        steps: list[int] = []
        delay = base_seconds
        while delay < max_seconds:
            steps.append(int(delay * 1000))
            delay *= 2
        steps.append(int(max_seconds * 1000))
        return cls(name, max(1, free), int(window_seconds * 1000), tuple(steps))


@dataclass(frozen=True, slots=True)
class Throttle:
    """The stored state of one counter."""

    count: int = 0
    window_started_ms: int = 0
    blocked_until_ms: int = 0

    @property
    def empty(self) -> bool:
        return self.count == 0 and self.blocked_until_ms == 0


@dataclass(frozen=True, slots=True)
class Claim:
    allowed: bool
    retry_after_ms: int = 0


def claim(state: Throttle, policy: Policy, now_ms: int) -> tuple[Claim, Throttle]:
    """Count one attempt, or refuse it while the counter is blocked."""
    if now_ms < state.blocked_until_ms:
        return Claim(False, state.blocked_until_ms - now_ms), state
    if state.count == 0 or now_ms - state.window_started_ms >= policy.window_ms:
        count, started = 1, now_ms
    else:
        count, started = state.count + 1, state.window_started_ms
    blocked = 0
    if count >= policy.threshold:
        if policy.backoff_ms:
            blocked = now_ms + policy.backoff_ms[min(count - policy.threshold, len(policy.backoff_ms) - 1)]
        else:
            blocked = started + policy.window_ms
    return Claim(True), Throttle(count, started, blocked)


def refund(state: Throttle, policy: Policy) -> Throttle:
    """Give back the claim of a successful login: a backoff starts afresh, a rate counts one fewer."""
    if policy.backoff_ms or state.count <= 1:
        return Throttle()
    count = state.count - 1
    return Throttle(
        count, state.window_started_ms, state.blocked_until_ms if count >= policy.threshold else 0
    )
