"""DMARC: aggregate reports, their rows per source IP and day, refused inputs, source lookups.

Revision ID: dmarc_0001
Revises: core_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "dmarc_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("dmarc",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dmarc_report",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("report_key", sa.String(64), nullable=False),
        sa.Column("reporter", sa.String(255), nullable=False),
        sa.Column("reporter_email", sa.String(320), nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("policy_domain", sa.String(253), nullable=False),
        sa.Column("policy", sa.String(16), nullable=True),
        sa.Column("begin_at", UTCDateTime(), nullable=False),
        sa.Column("end_at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("imported_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_report")),
        sa.UniqueConstraint("report_key", name=op.f("uq_dmarc_report_report_key")),
    )
    op.create_index(op.f("ix_dmarc_report_reporter"), "dmarc_report", ["reporter"])
    op.create_index(op.f("ix_dmarc_report_policy_domain"), "dmarc_report", ["policy_domain"])
    op.create_index(op.f("ix_dmarc_report_day"), "dmarc_report", ["day"])
    op.create_table(
        "dmarc_record",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reporter", sa.String(255), nullable=False),
        sa.Column("source_ip", sa.String(45), nullable=False),
        sa.Column("header_from", sa.String(253), nullable=False),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("dkim_aligned", sa.Boolean(), nullable=False),
        sa.Column("spf_aligned", sa.Boolean(), nullable=False),
        sa.Column("dkim_result", sa.String(16), nullable=False),
        sa.Column("spf_result", sa.String(16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_record")),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["dmarc_report.id"],
            name=op.f("fk_dmarc_record_report_id_dmarc_report"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_dmarc_record_report_id"), "dmarc_record", ["report_id"])
    op.create_index("ix_dmarc_record_day_source_ip", "dmarc_record", ["day", "source_ip"])
    op.create_index("ix_dmarc_record_day_header_from", "dmarc_record", ["day", "header_from"])
    op.create_table(
        "dmarc_dead_letter",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_dead_letter")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_dmarc_dead_letter_dedupe_key")),
    )
    op.create_index(op.f("ix_dmarc_dead_letter_created_at"), "dmarc_dead_letter", ["created_at"])
    op.create_table(
        "dmarc_source",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("ptr", sa.String(253), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("classification", sa.String(16), nullable=False),
        sa.Column("matched", sa.String(253), nullable=True),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dmarc_source")),
        sa.UniqueConstraint("address", name=op.f("uq_dmarc_source_address")),
    )


def downgrade() -> None:
    op.drop_table("dmarc_source")
    op.drop_table("dmarc_dead_letter")
    op.drop_table("dmarc_record")
    op.drop_table("dmarc_report")
