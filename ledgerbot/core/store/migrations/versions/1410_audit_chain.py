"""audit integrity: a hash chain over audit rows; REPLACE, UPSERT and TRUNCATE refused

Revision ID: 1410
Revises: 1400
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "1410"
down_revision = "1400"
branch_labels = None
depends_on = None

# SQLite's REPLACE deletes the old row without firing delete triggers (unless the connection set
# recursive_triggers), so a BEFORE INSERT trigger refuses any insert of an id that exists; the
# same trigger stops INSERT .. ON CONFLICT DO UPDATE (the upsert) before it reaches the update.
_SQLITE = (
    "CREATE TRIGGER audit_events_no_replace BEFORE INSERT ON audit_events "
    "WHEN EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_chain_no_delete BEFORE DELETE ON audit_chain "
    "BEGIN SELECT RAISE(ABORT, 'the audit chain head cannot be deleted'); END",
)
_PG = (
    """CREATE OR REPLACE FUNCTION audit_events_no_overwrite() RETURNS trigger AS $$
    BEGIN
      IF EXISTS (SELECT 1 FROM audit_events WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'audit_events is append-only';
      END IF;
      RETURN NEW;
    END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_events_no_overwrite BEFORE INSERT ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_no_overwrite()",
    "CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
    "CREATE TRIGGER audit_chain_no_delete BEFORE DELETE OR TRUNCATE ON audit_chain "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only()",
)


def upgrade() -> None:
    from ledgerbot.core.store.audit_chain import backfill

    dialect = op.get_bind().dialect.name
    op.add_column("audit_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("audit_events", sa.Column("row_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=True),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # Rows written before the chain get chained once, with the no-update guard lifted for it.
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_events_no_update")
        backfill(op.get_bind())
        op.execute(
            "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
            "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"
        )
    else:
        op.execute("ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_change")
        backfill(op.get_bind())
        op.execute("ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_change")
    for statement in _SQLITE if dialect == "sqlite" else _PG:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_replace")
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_chain_no_delete ON audit_chain")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_overwrite ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_no_overwrite()")
    op.drop_table("audit_chain")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_column("row_hash")
        batch_op.drop_column("prev_hash")
