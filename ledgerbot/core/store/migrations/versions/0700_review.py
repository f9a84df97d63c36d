"""review app: users, sessions, login attempts, queue, corrections, approvals, decisions

Revision ID: 0700
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ledgerbot.core.store.models import ExactDecimal, UTCDateTime

revision = "0700"
down_revision = "0001"
branch_labels = ("review",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "review_users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "review_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("review_users.id"), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_sessions_user_id", "review_sessions", ["user_id"])
    op.create_table(
        "review_login_attempts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
    )
    # Throttling counts recent failures per user name and per client address.
    op.create_index("ix_review_login_attempts_user_at", "review_login_attempts", ["username", "at"])
    op.create_index("ix_review_login_attempts_client_at", "review_login_attempts", ["client", "at"])
    op.create_table(
        "review_queue",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("vendor_id", sa.String(50), nullable=True),
        sa.Column("vendor_name", sa.String(300), nullable=False),
        sa.Column("invoice_number", sa.String(100), nullable=True),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("total", ExactDecimal(), nullable=True),
        sa.Column("total_key", sa.BigInteger(), nullable=True),
        sa.Column("primary_reason", sa.String(50), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.Column("assignee", sa.String(100), nullable=True),
        sa.Column("awaiting_second_approval", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_review_queue_received", "review_queue", ["received_at", "document_id"])
    op.create_index("ix_review_queue_total", "review_queue", ["total_key", "document_id"])
    op.create_index("ix_review_queue_vendor", "review_queue", ["vendor_name", "document_id"])
    op.create_index(
        "ix_review_queue_reason", "review_queue", ["primary_reason", "received_at", "document_id"]
    )
    op.create_index("ix_review_queue_assignee", "review_queue", ["assignee", "received_at", "document_id"])
    op.create_table(
        "review_sync",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "review_corrections",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("vendor_id", sa.String(50), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("target", sa.String(100), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=True),
        sa.Column("box", sa.JSON(), nullable=True),
        sa.Column("extraction_id", sa.Integer(), sa.ForeignKey("extractions.id"), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_corrections_document_id", "review_corrections", ["document_id"])
    op.create_index("ix_review_corrections_vendor_id", "review_corrections", ["vendor_id"])
    op.create_table(
        "review_approvals",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("username", sa.String(100), nullable=False),
        sa.Column("extraction_id", sa.Integer(), nullable=True),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_review_approvals_document_id", "review_approvals", ["document_id"])
    op.create_table(
        "review_decisions",
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), primary_key=True),
        sa.Column("extraction_id", sa.Integer(), nullable=True),
        sa.Column("decision", sa.JSON(), nullable=False),
        sa.Column("at", UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "review_decisions",
        "review_approvals",
        "review_corrections",
        "review_sync",
        "review_queue",
        "review_login_attempts",
        "review_sessions",
        "review_users",
    ):
        op.drop_table(table)
