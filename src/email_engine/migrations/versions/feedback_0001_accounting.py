"""Feedback: accounting records, dead letters, suppression list, hourly stat buckets.

Revision ID: feedback_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "feedback_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("feedback",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "accounting_record",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("record_key", sa.String(64), nullable=False),
        sa.Column("type", sa.String(4), nullable=False),
        sa.Column("time_logged", UTCDateTime(), nullable=False),
        sa.Column("time_queued", UTCDateTime(), nullable=True),
        sa.Column("rcpt", sa.String(320), nullable=False),
        sa.Column("rcpt_domain", sa.String(255), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("sender_domain", sa.String(255), nullable=True),
        sa.Column("vmta", sa.String(128), nullable=True),
        sa.Column("source_ip", sa.String(45), nullable=True),
        sa.Column("dsn_status", sa.String(32), nullable=True),
        sa.Column("dsn_diag", sa.String(1000), nullable=True),
        sa.Column("category", sa.String(32), nullable=True),
        sa.Column("bounce_type", sa.String(8), nullable=True),
        sa.Column("rule", sa.String(128), nullable=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounting_record")),
        sa.UniqueConstraint("record_key", name=op.f("uq_accounting_record_record_key")),
    )
    op.create_index("ix_accounting_record_time_logged", "accounting_record", ["time_logged"])
    op.create_table(
        "dead_letter",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.Column("line_number", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_dead_letter_dedupe_key")),
    )
    op.create_index(op.f("ix_dead_letter_created_at"), "dead_letter", ["created_at"])
    op.create_table(
        "suppression",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("note", sa.String(500), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suppression")),
        sa.UniqueConstraint("value", name=op.f("uq_suppression_value")),
    )
    op.create_index(op.f("ix_suppression_last_seen_at"), "suppression", ["last_seen_at"])
    op.create_table(
        "stat_bucket",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("dimension", sa.String(16), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("delivered", sa.Integer(), nullable=False),
        sa.Column("bounced", sa.Integer(), nullable=False),
        sa.Column("hard", sa.Integer(), nullable=False),
        sa.Column("soft", sa.Integer(), nullable=False),
        sa.Column("block", sa.Integer(), nullable=False),
        sa.Column("complaints", sa.Integer(), nullable=False),
        sa.Column("deferred", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stat_bucket")),
        sa.UniqueConstraint("hour", "dimension", "key", name="uq_stat_bucket_hour_dimension_key"),
    )
    op.create_index("ix_stat_bucket_dimension_hour", "stat_bucket", ["dimension", "hour"])


def downgrade() -> None:
    op.drop_table("stat_bucket")
    op.drop_table("suppression")
    op.drop_table("dead_letter")
    op.drop_table("accounting_record")
