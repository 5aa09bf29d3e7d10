"""Feedback commands: ``bounces …`` (classifier, DSN parser) and ``pipe`` (PowerMTA accounting)."""

from __future__ import annotations

import importlib
import importlib.util

import typer

# Two modules so the classifier and the pipe can evolve apart.
_PARTS = ("email_engine.feedback.bounce_cli", "email_engine.feedback.pipe_cli")


def register(root: typer.Typer) -> None:
    for name in _PARTS:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(root)
