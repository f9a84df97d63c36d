"""document claims: the process holding a document and until when

Revision ID: 1400
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ledgerbot.core.store.models

revision = "1400"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("claim_expires", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_column("claim_expires")
        batch_op.drop_column("claimed_by")
