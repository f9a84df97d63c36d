"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22 04:39:23.873018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import ledgerbot.core.store.models

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=False),
        sa.Column("filename", sa.String(length=500), nullable=False),
        sa.Column("mime", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("doc_type", sa.String(length=30), nullable=True),
        sa.Column("doc_type_confidence", sa.Float(), nullable=True),
        sa.Column("vendor_id", sa.String(length=50), nullable=True),
        sa.Column("duplicate_of", sa.Integer(), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("received_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["duplicate_of"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_documents_sha256"), ["sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_state"), ["state"], unique=False)
        batch_op.create_index("ix_documents_state_received", ["state", "received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_documents_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "goods_receipts",
        sa.Column("receipt_number", sa.String(length=50), nullable=False),
        sa.Column("po_number", sa.String(length=50), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("updated_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("receipt_number"),
    )
    with op.batch_alter_table("goods_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goods_receipts_po_number"), ["po_number"], unique=False)

    op.create_table(
        "purchase_orders",
        sa.Column("po_number", sa.String(length=50), nullable=False),
        sa.Column("vendor_id", sa.String(length=50), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("order_date", sa.Date(), nullable=True),
        sa.Column("company", sa.String(length=50), nullable=True),
        sa.Column("updated_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("po_number"),
    )
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_purchase_orders_vendor_id"), ["vendor_id"], unique=False)

    op.create_table(
        "vendors",
        sa.Column("vendor_id", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("tax_id", sa.String(length=50), nullable=True),
        sa.Column("iban", sa.String(length=50), nullable=True),
        sa.Column("bic", sa.String(length=20), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("address", sa.JSON(), nullable=True),
        sa.Column("updated_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("vendor_id"),
    )
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vendors_iban"), ["iban"], unique=False)
        batch_op.create_index(batch_op.f("ix_vendors_tax_id"), ["tax_id"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("stage", sa.String(length=50), nullable=False),
        sa.Column("component", sa.String(length=200), nullable=True),
        sa.Column("component_version", sa.String(length=100), nullable=True),
        sa.Column("input_hash", sa.String(length=64), nullable=True),
        sa.Column("outcome", sa.String(length=50), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_document_id"), ["document_id"], unique=False)

    op.create_table(
        "exceptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_exceptions_code"), ["code"], unique=False)
        batch_op.create_index(batch_op.f("ix_exceptions_document_id"), ["document_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_exceptions_status"), ["status"], unique=False)

    op.create_table(
        "extractions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=200), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", ledgerbot.core.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("extractions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_extractions_document_id"), ["document_id"], unique=False)

    op.create_table(
        "po_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("po_number", sa.String(length=50), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("quantity", ledgerbot.core.store.models.ExactDecimal(), nullable=False),
        sa.Column("unit_price", ledgerbot.core.store.models.ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["po_number"],
            ["purchase_orders.po_number"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("po_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_po_lines_po_number"), ["po_number"], unique=False)

    op.create_table(
        "receipt_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("receipt_number", sa.String(length=50), nullable=False),
        sa.Column("po_line_no", sa.Integer(), nullable=False),
        sa.Column("quantity", ledgerbot.core.store.models.ExactDecimal(), nullable=False),
        sa.ForeignKeyConstraint(
            ["receipt_number"],
            ["goods_receipts.receipt_number"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("receipt_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipt_lines_receipt_number"), ["receipt_number"], unique=False)
    _audit_append_only()


_SQLITE_TRIGGERS = (
    "CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
    "CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events "
    "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END",
)
_PG_TRIGGERS = (
    """CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger AS $$
    BEGIN RAISE EXCEPTION 'audit_events is append-only'; END; $$ LANGUAGE plpgsql""",
    "CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE ON audit_events "
    "FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()",
)


def _audit_append_only() -> None:
    """The lineage is evidence: the database itself refuses to edit or delete it."""
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _PG_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_events_no_change ON audit_events")
        op.execute("DROP FUNCTION IF EXISTS audit_events_append_only()")
    with op.batch_alter_table("receipt_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipt_lines_receipt_number"))

    op.drop_table("receipt_lines")
    with op.batch_alter_table("po_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_po_lines_po_number"))

    op.drop_table("po_lines")
    with op.batch_alter_table("extractions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_extractions_document_id"))

    op.drop_table("extractions")
    with op.batch_alter_table("exceptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exceptions_status"))
        batch_op.drop_index(batch_op.f("ix_exceptions_document_id"))
        batch_op.drop_index(batch_op.f("ix_exceptions_code"))

    op.drop_table("exceptions")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_document_id"))

    op.drop_table("audit_events")
    with op.batch_alter_table("vendors", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendors_tax_id"))
        batch_op.drop_index(batch_op.f("ix_vendors_iban"))

    op.drop_table("vendors")
    with op.batch_alter_table("purchase_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_purchase_orders_vendor_id"))

    op.drop_table("purchase_orders")
    with op.batch_alter_table("goods_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goods_receipts_po_number"))

    op.drop_table("goods_receipts")
    with op.batch_alter_table("documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_documents_vendor_id"))
        batch_op.drop_index("ix_documents_state_received")
        batch_op.drop_index(batch_op.f("ix_documents_state"))
        batch_op.drop_index(batch_op.f("ix_documents_sha256"))

    op.drop_table("documents")
