"""Validation: bulk validation jobs.

Revision ID: validation_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "validation_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("validation",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "validation_job",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("public_id", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("email_column", sa.String(255), nullable=False),
        sa.Column("split", sa.Boolean(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("bytes_processed", sa.BigInteger(), nullable=False),
        sa.Column("rows_processed", sa.Integer(), nullable=False),
        sa.Column("valid", sa.Integer(), nullable=False),
        sa.Column("invalid", sa.Integer(), nullable=False),
        sa.Column("risky", sa.Integer(), nullable=False),
        sa.Column("unknown", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=True),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("claimed_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_job")),
        sa.UniqueConstraint("public_id", name=op.f("uq_validation_job_public_id")),
    )
    op.create_index(op.f("ix_validation_job_status"), "validation_job", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_validation_job_status"), table_name="validation_job")
    op.drop_table("validation_job")
