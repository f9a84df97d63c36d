"""mail intake: one row per part of each mail (stored, duplicate, skipped or failed), keyed on content

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbot.core.store.models import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_parts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("mailbox", sa.String(500), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(500), nullable=False),
        sa.Column("part", sa.String(1000), nullable=False),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("code", sa.String(10), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_mail_parts_mail", "mail_parts", ["mailbox", "uidvalidity", "uid"])


def downgrade() -> None:
    op.drop_index("ix_mail_parts_mail", table_name="mail_parts")
    op.drop_table("mail_parts")
