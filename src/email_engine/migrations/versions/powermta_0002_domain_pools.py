"""PowerMTA: which pools send for which sending domain (per-domain SPF).

Revision ID: powermta_0002
Revises: powermta_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "powermta_0002"
down_revision: str | None = "powermta_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("ips_0001",)


def upgrade() -> None:
    op.create_table(
        "sending_domain_pool",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("domain_id", BigIntPK, nullable=False),
        sa.Column("pool_id", BigIntPK, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["domain_id"],
            ["sending_domain.id"],
            name=op.f("fk_sending_domain_pool_domain_id_sending_domain"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"],
            ["ip_pool.id"],
            name=op.f("fk_sending_domain_pool_pool_id_ip_pool"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sending_domain_pool")),
        sa.UniqueConstraint("domain_id", "pool_id", name=op.f("uq_sending_domain_pool_domain_id_pool_id")),
    )
    op.create_index(op.f("ix_sending_domain_pool_pool_id"), "sending_domain_pool", ["pool_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sending_domain_pool_pool_id"), table_name="sending_domain_pool")
    op.drop_table("sending_domain_pool")
