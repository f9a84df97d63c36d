"""split corrections: a person's corrected split of a file, kept as the splitter's training data

Revision ID: 1800
Revises: 2100
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbot.core.store.models import UTCDateTime

revision = "1800"
down_revision = "2100"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "split_corrections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("replaced", sa.JSON(), nullable=False),
        sa.Column("created", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_split_corrections_document_id", "split_corrections", ["document_id"])
    op.create_index("ix_split_corrections_sha256", "split_corrections", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_split_corrections_sha256", table_name="split_corrections")
    op.drop_index("ix_split_corrections_document_id", table_name="split_corrections")
    op.drop_table("split_corrections")
