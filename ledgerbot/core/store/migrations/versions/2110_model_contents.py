"""model registry: a template version's YAML kept with its registration, so a rollback restores it

Revision ID: 2110
Revises: 1850
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "2110"
down_revision = "1850"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions") as batch:
        batch.add_column(sa.Column("content", sa.Text(), nullable=True))


def downgrade() -> None:
    # A plain DROP COLUMN (SQLite 3.35+): the batch copy of the table would be refused by the
    # foreign keys of model_events and model_runs that point at it.
    op.drop_column("model_versions", "content")
