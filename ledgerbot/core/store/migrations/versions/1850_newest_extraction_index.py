"""extractions: one index on (document_id, id), so a document's newest reading is one index probe

Without it PostgreSQL may answer "the newest extraction of document N" (``max(id)`` for one
document, read by every document page and queue refresh) by walking the primary key backwards
and filtering, which reads most of the table for an old document whenever its statistics are
missing or stale. The composite index serves every lookup by document the old one served.

Revision ID: 1850
Revises: 1800
"""

from __future__ import annotations

from alembic import op

revision = "1850"
down_revision = "1800"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_extractions_document_newest", "extractions", ["document_id", "id"])
    op.drop_index("ix_extractions_document_id", table_name="extractions")


def downgrade() -> None:
    op.create_index("ix_extractions_document_id", "extractions", ["document_id"])
    op.drop_index("ix_extractions_document_newest", table_name="extractions")
