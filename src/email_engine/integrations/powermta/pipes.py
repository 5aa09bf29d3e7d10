"""Which programs a PowerMTA configuration pipes accounting records into (pure; no file access).

The engine's bounce and delivery scripts must each be an ``<acct-file |program>`` receiving ``b`` and
``d`` records; preflight reports what is missing.
"""

from __future__ import annotations

import re

__all__ = ["pipe_problems", "wired_pipes"]

_ACCT_BLOCK = re.compile(
    r"<acct-file\s+\|\s*\"?([^\s>\"]+)\"?\s*>(.*?)</acct-file>", re.DOTALL | re.IGNORECASE
)
_RECORDS = re.compile(r"^\s*records\s+(\S+)", re.MULTILINE | re.IGNORECASE)


def wired_pipes(config_text: str) -> dict[str, set[str]]:
    """Pure: the programs PowerMTA pipes accounting records into, with the record types each gets."""
    pipes: dict[str, set[str]] = {}
    live = "\n".join(line for line in config_text.splitlines() if not line.lstrip().startswith("#"))
    for program, body in _ACCT_BLOCK.findall(live):
        types = {t.strip().lower() for match in _RECORDS.findall(body) for t in match.split(",") if t.strip()}
        pipes.setdefault(program, set()).update(types)
    return pipes


def pipe_problems(config_text: str, *, bounce_pipe: str, delivery_pipe: str) -> list[str]:
    """Pure: the missing pipes, named: bounces (b) and deliveries (d) must reach the engine's scripts."""
    pipes = wired_pipes(config_text)
    problems = []
    for kind, program, record in (("bounce", bounce_pipe, "b"), ("delivery", delivery_pipe, "d")):
        if program not in pipes:
            problems.append(f"{kind} pipe ({program}) is not an <acct-file |…> in the config")
        elif record not in pipes[program]:
            problems.append(f"{kind} pipe ({program}) does not receive '{record}' records")
    return problems
