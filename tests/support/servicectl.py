"""A tiny stand-in for systemctl, for deploy tests on machines without systemd as PID 1.

It runs the ExecStart of the *rendered unit file* (with its WorkingDirectory, EnvironmentFile and Environment),
so the tests exercise the real unit and the real gunicorn command, only the supervisor differs.

    servicectl.py start|stop|restart|enable|daemon-reload NAME
Environment: SYSTEMD_DIR (where the unit is), SERVICECTL_STATE (pid files, runtime dir, logs).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path


def _unit(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    path = Path(os.environ["SYSTEMD_DIR"]) / f"{name}.service"
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            values.setdefault(key.strip(), []).append(value.strip())
    return values


def _env_file(path: str) -> dict[str, str]:
    env: dict[str, str] = {}
    for line in Path(path).read_text().splitlines():
        if line.strip() and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env


def _state() -> Path:
    path = Path(os.environ["SERVICECTL_STATE"])
    path.mkdir(parents=True, exist_ok=True)
    return path


def start(name: str) -> None:
    unit = _unit(name)
    runtime = _state() / "run"
    runtime.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key in ("PATH", "HOME", "LANG")}
    for env_file in unit.get("EnvironmentFile", []):
        env.update(_env_file(env_file))
    for assignment in unit.get("Environment", []):
        key, _, value = assignment.partition("=")
        env[key] = value
    env["PROMETHEUS_MULTIPROC_DIR"] = str(runtime)  # stands in for RuntimeDirectory=
    command = shlex.split(unit["ExecStart"][0])
    log = (_state() / f"{name}.log").open("ab")
    process = subprocess.Popen(
        command,
        cwd=unit["WorkingDirectory"][0],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    (_state() / f"{name}.pid").write_text(str(process.pid))


def stop(name: str) -> None:
    pid_file = _state() / f"{name}.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text())
    try:
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            os.killpg(pid, 0)
            time.sleep(0.1)
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    pid_file.unlink()


def main() -> None:
    action, *rest = sys.argv[1:]
    if action in ("daemon-reload", "enable"):
        return
    name = rest[0]
    if action in ("stop", "restart"):
        stop(name)
    if action in ("start", "restart"):
        start(name)


if __name__ == "__main__":
    main()
