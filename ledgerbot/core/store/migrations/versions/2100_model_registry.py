"""model registry: model versions with states, their audited state changes, shadow and canary runs

Revision ID: 2100
Revises: 0800
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ledgerbot.core.store.models

revision = "2100"
down_revision = "0800"
branch_labels = None
depends_on = None


def upgrade() -> None:
    when = ledgerbot.core.store.models.UTCDateTime(timezone=True)
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root", sa.String(length=500), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("data_sha256", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("registered_at", when, nullable=False),
        sa.Column("updated_at", when, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("root", "name", "version", name="uq_model_versions_ref"),
    )
    op.create_index("ix_model_versions_state", "model_versions", ["state"])
    op.create_table(
        "model_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_events_model_id", "model_events", ["model_id"])
    op.create_table(
        "model_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("model_id", sa.Integer(), sa.ForeignKey("model_versions.id"), nullable=False),
        sa.Column("document_id", sa.Integer(), sa.ForeignKey("documents.id"), nullable=False),
        sa.Column("arm", sa.String(length=10), nullable=False),
        sa.Column("active_ref", sa.String(length=200), nullable=True),
        sa.Column("vendor_id", sa.String(length=50), nullable=True),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("active_outputs", sa.JSON(), nullable=False),
        sa.Column("exception", sa.Boolean(), nullable=False),
        sa.Column("at", when, nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_runs_document_id", "model_runs", ["document_id"])
    op.create_index("ix_model_runs_model_arm", "model_runs", ["model_id", "arm"])


def downgrade() -> None:
    op.drop_table("model_runs")
    op.drop_table("model_events")
    op.drop_index("ix_model_versions_state", table_name="model_versions")
    op.drop_table("model_versions")
