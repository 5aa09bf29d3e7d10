"""Alerts: state of each alert condition (dedup, reminders, resolution).

Revision ID: alerts_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "alerts_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("alerts",)
depends_on: str | Sequence[str] | None = ("outbox_0001",)


def upgrade() -> None:
    op.create_table(
        "alert_state",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("first_raised_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_notified_at", UTCDateTime(), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_state")),
        sa.UniqueConstraint("key", name=op.f("uq_alert_state_key")),
    )
    op.create_index(op.f("ix_alert_state_status"), "alert_state", ["status"])
    op.create_table(
        "alert_delivery",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("destination", sa.String(64), nullable=False),
        sa.Column("delivered_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_delivery")),
        sa.UniqueConstraint("event_id", "destination", name=op.f("uq_alert_delivery_event_id_destination")),
    )


def downgrade() -> None:
    op.drop_table("alert_delivery")
    op.drop_table("alert_state")
