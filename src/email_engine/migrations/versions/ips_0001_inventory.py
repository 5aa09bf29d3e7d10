"""IPs: pools, sending IPs, sending domains, lifecycle history, actuations.

Revision ID: ips_0001
Revises: core_0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from email_engine.db import BigIntPK, UTCDateTime

revision: str = "ips_0001"
down_revision: str | None = "core_0001"
branch_labels: str | Sequence[str] | None = ("ips",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ip_pool",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_pool")),
        sa.UniqueConstraint("name", name=op.f("uq_ip_pool_name")),
    )
    op.create_table(
        "sending_ip",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("address", sa.String(45), nullable=False),
        sa.Column("hostname", sa.String(253), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("pool_id", BigIntPK, nullable=True),
        sa.Column("vmta_name", sa.String(64), nullable=False),
        sa.Column("mailwizz_server_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["ip_pool.id"], name=op.f("fk_sending_ip_pool_id_ip_pool"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sending_ip")),
        sa.UniqueConstraint("address", name=op.f("uq_sending_ip_address")),
        sa.UniqueConstraint("vmta_name", name=op.f("uq_sending_ip_vmta_name")),
        sa.UniqueConstraint("mailwizz_server_id", name=op.f("uq_sending_ip_mailwizz_server_id")),
    )
    op.create_index(op.f("ix_sending_ip_pool_id"), "sending_ip", ["pool_id"])
    op.create_index(op.f("ix_sending_ip_purpose"), "sending_ip", ["purpose"])
    op.create_index(op.f("ix_sending_ip_state"), "sending_ip", ["state"])
    op.create_table(
        "sending_domain",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("name", sa.String(253), nullable=False),
        sa.Column("dkim_selector", sa.String(63), nullable=True),
        sa.Column("bounce_domain", sa.String(253), nullable=True),
        sa.Column("tracking_domain", sa.String(253), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sending_domain")),
        sa.UniqueConstraint("name", name=op.f("uq_sending_domain_name")),
    )
    op.create_table(
        "ip_transition",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("ip_id", BigIntPK, nullable=False),
        sa.Column("from_state", sa.String(16), nullable=True),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("forced", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ip_id"], ["sending_ip.id"], name=op.f("fk_ip_transition_ip_id_sending_ip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ip_transition")),
    )
    op.create_index(op.f("ix_ip_transition_ip_id"), "ip_transition", ["ip_id"])
    op.create_index(op.f("ix_ip_transition_at"), "ip_transition", ["at"])
    op.create_table(
        "actuation",
        sa.Column("id", BigIntPK, primary_key=True),
        sa.Column("ip_id", BigIntPK, nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("desired", sa.JSON(), nullable=False),
        sa.Column("applied", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("applied_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ip_id"], ["sending_ip.id"], name=op.f("fk_actuation_ip_id_sending_ip"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_actuation")),
    )
    op.create_index(op.f("ix_actuation_ip_id"), "actuation", ["ip_id"])
    op.create_index(op.f("ix_actuation_status"), "actuation", ["status"])


def downgrade() -> None:
    op.drop_table("actuation")
    op.drop_table("ip_transition")
    op.drop_table("sending_domain")
    op.drop_table("sending_ip")
    op.drop_table("ip_pool")
