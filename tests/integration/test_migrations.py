"""The migrations, not the models, create the schema: they must agree exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine

from email_engine.db import Base
from email_engine.feedback.partitions import is_partition


def test_migrations_match_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": False,
                # Day partitions (accounting_record_pYYYYMMDD…) are made by the application; the model is their parent.
                "include_name": lambda name, type_, parents: (
                    not (is_partition(name or "") or is_partition(str(parents.get("table_name") or "")))
                ),
            },
        )
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], f"models and migrations differ: {differences}"
