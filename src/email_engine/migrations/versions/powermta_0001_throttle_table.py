"""PowerMTA: operator-edited throttle and backoff tables.

Revision ID: powermta_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "powermta_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("powermta",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pmta_throttle_table",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pmta_throttle_table")),
        sa.UniqueConstraint("name", name=op.f("uq_pmta_throttle_table_name")),
    )


def downgrade() -> None:
    op.drop_table("pmta_throttle_table")
