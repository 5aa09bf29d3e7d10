"""Warmup: traffic holds (the list or the content is the cause), a plan's proven opening volume.

Revision ID: warmup_0002
Revises: warmup_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "warmup_0002"
down_revision: str | None = "warmup_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("warmup_plan", sa.Column("proven_volume", sa.Integer(), nullable=True))
    op.create_table(
        "traffic_hold",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("ip_id", BigIntPK, nullable=False),
        sa.Column("pool_id", sa.Integer(), nullable=True),
        sa.Column("cause", sa.String(16), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("opened_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("resolved_by", sa.String(128), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ip_id"], ["sending_ip.id"], name=op.f("fk_traffic_hold_ip_id_sending_ip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic_hold")),
    )
    op.create_index(op.f("ix_traffic_hold_ip_id"), "traffic_hold", ["ip_id"])
    op.create_index(op.f("ix_traffic_hold_pool_id"), "traffic_hold", ["pool_id"])
    op.create_index(op.f("ix_traffic_hold_resolved_at"), "traffic_hold", ["resolved_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_traffic_hold_resolved_at"), table_name="traffic_hold")
    op.drop_index(op.f("ix_traffic_hold_pool_id"), table_name="traffic_hold")
    op.drop_index(op.f("ix_traffic_hold_ip_id"), table_name="traffic_hold")
    op.drop_table("traffic_hold")
    op.drop_column("warmup_plan", "proven_volume")
