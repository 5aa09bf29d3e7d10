"""A test that starts a process is marked ``slow``; ``scripts/test.sh -m "not slow"`` is the quick loop.

Processes are what make a test slow here: a CLI run as a subprocess, the accounting pipe, an install, rbldnsd,
Dovecot, nginx, Pebble, Chromium, uvicorn workers. Python's audit events say when one starts: a test that starts
one without the mark fails, so the quick loop stays quick and the mark stays true. A process started by a
fixture counts for the test whose setup started it; the fixtures that start one put the mark on every test that
uses them (``pytestmark`` in their module, or ``SLOW_FIXTURES`` below for fixtures shared by a folder).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Generator
from pathlib import Path

import pytest

__all__ = ["SLOW_FIXTURES"]

#: Fixtures that start a process (rbldnsd, the pipe, Dovecot, Playwright's driver and Chromium), by name: a test
#: that uses one is marked slow.
SLOW_FIXTURES = frozenset({"rbl", "run_pipe", "dovecot", "playwright_driver"})

_PROCESS_EVENTS = frozenset(
    {"subprocess.Popen", "os.system", "os.posix_spawn", "os.fork", "os.forkpty", "os.exec"}
)
_started: list[str] = []


def _program(event: str, args: tuple[object, ...]) -> str:
    """The program an audit event starts, for the failure message."""
    if event == "subprocess.Popen":  # args: executable, argv, cwd, env
        return Path(os.fsdecode(args[0])).name  # type: ignore[arg-type]
    return event


def _note(event: str, args: tuple[object, ...]) -> None:
    if event in _PROCESS_EVENTS:
        _started.append(_program(event, args))


sys.addaudithook(_note)


@pytest.hookimpl(tryfirst=True)  # before -m selects by marks
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SLOW_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    _started.clear()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if call.when == "teardown" and _started and item.get_closest_marker("slow") is None:
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} started {', '.join(sorted(set(_started)))} but is not marked slow "
            "(tests/support/slow_marks.py)"
        )
    return report
