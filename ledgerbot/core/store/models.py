"""SQLAlchemy tables of the store; the same schema runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeEngine


def utcnow() -> datetime:
    return datetime.now(UTC)


class ExactDecimal(TypeDecorator[Decimal]):
    """Decimal that round-trips exactly: unscaled NUMERIC on PostgreSQL, text on SQLite.

    SQLite has no decimal type (NUMERIC there is a binary float), so money would pick up
    rounding noise; storing the canonical string keeps ``Decimal("100.00")`` as it was.
    """

    impl = Numeric
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(40))
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)) if not isinstance(value, Decimal) else value


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored and returned timezone-aware (UTC) on both databases."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Base(DeclarativeBase):
    type_annotation_map = {
        Decimal: ExactDecimal,
        datetime: UTCDateTime,
        date: Date,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class DocumentRow(Base):
    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    source: Mapped[str] = mapped_column(String(500))
    filename: Mapped[str] = mapped_column(String(500))
    mime: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    doc_type: Mapped[str | None] = mapped_column(String(30), nullable=True)
    doc_type_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    vendor_id: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    duplicate_of: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    # A file that held several documents: each document after the first points at the file's
    # first document (which keeps the file), and every part knows its pages (1-based, inclusive).
    split_from: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True, index=True)
    page_first: Mapped[int | None] = mapped_column(Integer, nullable=True)
    page_last: Mapped[int | None] = mapped_column(Integer, nullable=True)
    meta: Mapped[dict[str, Any]] = mapped_column("metadata", JSON, default=dict)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic lock: two workers moving the same document cannot both win.
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # The claim: the process running a stage on this document and until when its lease holds.
    # Written only by ``ledgerbot.core.claims`` with conditional UPDATEs, never through the ORM.
    claimed_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claim_expires: Mapped[datetime | None] = mapped_column(nullable=True)

    events: Mapped[list[AuditEventRow]] = relationship(
        back_populates="document", order_by="AuditEventRow.id", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}


class AuditEventRow(Base):
    """Append-only: database triggers refuse UPDATE, DELETE, REPLACE and UPSERT on this table."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(100))
    stage: Mapped[str] = mapped_column(String(50))
    component: Mapped[str | None] = mapped_column(String(200), nullable=True)
    component_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    input_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(50), default="ok")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    # The hash chain (``store.audit_chain``): the previous row's hash and this row's own.
    prev_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    row_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)

    document: Mapped[DocumentRow] = relationship(back_populates="events")


class AuditChainRow(Base):
    """The head of the audit hash chain: one row, locked by every append."""

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_event_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_hash: Mapped[str] = mapped_column(String(64))


