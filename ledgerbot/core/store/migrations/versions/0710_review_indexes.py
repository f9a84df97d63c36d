"""review queue: the version counter that page and count caches are keyed on

Revision ID: 0710
Revises: 0700
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0710"
down_revision = "0700"
branch_labels = None
depends_on = None

VERSION_MARK = "queue_version"


def upgrade() -> None:
    # Created here, once, so that every change to the queue is a plain UPDATE of one row and
    # concurrent writers never race to insert it.
    marks = sa.table("review_sync", sa.column("name", sa.String), sa.column("value", sa.BigInteger))
    op.bulk_insert(marks, [{"name": VERSION_MARK, "value": 0}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM review_sync WHERE name = :name").bindparams(name=VERSION_MARK))
