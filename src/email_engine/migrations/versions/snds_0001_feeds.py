"""SNDS: per-IP daily data and the blocked ranges of the IP status feed.

Revision ID: snds_0001
Revises: core_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "snds_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("snds",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "snds_ip_day",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("ip", sa.String(45), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("activity_start", sa.String(32), nullable=True),
        sa.Column("activity_end", sa.String(32), nullable=True),
        sa.Column("rcpt_commands", sa.Integer(), nullable=True),
        sa.Column("data_commands", sa.Integer(), nullable=True),
        sa.Column("message_recipients", sa.Integer(), nullable=True),
        sa.Column("filter_result", sa.String(8), nullable=True),
        sa.Column("complaint_rate", sa.Float(), nullable=True),
        sa.Column("complaint_below", sa.Boolean(), nullable=False),
        sa.Column("complaint_text", sa.String(32), nullable=True),
        sa.Column("trap_message_start", sa.String(32), nullable=True),
        sa.Column("trap_message_end", sa.String(32), nullable=True),
        sa.Column("trap_hits", sa.Integer(), nullable=True),
        sa.Column("sample_helo", sa.String(255), nullable=True),
        sa.Column("jmr_p1_sender", sa.String(255), nullable=True),
        sa.Column("comments", sa.Text(), nullable=True),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snds_ip_day")),
        sa.UniqueConstraint("ip", "day", name=op.f("uq_snds_ip_day_ip_day")),
    )
    op.create_index(op.f("ix_snds_ip_day_ip"), "snds_ip_day", ["ip"])
    op.create_index(op.f("ix_snds_ip_day_day"), "snds_ip_day", ["day"])
    op.create_table(
        "snds_block",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("first_ip", sa.String(45), nullable=False),
        sa.Column("last_ip", sa.String(45), nullable=False),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_snds_block")),
    )


def downgrade() -> None:
    op.drop_table("snds_block")
    op.drop_table("snds_ip_day")
