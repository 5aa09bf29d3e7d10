"""The preflight items of PowerMTA: the deployed configuration lints clean, loads the engine's bounce
patterns, and pipes bounces and deliveries to the engine's scripts."""

from __future__ import annotations

import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from email_engine.context import AppContext
from email_engine.integrations.powermta.lint_disk import lint_path
from email_engine.integrations.powermta.pipes import pipe_problems, wired_pipes
from email_engine.integrations.powermta.settings import PowerMtaSettings
from email_engine.ips.service import sending_inventory
from email_engine.platform.preflight import Item, PreflightCheck, PreflightSettings

__all__ = ["CHECKS", "check_powermta_config"]


def check_powermta_config(ctx: AppContext, _pf: PreflightSettings, _now: datetime) -> Iterable[Item]:
    settings = ctx.settings.section(PowerMtaSettings)
    path = Path(settings.config_dir) / "config"
    if not path.exists():
        yield Item(
            "powermta config",
            "fail",
            f"{path} does not exist",
            "Render and deploy it: `email-engine pmta deploy` (PMTA_CONFIG_DIR).",
        )
        return
    with ctx.session_factory() as session:
        ips, _domains = sending_inventory(session)
    report = lint_path(path, expected_ips=ips)
    if report.errors:
        first = report.errors[0]
        yield Item(
            "powermta config",
            "fail",
            f"{len(report.errors)} lint errors, first: {first}",
            f"Run `email-engine pmta lint {path}` and fix, or redeploy with `email-engine pmta deploy`.",
        )
    else:
        yield Item("powermta config", "pass", f"lints clean ({len(report.files)} files)")
    text = "\n".join(Path(name).read_text(errors="replace") for name in report.files if Path(name).is_file())
    patterns = "<bounce-category-patterns>" in text
    yield Item(
        "powermta bounce patterns",
        "pass" if patterns else "fail",
        "bounce-category-patterns loaded" if patterns else "no <bounce-category-patterns> block",
        "" if patterns else "Redeploy with `email-engine pmta deploy` (patterns come from the classifier).",
    )
    problems = pipe_problems(text, bounce_pipe=settings.bounce_pipe, delivery_pipe=settings.delivery_pipe)
    if problems:
        yield Item(
            "powermta pipes",
            "fail",
            "; ".join(problems),
            "Redeploy with `email-engine pmta deploy` (PMTA_BOUNCE_PIPE / PMTA_DELIVERY_PIPE); the pipes feed "
            "bounces and deliveries to the engine.",
        )
        return
    not_runnable = [
        program
        for program in (settings.bounce_pipe, settings.delivery_pipe)
        if not (Path(program).is_file() and os.access(program, os.X_OK))
    ]
    if not_runnable:
        yield Item(
            "powermta pipes",
            "fail",
            f"wired, but not an executable file: {', '.join(not_runnable)}",
            "Install the pipe scripts (deploy/install.sh copies scripts/*-pipe.sh) and chmod +x them.",
        )
    else:
        pipes = wired_pipes(text)
        yield Item(
            "powermta pipes",
            "pass",
            f"bounce ({','.join(sorted(pipes[settings.bounce_pipe]))}) and delivery "
            f"({','.join(sorted(pipes[settings.delivery_pipe]))}) accounting pipes wired",
        )


CHECKS = [PreflightCheck("powermta config", check_powermta_config, order=80)]
