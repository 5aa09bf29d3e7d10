"""Every job the scheduler knows: the jobs of each ``<domain>/jobs.py`` plus ``SCHEDULER_JOB_MODULES``.

A jobs module declares ``JOBS: list[JobSpec]``, or ``job_specs(settings) -> list[JobSpec]`` when an
interval is one of its settings (read from the context's settings, never at import).
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Iterable, Sequence
from types import ModuleType

from email_engine.config import Settings
from email_engine.errors import ConfigurationError, NotFound
from email_engine.ops.settings import SchedulerSettings
from email_engine.platform.jobspec import JobSpec
from email_engine.plugins import domain_modules

__all__ = ["all_jobs", "find_job"]

MAX_NAME = 64


def _modules(extra: Iterable[str]) -> list[ModuleType]:
    modules = list(domain_modules("jobs"))
    for name in extra:
        try:
            modules.append(importlib.import_module(name))
        except ImportError as exc:
            raise ConfigurationError(
                f"SCHEDULER_JOB_MODULES names {name!r}, which cannot be imported: {exc}"
            ) from exc
    return modules


def _declared(module: ModuleType, settings: Settings) -> list[JobSpec]:
    declare = getattr(module, "job_specs", None)
    return list(declare(settings)) if declare is not None else list(getattr(module, "JOBS", []))


def all_jobs(settings: Settings, *, include_disabled: bool = False) -> list[JobSpec]:
    """Jobs with interval overrides applied; duplicate names or unknown overrides are configuration errors."""
    scheduler = settings.section(SchedulerSettings)
    jobs: dict[str, JobSpec] = {}
    for module in _modules(scheduler.job_modules):
        for spec in _declared(module, settings):
            if not spec.name or len(spec.name) > MAX_NAME:
                raise ConfigurationError(f"Job names must be 1 to {MAX_NAME} characters ({module.__name__}).")
            if spec.name in jobs:
                raise ConfigurationError(
                    f"Two jobs are named {spec.name!r}; the second is in {module.__name__}."
                )
            if spec.interval_seconds < 1:
                raise ConfigurationError(f"Job {spec.name!r} has an interval under one second.")
            jobs[spec.name] = spec
    overrides = scheduler.interval_overrides()
    for name in [*overrides, *scheduler.disabled_jobs, *scheduler.only_jobs]:
        if name not in jobs:
            raise ConfigurationError(
                f"Scheduler settings name the job {name!r}, which does not exist; known jobs: {', '.join(sorted(jobs))}."
            )
    for name, seconds in overrides.items():
        jobs[name] = dataclasses.replace(jobs[name], interval_seconds=seconds)
    return [
        spec for name, spec in sorted(jobs.items()) if include_disabled or not scheduler.is_disabled(name)
    ]


def find_job(jobs: Sequence[JobSpec], name: str) -> JobSpec:
    for spec in jobs:
        if spec.name == name:
            return spec
    known = ", ".join(spec.name for spec in jobs) or "none"
    raise NotFound(f"There is no job named {name!r}; known jobs: {known}.")
