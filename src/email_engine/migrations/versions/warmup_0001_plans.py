"""Warmup: plans, daily decisions, failover events.

Revision ID: warmup_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "warmup_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("warmup",)
depends_on: str | Sequence[str] | None = ("ips_0001",)


def upgrade() -> None:
    op.create_table(
        "warmup_plan",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("ip_id", BigIntPK, nullable=False),
        sa.Column("preset", sa.String(32), nullable=True),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("provider_shares", sa.JSON(), nullable=False),
        sa.Column("active_hours", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("day_index", sa.Integer(), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("paused_at", UTCDateTime(), nullable=True),
        sa.Column("ended_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ip_id"], ["sending_ip.id"], name=op.f("fk_warmup_plan_ip_id_sending_ip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warmup_plan")),
    )
    op.create_index(op.f("ix_warmup_plan_ip_id"), "warmup_plan", ["ip_id"])
    op.create_index(op.f("ix_warmup_plan_status"), "warmup_plan", ["status"])
    op.create_table(
        "warmup_day",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("plan_id", BigIntPK, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("day_index", sa.Integer(), nullable=True),
        sa.Column("daily_limit", sa.Integer(), nullable=False),
        sa.Column("hourly_limit", sa.Integer(), nullable=False),
        sa.Column("provider_limits", sa.JSON(), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("gates", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=True),
        sa.Column("decided_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["warmup_plan.id"],
            name=op.f("fk_warmup_day_plan_id_warmup_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warmup_day")),
        sa.UniqueConstraint("plan_id", "day", name=op.f("uq_warmup_day_plan_id_day")),
    )
    op.create_index(op.f("ix_warmup_day_plan_id"), "warmup_day", ["plan_id"])
    op.create_table(
        "failover_event",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("ip_id", BigIntPK, nullable=False),
        sa.Column("standby_ip_id", BigIntPK, nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ip_id"], ["sending_ip.id"], name=op.f("fk_failover_event_ip_id_sending_ip"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["standby_ip_id"],
            ["sending_ip.id"],
            name=op.f("fk_failover_event_standby_ip_id_sending_ip"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failover_event")),
        sa.UniqueConstraint("ip_id", "day", "action", name=op.f("uq_failover_event_ip_id_day_action")),
    )
    op.create_index(op.f("ix_failover_event_ip_id"), "failover_event", ["ip_id"])
    op.create_index(op.f("ix_failover_event_at"), "failover_event", ["at"])


def downgrade() -> None:
    op.drop_table("failover_event")
    op.drop_table("warmup_day")
    op.drop_table("warmup_plan")
