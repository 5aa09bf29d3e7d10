"""Reputation: DNSBL listing history, last check per target, operator settings, DNS-auth results.

Revision ID: reputation_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "reputation_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("reputation",)
depends_on: str | Sequence[str] | None = ("ips_0001",)


def upgrade() -> None:
    op.create_table(
        "dnsbl_listing",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("target", sa.String(253), nullable=False),
        sa.Column("zone", sa.String(253), nullable=False),
        sa.Column("major", sa.Boolean(), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("meaning", sa.Text(), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("delisted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnsbl_listing")),
    )
    op.create_index("ix_dnsbl_listing_target_zone", "dnsbl_listing", ["target", "zone"])
    op.create_index(
        "uq_dnsbl_listing_open",
        "dnsbl_listing",
        ["target", "zone"],
        unique=True,
        postgresql_where=sa.text("delisted_at IS NULL"),
        sqlite_where=sa.text("delisted_at IS NULL"),
    )
    op.create_index(op.f("ix_dnsbl_listing_first_seen_at"), "dnsbl_listing", ["first_seen_at"])
    op.create_index(op.f("ix_dnsbl_listing_delisted_at"), "dnsbl_listing", ["delisted_at"])
    op.create_table(
        "dnsbl_check",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("target", sa.String(253), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("listed", sa.Boolean(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dnsbl_check")),
        sa.UniqueConstraint("target", name=op.f("uq_dnsbl_check_target")),
    )
    op.create_table(
        "reputation_setting",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reputation_setting")),
        sa.UniqueConstraint("key", name=op.f("uq_reputation_setting_key")),
    )
    op.create_table(
        "dns_auth_check",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("domain_id", BigIntPK, nullable=False),
        sa.Column("domain", sa.String(253), nullable=False),
        sa.Column("checked_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("compliance", sa.String(32), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["sending_domain.id"],
            name=op.f("fk_dns_auth_check_domain_id_sending_domain"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dns_auth_check")),
        sa.UniqueConstraint("domain_id", name=op.f("uq_dns_auth_check_domain_id")),
    )


def downgrade() -> None:
    op.drop_table("dns_auth_check")
    op.drop_table("reputation_setting")
    op.drop_table("dnsbl_check")
    op.drop_index("uq_dnsbl_listing_open", table_name="dnsbl_listing")
    op.drop_index("ix_dnsbl_listing_target_zone", table_name="dnsbl_listing")
    op.drop_table("dnsbl_listing")
