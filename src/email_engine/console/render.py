"""Jinja2 rendering for the console: one environment, autoescaped, templates shipped in the package."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.responses import HTMLResponse

from email_engine.ips.lifecycle import IpState
from email_engine.platform.models import JobStatus
from email_engine.reputation.auth_facts import CheckStatus
from email_engine.reputation.compliance import RequirementStatus
from email_engine.validation import bulk
from email_engine.warmup.plan import PlanStatus

__all__ = ["PAGES", "page", "percent", "render", "when"]

#: The console's pages in navigation order (path, name).
PAGES: tuple[tuple[str, str], ...] = (
    ("/ui/", "Overview"),
    ("/ui/ips", "IPs"),
    ("/ui/warmup", "Warmup"),
    ("/ui/reputation", "Reputation"),
    ("/ui/feedback", "Feedback"),
    ("/ui/validation", "Validation"),
    ("/ui/powermta", "PowerMTA"),
    ("/ui/operations", "Operations"),
)


def when(value: datetime | date | None) -> Markup:
    """A ``<time>`` in UTC; ``static/console.js`` shows it in the browser's time zone, UTC on hover."""
    if value is None:
        return Markup('<span class="muted">—</span>')
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        utc = moment.astimezone(UTC)
        text = utc.strftime("%Y-%m-%d %H:%M UTC")
        return Markup('<time datetime="{}" title="{}" data-local>{}</time>').format(
            utc.isoformat().replace("+00:00", "Z"), text, text
        )
    text = value.isoformat()
    return Markup('<time datetime="{}">{}</time>').format(text, text)


def percent(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f} %"


def number(value: int | float | None) -> str:
    return "—" if value is None else f"{value:,}"


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("email_engine.console", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(when=when, percent=percent, number=number)
    env.globals["pages"] = PAGES
    # Templates compare states with the enums too: a misspelt member fails loudly, a misspelt string never.
    env.globals.update(
        IpState=IpState,
        PlanStatus=PlanStatus,
        JobStatus=JobStatus,
        CheckStatus=CheckStatus,
        RequirementStatus=RequirementStatus,
        ValidationJobStatus=bulk.JobStatus,
    )
    return env


def render(template: str, values: Mapping[str, Any]) -> str:
    return environment().get_template(template).render(**values)


def page(template: str, values: Mapping[str, Any], *, status: int = 200) -> HTMLResponse:
    response = HTMLResponse(render(template, values), status_code=status)
    # Nothing from another host, no framing, no sniffing (the pages load only /ui/static/* of this server).
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response
