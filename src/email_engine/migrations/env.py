from __future__ import annotations

from logging.config import fileConfig
from typing import Any

from alembic import command, context
from sqlalchemy import Connection

from email_engine.config import get_settings
from email_engine.db import Base, make_engine
from email_engine.feedback.partitions import is_partition
from email_engine.plugins import import_all_models

import_all_models()
if context.config.config_file_name is not None and context.config.cmd_opts is not None:
    fileConfig(context.config.config_file_name)  # the alembic command line with alembic.ini: its log lines
target_metadata = Base.metadata


def _guide_upgrade_head() -> dict[str, Any]:
    """``alembic upgrade head`` (the deployment guide's command, alembic.ini at the repository root).

    The schema has one branch per domain, so there are several heads and Alembic itself refuses "head"
    ("Multiple head revisions are present"). Given on the alembic command line, ``upgrade head`` means every
    head here, as ``email-engine db upgrade`` does. Other commands and targets are left to Alembic.
    """
    options = context.config.cmd_opts
    cmd = getattr(options, "cmd", None)
    if not cmd or cmd[0] is not command.upgrade or getattr(options, "revision", None) != "head":
        return {}
    script = context.script
    if len(script.get_heads()) <= 1:
        return {}
    return {"fn": lambda rev, _context: script._upgrade_revs("heads", rev)}


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Day partitions are made by the application, not by migrations; the model describes their parent."""
    if type_ == "table":
        return not (name and is_partition(name))
    if type_ == "index" and isinstance(parent_names, dict):
        return not is_partition(str(parent_names.get("table_name") or ""))
    return True


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch mode for ALTER
        compare_type=True,
        **_guide_upgrade_head(),
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    config = context.config
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # alembic.ini leaves the URL out: the settings (environment, then ./.env) give it, as for the app.
    url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


run_migrations_online()
