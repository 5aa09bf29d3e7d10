#!/usr/bin/env python3
"""The deployment guide's user script, as a thin wrapper over the ``email-engine`` command.

    python3 scripts/manage-users.py rotate-secrets
    python3 scripts/manage-users.py create-admin --email admin@example.com --username admin --password '…'
    python3 scripts/manage-users.py list | disable USER | enable USER | set-password USER | revoke-tokens USER

``rotate-secrets`` prints a fresh 64-character API_KEY and a 128-character JWT_SECRET_KEY to paste into .env
(``email-engine secrets rotate``); the other commands are ``email-engine users …``. Runs with the system
python3 (standard library only): it finds the installation's virtualenv (``.venv`` or ``venv`` beside
``scripts/``, or ``$APP_DIR/.venv`` for the installed copy in ``$APP_DIR/app``; ``EMAIL_ENGINE_HOME``
overrides the directory) and runs there, where ``.env`` gives the settings.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

COMMANDS = {
    "rotate-secrets": ["secrets", "rotate"],
    "create-admin": ["users", "create-admin"],
    "list": ["users", "list"],
    "disable": ["users", "disable"],
    "enable": ["users", "enable"],
    "set-password": ["users", "set-password"],
    "revoke-tokens": ["users", "revoke-tokens"],
}


def _installation() -> tuple[Path, Path] | None:
    """(directory to run in, its email-engine executable)."""
    here = Path(__file__).resolve().parent.parent
    homes = (
        [Path(os.environ["EMAIL_ENGINE_HOME"])]
        if os.environ.get("EMAIL_ENGINE_HOME")
        else [here, here.parent]
    )
    for home in homes:
        for venv in (".venv", "venv"):
            exe = home / venv / "bin" / "email-engine"
            if os.access(exe, os.X_OK):
                return home, exe
    return None


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__.strip())
        print("\ncommands: " + ", ".join(COMMANDS) + " (each takes --help)")
        return 0 if argv else 64
    command = COMMANDS.get(argv[0])
    if command is None:
        print(
            f"manage-users.py: unknown command {argv[0]!r}; use one of: {', '.join(COMMANDS)}",
            file=sys.stderr,
        )
        return 64
    found = _installation()
    if found is None:
        print(
            "manage-users.py: no Email Engine virtualenv found (.venv or venv beside scripts/); "
            "run deploy/install.sh or scripts/bootstrap.sh first, or set EMAIL_ENGINE_HOME",
            file=sys.stderr,
        )
        return 69
    home, exe = found
    os.chdir(home)
    os.execv(str(exe), [str(exe), *command, *argv[1:]])  # noqa: S606 - a fixed program, no shell
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
