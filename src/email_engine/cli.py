"""The ``email-engine`` command. Each domain adds its own commands through ``<domain>/cli.py``."""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from email_engine import __version__
from email_engine.config import check_secrets, generate_secret, get_settings
from email_engine.errors import EmailEngineError
from email_engine.plugins import domain_modules

app = typer.Typer(
    name="email-engine",
    help="Deliverability control plane for PowerMTA + MailWizz senders. Settings come from the "
    "environment and ./.env (see README, 'Configuration').",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
secrets_app = typer.Typer(help="Generate secrets for .env.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(secrets_app, name="secrets")

err = Console(stderr=True)


def version_callback(value: bool) -> None:
    if value:
        typer.echo(f"email-engine {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    _version: Annotated[
        bool, typer.Option("--version", callback=version_callback, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """Email Engine command line."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to bind; keep 127.0.0.1 behind nginx.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (share Redis for limits).")
    ] = 1,
    migrate: Annotated[bool, typer.Option(help="Apply database migrations before serving.")] = True,
) -> None:
    """Run the HTTP API (uvicorn). Production runs it under gunicorn (deploy/)."""
    import uvicorn

    settings = get_settings()
    for warning in check_secrets(settings):
        err.print(f"[yellow]warning:[/] {warning}")
    if settings.environment == "production" and settings.is_sqlite:
        err.print(
            "[yellow]warning:[/] ENVIRONMENT=production on SQLite: fine for a trial, but production runs "
            "PostgreSQL (DATABASE_URL=postgresql://…); `email-engine preflight` says NO-GO until then."
        )
    if migrate:
        from email_engine.migrate import upgrade_database

        upgrade_database(settings.database_url)
    shown = f"[{host}]" if ":" in host else host
    err.print(f"console: http://{shown}:{port}/ui/  ·  API docs: http://{shown}:{port}/docs")
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Metrics from every worker are merged through files in this directory.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="email-engine-metrics-")
    uvicorn.run(
        "email_engine.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; default every head.")] = "heads",
) -> None:
    """Create or update the schema to the latest version."""
    from email_engine.migrate import upgrade_database

    settings = get_settings()
    upgrade_database(settings.database_url, revision)
    typer.echo(f"database upgraded to {revision}")


@secrets_app.command("rotate")
def secrets_rotate() -> None:
    """Print fresh API_KEY (64 characters) and JWT_SECRET_KEY (128) lines to paste into .env.

    Rotating JWT_SECRET_KEY logs every user out; rotating API_KEY breaks callers that use the old one.
    """
    typer.echo(f"API_KEY={generate_secret(64)}")
    typer.echo(f"JWT_SECRET_KEY={generate_secret(128)}")


@app.command()
def init(
    env_file: Annotated[
        Path, typer.Option(help="Where to write settings when the file does not exist.")
    ] = Path(".env"),
    admin_email: Annotated[str, typer.Option(help="Login email of the first admin.")] = "admin@example.com",
) -> None:
    """First run on this machine: write .env with fresh secrets (if absent), migrate, create a first admin.

    Safe to run again: an existing .env and existing users are left alone.
    """
    import secrets as random_secrets

    from email_engine.auth import service as auth_service
    from email_engine.auth.roles import Role
    from email_engine.cli_support import cli_session
    from email_engine.clock import utcnow
    from email_engine.migrate import upgrade_database

    if not env_file.exists():
        Path("var").mkdir(exist_ok=True)
        env_file.write_text(
            "# Written by `email-engine init`; see README 'Configuration'.\n"
            "ENVIRONMENT=development\n"
            f"API_KEY={generate_secret()}\n"
            f"JWT_SECRET_KEY={generate_secret(128)}\n"
            "DATABASE_URL=sqlite:///./var/email-engine.db\n"
        )
        env_file.chmod(0o600)
        typer.echo(f"wrote {env_file} with fresh secrets (mode 0600)")
        get_settings.cache_clear()
    settings = get_settings()
    upgrade_database(settings.database_url)
    typer.echo("database schema is up to date")
    with cli_session() as (_ctx, session):
        if auth_service.list_users(session):
            typer.echo(
                "users exist already; no admin created\n"
                "console: http://127.0.0.1:8000/ui/ (log in with your account; "
                "`email-engine users set-password USER` if it is lost)"
            )
            return
        password = random_secrets.token_urlsafe(18)
        auth_service.create_user(
            session, email=admin_email, username="admin", password=password, role=Role.ADMIN, now=utcnow()
        )
    typer.echo(
        f"created admin {admin_email} with password {password}\n"
        f"console: http://127.0.0.1:8000/ui/ (log in with Email {admin_email} and that password)\n"
        "API: curl -s -X POST http://127.0.0.1:8000/api/v1/auth/login -H 'Content-Type: application/json' "
        f'-d \'{{"email": "{admin_email}", "password": "{password}"}}\'\n'
        "or use the API_KEY from .env as the X-API-Key header. API docs: http://127.0.0.1:8000/docs"
    )


def _flags_without_a_type() -> None:
    """Typer 0.29 prints ``<bool>`` beside every flag (--json, --force, --help) as if it took a value; a flag
    takes none, so its type column stays empty (tests/unit/test_cli_help.py renders every command's help)."""
    from typer.core import TyperOption

    shown = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag and not self.count else shown(self, ctx)

    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_flags_without_a_type()


def _register_domains() -> None:
    for module in domain_modules("cli"):
        module.register(app)


def main() -> None:
    from pydantic import ValidationError

    from email_engine.logging import configure_logging

    # Logs go to stderr so --json output on stdout stays machine-readable. Settings that do not build
    # (production refuses weak secrets) are reported by the command that needs them: `secrets rotate`
    # must still run.
    with suppress(ValidationError):
        configure_logging(get_settings())
    _register_domains()
    from sqlalchemy.exc import OperationalError, ProgrammingError

    try:
        app()
    except ValidationError as exc:
        err.print(f"[red]error:[/] {escape(str(exc))}", highlight=False)
        raise SystemExit(2) from exc
    except EmailEngineError as exc:
        err.print(f"[red]error:[/] {exc.detail}")
        raise SystemExit(2) from exc
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig).lower()
        if "no such table" in text or "does not exist" in text:
            err.print(
                "[red]error:[/] the database schema is missing or out of date; run `email-engine db upgrade`."
            )
        else:
            err.print(
                f"[red]error:[/] the database did not answer ({type(exc.orig).__name__}); check DATABASE_URL."
            )
        raise SystemExit(2) from exc
