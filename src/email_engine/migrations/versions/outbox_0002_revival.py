"""Outbox: why an event is dead, and how often it was revived automatically.

Revision ID: outbox_0002
Revises: outbox_0001
Create Date: 2026-12-05
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "outbox_0002"
down_revision: str | None = "outbox_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch:
        batch.add_column(sa.Column("dead_cause", sa.String(16), nullable=True))
        batch.add_column(sa.Column("revivals", sa.Integer(), nullable=False, server_default="0"))
    # Events that died before this revision ran out of attempts unless the peer refused them.
    op.execute("UPDATE outbox_event SET dead_cause = 'exhausted' WHERE status = 'dead'")


def downgrade() -> None:
    with op.batch_alter_table("outbox_event") as batch:
        batch.drop_column("revivals")
        batch.drop_column("dead_cause")
