"""``email-engine pipe``: the program PowerMTA's ``<acct-file |…>`` directive runs."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from pydantic import SecretStr, ValidationInfo, field_validator
from sqlalchemy.orm import Session, sessionmaker

from email_engine.config import Settings
from email_engine.feedback.ingest import ForwardPolicy
from email_engine.feedback.settings import FeedbackSettings

__all__ = ["register"]


class PipeSettings(Settings):
    """The pipe's settings: weak API secrets are logged, never fatal.

    The pipe uses neither ``API_KEY`` nor ``JWT_SECRET_KEY``; refusing to start over them (as
    production does everywhere else) would stop PowerMTA's records reaching the spool. ``serve`` and
    preflight report weak secrets.
    """

    @field_validator("api_key", "jwt_secret_key")
    @classmethod
    def _strong_in_production(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        return value


def _forward(
    settings_url_bounce: str | None,
    settings_url_delivery: str | None,
    feedback: FeedbackSettings,
    *,
    past: bool,
) -> ForwardPolicy:
    return ForwardPolicy(
        bounces=bool(settings_url_bounce),
        deliveries=bool(settings_url_delivery),
        diag_max_chars=feedback.diag_max_chars,
        replay_horizon_days=feedback.replay_horizon_days,
        accept_past_horizon=past,
    )


def pipe(
    drain: Annotated[
        bool, typer.Option("--drain", help="Do not read stdin: store what the spool holds, then exit.")
    ] = False,
    restore_rejected: Annotated[
        bool,
        typer.Option(
            "--restore-rejected",
            help="With --drain: first move segments from the spool's rejected/ folder back into the queue.",
        ),
    ] = False,
    source: Annotated[
        str | None, typer.Option(help="Label stored with each record (default PIPE_SOURCE, 'pipe').")
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the final report as JSON on stdout.")
    ] = False,
    accept_past_horizon: Annotated[
        bool,
        typer.Option(
            "--accept-past-horizon",
            help="Store and count records logged before the replay horizon (ACCOUNTING_REPLAY_HORIZON_DAYS, "
            "default 14) too. Only for input known never to have been stored: beyond the horizon a replay "
            "is not recognised once its day is purged. Without it such records become dead letters.",
        ),
    ] = False,
) -> None:
    """Read PowerMTA accounting CSV on stdin and store every record.

    Input goes unparsed to a durable spool (PIPE_SPOOL_DIR) as it is read, then to DATABASE_URL.

    If the database is unreachable, batches wait in the spool until it is back, the next start or --drain.

    Exits 0 at end of input once every record is stored or spooled.
    """
    from email_engine.feedback.pipe import drain_spool, open_factory, run_pipe
    from email_engine.feedback.spool import Spool
    from email_engine.logging import configure_logging

    settings = PipeSettings()
    configure_logging(settings)
    feedback = settings.section(FeedbackSettings)
    spool = Spool(feedback.pipe_spool_dir)

    def make_factory() -> sessionmaker[Session]:
        return open_factory(settings.database_url, connect_timeout=feedback.pipe_connect_timeout)

    forward = _forward(
        settings.scraper_pro_bounce_url, settings.scraper_pro_delivery_url, feedback, past=accept_past_horizon
    )
    if drain:
        if restore_rejected:
            spool.restore_rejected()
        report = drain_spool(spool, make_factory(), forward=forward)
        summary: dict[str, object] = {
            "converted_segments": report.converted,
            "stored_segments": report.segments,
            "rejected_segments": report.rejected,
            "left_in_spool": report.remaining,
            **{f"stored_{k}": v for k, v in report.result.as_dict().items()},
            "error": report.unreachable or report.conversion_error,
        }
        _print(summary, as_json)
        if report.unreachable is not None:
            typer.echo(
                f"error: the database is unreachable ({report.unreachable}); the spool is kept.", err=True
            )
            raise typer.Exit(1)
        if report.conversion_error is not None:
            typer.echo(
                f"error: raw input could not be parsed into batches ({report.conversion_error}); "
                f"it is kept in {spool.directory}; free space or fix permissions, then run --drain again.",
                err=True,
            )
            raise typer.Exit(1)
        return
    result = run_pipe(
        sys.stdin.buffer,
        spool=spool,
        make_factory=make_factory,
        forward=forward,
        source=source or feedback.pipe_source,
        batch_size=feedback.pipe_batch_size,
        flush_seconds=feedback.pipe_flush_seconds,
        retry_max=feedback.pipe_retry_max_seconds,
    )
    _print(result.as_dict(), as_json)


def _print(summary: dict[str, object], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(summary))
    else:
        typer.echo(
            " ".join(f"{key}={value}" for key, value in summary.items() if value is not None), err=True
        )


def register(root: typer.Typer) -> None:
    root.command("pipe")(pipe)
