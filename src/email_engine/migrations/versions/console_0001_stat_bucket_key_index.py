"""Console: an index for one key's statistics over time (the warmup chart of an IP reads its days).

Without it, one IP's 30 days are found through ``(dimension, hour)``: every IP's buckets of those hours.

Revision ID: console_0001
Revises: core_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

from alembic import op

revision: str = "console_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("console",)
depends_on: str | Sequence[str] | None = ("feedback_0001",)


def upgrade() -> None:
    op.create_index(
        op.f("ix_stat_bucket_dimension_key_hour"), "stat_bucket", ["dimension", "key", "hour"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_stat_bucket_dimension_key_hour"), table_name="stat_bucket")
