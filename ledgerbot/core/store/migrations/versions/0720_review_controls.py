"""review controls: user locale and approval limit, idle sessions, claim times, comments

Revision ID: 0720
Revises: 0710
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbot.core.store.models import ExactDecimal, UTCDateTime

revision = "0720"
down_revision = "0710"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("review_users") as table:
        table.add_column(sa.Column("locale", sa.String(20), nullable=True))
        table.add_column(sa.Column("approval_limit", ExactDecimal(), nullable=True))
    with op.batch_alter_table("review_sessions") as table:
        table.add_column(sa.Column("last_seen_at", UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("review_queue") as table:
        table.add_column(sa.Column("claimed_at", UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        "review_comments",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_comments_document_id", "review_comments", ["document_id"])


def downgrade() -> None:
    op.drop_index("ix_review_comments_document_id", table_name="review_comments")
    op.drop_table("review_comments")
    with op.batch_alter_table("review_queue") as table:
        table.drop_column("claimed_at")
    with op.batch_alter_table("review_sessions") as table:
        table.drop_column("last_seen_at")
    with op.batch_alter_table("review_users") as table:
        table.drop_column("approval_limit")
        table.drop_column("locale")