class VendorRow(Base):
    __tablename__ = "vendors"

    vendor_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    tax_id: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    iban: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    bic: Mapped[str | None] = mapped_column(String(20), nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    address: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PurchaseOrderRow(Base):
    __tablename__ = "purchase_orders"

    po_number: Mapped[str] = mapped_column(String(50), primary_key=True)
    vendor_id: Mapped[str] = mapped_column(String(50), index=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    status: Mapped[str] = mapped_column(String(20), default="open")
    order_date: Mapped[date | None] = mapped_column(nullable=True)
    company: Mapped[str | None] = mapped_column(String(50), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[POLineRow]] = relationship(
        back_populates="order",
        order_by="POLineRow.line_no",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class POLineRow(Base):
    __tablename__ = "po_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    po_number: Mapped[str] = mapped_column(ForeignKey("purchase_orders.po_number"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    sku: Mapped[str | None] = mapped_column(String(100), nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[Decimal] = mapped_column()
    unit_price: Mapped[Decimal] = mapped_column()

    order: Mapped[PurchaseOrderRow] = relationship(back_populates="lines")


class GoodsReceiptRow(Base):
    __tablename__ = "goods_receipts"

    receipt_number: Mapped[str] = mapped_column(String(50), primary_key=True)
    po_number: Mapped[str] = mapped_column(String(50), index=True)
    date: Mapped[date] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    lines: Mapped[list[ReceiptLineRow]] = relationship(
        back_populates="receipt", cascade="all, delete-orphan", lazy="selectin"
    )


class ReceiptLineRow(Base):
    __tablename__ = "receipt_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    receipt_number: Mapped[str] = mapped_column(ForeignKey("goods_receipts.receipt_number"), index=True)
    po_line_no: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal] = mapped_column()

    receipt: Mapped[GoodsReceiptRow] = relationship(back_populates="lines")


class ExtractionRow(Base):
    """Every extraction result kept; the newest per document is the current one."""

    __tablename__ = "extractions"
    # A document's newest extraction (max id of the document) is one probe of this index.
    __table_args__ = (Index("ix_extractions_document_newest", "document_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"))
    method: Mapped[str | None] = mapped_column(String(200), nullable=True)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ExceptionRow(Base):
    __tablename__ = "exceptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    code: Mapped[str] = mapped_column(String(50), index=True)
    message: Mapped[str] = mapped_column(Text)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class SplitCorrectionRow(Base):
    """A person's word on where the documents of one file begin: the splitter's training data.

    Written in the same transaction as the documents it re-creates; ``before`` is the split
    that was replaced (as the splitter or an earlier correction left it), ``after`` the one
    the person gave (a confirmation has both equal). Page ranges are 1-based and inclusive.
    """

    __tablename__ = "split_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The file's first document, which every document cut out of it points at.
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the file's page count
    before: Mapped[list[Any]] = mapped_column(JSON)
    after: Mapped[list[Any]] = mapped_column(JSON)
    replaced: Mapped[list[Any]] = mapped_column(JSON)  # ids of the documents it rejected
    created: Mapped[list[Any]] = mapped_column(JSON)  # ids of the documents it opened
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RobotLockRow(Base):
    """A lease: one robot at a time per name (e.g. one posting robot per ERP account)."""

    __tablename__ = "robot_locks"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column()


class PostingRow(Base):
    """What the posting robot did in the target ERP for one document."""

    __tablename__ = "postings"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    erp_account: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="pending")  # pending | posted | error
    erp_doc_number: Mapped[str | None] = mapped_column(String(50), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    screenshot: Mapped[str | None] = mapped_column(String(500), nullable=True)
    found_existing: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    posted_at: Mapped[datetime | None] = mapped_column(nullable=True)


class DecisionRow(Base):
    """The newest rules-engine decision per document, kept for the side-by-side line view."""

    __tablename__ = "review_decisions"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    extraction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class MailPartRow(Base):
    """One part of one mail and what intake made of it: stored, a duplicate, skipped or failed.

    A mail is identified by its mailbox, UIDVALIDITY and UID (IMAP never reuses that triple for
    other content), a stored part by its sha256 within that mail: a re-run after a crash finds
    what it already took, and a failed or skipped part is never lost without a record.
    """

    __tablename__ = "mail_parts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(500))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(500))
    part: Mapped[str] = mapped_column(String(1000))
    filename: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    outcome: Mapped[str] = mapped_column(String(20))  # stored | duplicate | skipped | failed
    code: Mapped[str | None] = mapped_column(String(10), nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


Index("ix_mail_parts_mail", MailPartRow.mailbox, MailPartRow.uidvalidity, MailPartRow.uid)
Index("ix_documents_state_received", DocumentRow.state, DocumentRow.received_at)

# Every table of the store is mapped, and every audit row chained, whichever module first needs
# the models: the review app's and the registry's tables and the audit chain's hook live in their
# own modules, which build on this one (so they are imported at its end).
from ledgerbot.core.store import audit_chain as _audit_chain  # noqa: E402, F401
from ledgerbot.core.store import registry as _registry  # noqa: E402, F401
from ledgerbot.core.store import review as _review  # noqa: E402, F401
