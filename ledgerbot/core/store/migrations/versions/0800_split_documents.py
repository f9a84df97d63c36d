"""split documents: a document cut out of a file that held several, with its page range

Revision ID: 0800
Revises: 1410
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0800"
down_revision = "1410"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.add_column(sa.Column("split_from", sa.Integer(), nullable=True))
        table.add_column(sa.Column("page_first", sa.Integer(), nullable=True))
        table.add_column(sa.Column("page_last", sa.Integer(), nullable=True))
        table.create_foreign_key("fk_documents_split_from", "documents", ["split_from"], ["id"])
        table.create_index("ix_documents_split_from", ["split_from"])


def downgrade() -> None:
    with op.batch_alter_table("documents") as table:
        table.drop_index("ix_documents_split_from")
        table.drop_constraint("fk_documents_split_from", type_="foreignkey")
        table.drop_column("page_last")
        table.drop_column("page_first")
        table.drop_column("split_from")
