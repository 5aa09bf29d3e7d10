"""Small I/O probes used by health checks: an HTTP GET, a peer's reachability, a command, disk usage
(adapters only; the verdicts are :class:`CheckResult`s)."""

from __future__ import annotations

import asyncio
import shlex
import shutil
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from email_engine.platform.healthcheck import CheckResult

__all__ = [
    "CommandAnswer",
    "HttpAnswer",
    "disk_free_fraction",
    "http_get",
    "reachable",
    "redact_url",
    "run_command",
]


def redact_url(url: str) -> str:
    """scheme://host[:port] only: paths and queries may hold tokens."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    status: int | None
    error: str | None
    body: Any = None


async def http_get(url: str, *, timeout: float) -> HttpAnswer:
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.TimeoutException:
        return HttpAnswer(None, f"no answer from {redact_url(url)} within {timeout:g} s")
    except httpx.HTTPError as exc:
        return HttpAnswer(None, f"{redact_url(url)} unreachable ({type(exc).__name__})")
    body: Any = None
    try:
        body = response.json()
    except ValueError:
        body = response.text[:2000]
    return HttpAnswer(response.status_code, None, body)


async def reachable(name: str, url: str, timeout: float) -> CheckResult:
    """Any HTTP answer below 500 proves the peer is up (its API refuses an unsigned GET, as it should)."""
    answer = await http_get(url, timeout=timeout)
    if answer.error:
        return CheckResult("fail", f"{name}: {answer.error}")
    assert answer.status is not None
    if answer.status >= 500:
        return CheckResult("fail", f"{name} at {redact_url(url)} answered HTTP {answer.status}")
    return CheckResult(
        "ok", f"{name} answers at {redact_url(url)} (HTTP {answer.status})", {"http_status": answer.status}
    )


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    returncode: int | None
    output: str
    error: str | None


async def run_command(command: str, *, timeout: float) -> CommandAnswer:
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        return CommandAnswer(None, "", f"the command cannot be parsed: {exc}")
    if not argv:
        return CommandAnswer(None, "", "the command is empty")
    try:
        process = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
    except OSError as exc:
        return CommandAnswer(None, "", f"{argv[0]} cannot be started: {exc.strerror or type(exc).__name__}")
    try:
        output, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        return CommandAnswer(None, "", f"{argv[0]} did not finish within {timeout:g} s")
    return CommandAnswer(process.returncode, output.decode("utf-8", "replace")[:4000], None)


def disk_free_fraction(path: str) -> tuple[float, int, int]:
    """(free fraction, free bytes, total bytes) of the filesystem holding ``path``."""
    usage = shutil.disk_usage(path)
    return (usage.free / usage.total if usage.total else 0.0), usage.free, usage.total
