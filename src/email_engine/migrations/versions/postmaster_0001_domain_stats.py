"""Postmaster Tools: Gmail's daily statistics per domain and the latest compliance status.

Revision ID: postmaster_0001
Revises: core_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "postmaster_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("postmaster",)
depends_on: str | Sequence[str] | None = None

RATES = (
    "spam_rate",
    "dkim_success_rate",
    "spf_success_rate",
    "dmarc_success_rate",
    "tls_inbound_rate",
    "delivery_error_rate",
    "delivery_reject_rate",
    "delivery_temp_fail_rate",
    "fbl_spam_rate",
)


def upgrade() -> None:
    op.create_table(
        "postmaster_domain_day",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(sa.Column(name, sa.Float(), nullable=True) for name in RATES),
        sa.Column("extra", sa.JSON(), nullable=False),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmaster_domain_day")),
        sa.UniqueConstraint("domain", "day", name=op.f("uq_postmaster_domain_day_domain_day")),
    )
    op.create_index(op.f("ix_postmaster_domain_day_domain"), "postmaster_domain_day", ["domain"])
    op.create_index(op.f("ix_postmaster_domain_day_day"), "postmaster_domain_day", ["day"])
    op.create_table(
        "postmaster_compliance",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("requirements", sa.JSON(), nullable=False),
        sa.Column("one_click_unsubscribe", sa.String(32), nullable=True),
        sa.Column("honor_unsubscribe", sa.String(32), nullable=True),
        sa.Column("compliant", sa.Boolean(), nullable=True),
        sa.Column("fetched_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postmaster_compliance")),
        sa.UniqueConstraint("domain", name=op.f("uq_postmaster_compliance_domain")),
    )


def downgrade() -> None:
    op.drop_table("postmaster_compliance")
    op.drop_table("postmaster_domain_day")
