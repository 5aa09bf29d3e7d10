"""``email-engine validate INPUT.csv -o OUTPUT.csv``: clean a list before it goes to MailWizz."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from email_engine.cli_support import cli_session
from email_engine.errors import InvalidInput
from email_engine.validation.csvfile import ProgressCallback, inspect_csv, validate_csv
from email_engine.validation.service import session_suppression, validator_for

__all__ = ["register"]

err = Console(stderr=True)


#: While progress shows, a chunk (rows between two updates, also a checkpoint) aims at 1/20 of the file,
#: counting ``PROGRESS_ROW_BYTES`` per row, but is never under ``PROGRESS_CHUNK_ROWS`` rows nor over
#: VALIDATION_JOB_CHUNK_ROWS. Smaller chunks cost CPU (a checkpoint and a cache look-up per domain each):
#: 1,000-row chunks took about a third more CPU on 200,000 rows (bench/validation_csv.py --progress).
PROGRESS_CHUNK_ROWS = 1_000
PROGRESS_ROW_BYTES = 64
PROGRESS_STEPS = 20


def progress_chunk_rows(total_bytes: int, job_chunk_rows: int) -> int:
    """Rows per chunk while progress shows (see PROGRESS_CHUNK_ROWS)."""
    aimed = total_bytes // (PROGRESS_STEPS * PROGRESS_ROW_BYTES)
    return min(job_chunk_rows, max(PROGRESS_CHUNK_ROWS, aimed))


def progress_line(rows: int, position: int, total_bytes: int, elapsed: float) -> str:
    """One progress line for logs (no terminal): rows done, share of the file read, rate and ETA."""
    share = min(position / total_bytes, 1.0) if total_bytes > 0 else 1.0
    rate = rows / elapsed if elapsed > 0 else 0.0
    if 0 < share < 1 and elapsed > 0:
        left = int(elapsed / share - elapsed)
        eta = f"ETA {left // 3600}:{left % 3600 // 60:02d}:{left % 60:02d}"
    else:
        eta = "ETA -" if share < 1 else "done"
    return f"validating: {rows:,} rows, {share:.0%} of the file, {rate:,.0f} rows/s, {eta}"


@contextmanager
def _progress(mode: str | None, total_bytes: int, interval: float) -> Iterator[ProgressCallback | None]:
    """On a terminal a rich progress bar (bytes read, rows, rows/s, ETA); otherwise a line every ``interval``
    seconds and one at the end; nothing with --json."""
    started = time.monotonic()
    if mode is None:
        yield None
        return
    if mode == "lines":
        last = started

        def line(rows: int, position: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= interval or position >= total_bytes:
                last = now
                print(progress_line(rows, position, total_bytes, now - started), file=sys.stderr, flush=True)

        yield line
        return
    with Progress(
        TextColumn("[bold]validating"),
        BarColumn(),
        TaskProgressColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[rows]} rows · {task.fields[rate]} rows/s"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=False,
    ) as progress:
        task = progress.add_task("validate", total=max(total_bytes, 1), rows=0, rate=0)

        def update(rows: int, position: int) -> None:
            elapsed = max(time.monotonic() - started, 1e-6)
            progress.update(task, completed=position, rows=f"{rows:,}", rate=f"{rows / elapsed:,.0f}")

        yield update


def validate_command(  # noqa: PLR0917 - typer maps parameters to options
    input_path: Annotated[Path, typer.Argument(metavar="INPUT.csv", help="UTF-8 CSV with a header line.")],
    output: Annotated[
        Path,
        typer.Option("-o", "--output", help="Where to write INPUT's rows plus verdict, reasons, suggestion."),
    ],
    column: Annotated[
        str | None,
        typer.Option(help="Name (or 1-based number) of the address column; detected when omitted."),
    ] = None,
    split: Annotated[
        bool,
        typer.Option(
            "--split", help="Also write OUTPUT.valid.csv, .invalid.csv, .risky.csv and .unknown.csv."
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume", help="Continue an interrupted run from its checkpoint instead of starting over."
        ),
    ] = False,
    suppression: Annotated[
        bool, typer.Option(help="Mark addresses on the suppression list (needs the database).")
    ] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON summary for scripts.")] = False,
    progress_interval: Annotated[
        float,
        typer.Option(
            min=0.1, help="Seconds between progress lines when stderr is not a terminal (logs, cron)."
        ),
    ] = 5.0,
) -> None:
    """Validate every address in a CSV file of any size (streamed; memory stays flat).

    Verdicts: valid; invalid (syntax, nxdomain, no_mx, null_mx, mx_unroutable, disposable, blocked_prefix, suppressed); risky (role, typo); unknown (dns_timeout, dns_error: check again later).

    Progress: a bar with rows, rows/s and ETA on a terminal; a line every --progress-interval seconds otherwise
    (none with --json). The output appears only when the whole file is done; an interrupted run continues with
    --resume. Exit code 2 on bad input.
    """
    if output.resolve() == input_path.resolve():
        raise InvalidInput("The output file must differ from the input file.")
    plan = inspect_csv(input_path, column=column, label=str(input_path))
    started = time.monotonic()
    with cli_session() as (ctx, session):
        validator = validator_for(ctx)
        mode = None if as_json else ("bar" if sys.stderr.isatty() else "lines")
        chunk_rows = validator.options.job_chunk_rows
        if mode is not None:  # progress moves once per chunk: keep chunks small enough to be seen moving
            chunk_rows = progress_chunk_rows(plan.size, chunk_rows)
        with _progress(mode, plan.size, progress_interval) as bar:
            check = session_suppression(session, ctx.settings) if suppression else None
            try:
                summary = validate_csv(
                    plan,
                    output,
                    validator=validator,
                    suppression=check,
                    split=split,
                    resume=resume,
                    chunk_rows=chunk_rows,
                    on_progress=bar,
                )
            except KeyboardInterrupt:
                err.print("[yellow]interrupted:[/] run the same command with --resume to continue.")
                raise typer.Exit(130) from None
    seconds = time.monotonic() - started
    result = {**asdict(summary), "seconds": round(seconds, 3)}
    if as_json:
        typer.echo(json.dumps(result))
        return
    typer.echo(
        f"{summary.rows:,} rows ({summary.email_column!r}): {summary.valid:,} valid, {summary.invalid:,} invalid, "
        f"{summary.risky:,} risky, {summary.unknown:,} unknown in {seconds:.1f} s → {output}"
    )


def register(root: typer.Typer) -> None:
    root.command("validate")(validate_command)
