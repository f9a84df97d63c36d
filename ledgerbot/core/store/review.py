"""Tables of the review app: users, sessions, login attempts, the work queue, corrections, approvals.

They live in the store next to the core tables (migration ``0700_review``) so that one
backup and one transaction cover a clerk's action and the document change it causes.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ledgerbot.core.store.models import Base, utcnow

ROLES: tuple[str, ...] = ("clerk", "approver", "admin")


class UserRow(Base):
    __tablename__ = "review_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # How this person types numbers and dates (a CLDR locale such as de_DE); the app's default if unset.
    locale: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The largest total this person may approve; no limit if unset.
    approval_limit: Mapped[Decimal | None] = mapped_column(nullable=True)


class SessionRow(Base):
    """A signed-in browser: the cookie carries a random token, the table only its sha256."""

    __tablename__ = "review_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("review_users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    # Refreshed at most once a minute; a session idle longer than the idle timeout is over.
    last_seen_at: Mapped[datetime | None] = mapped_column(nullable=True)


class LoginAttemptRow(Base):
    __tablename__ = "review_login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    client: Mapped[str] = mapped_column(String(100))
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class QueueEntryRow(Base):
    """One document waiting for a person, denormalised so the queue page is one indexed query.

    Rebuilt from the core tables (documents, extractions, exceptions) whenever the audit trail
    shows the document moved; see ``review_app.queue.sync``.
    """

    __tablename__ = "review_queue"

    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    vendor_id: Mapped[str | None] = mapped_column(String(50), nullable=True)
    vendor_name: Mapped[str] = mapped_column(String(300), default="")
    invoice_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    currency: Mapped[str | None] = mapped_column(String(3), nullable=True)
    total: Mapped[Decimal | None] = mapped_column(nullable=True)
    # The total in ten-thousandths as an integer: SQLite keeps money as text, which sorts
    # lexically, so ordering by amount needs an exact numeric key next to the Decimal.
    total_key: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    primary_reason: Mapped[str] = mapped_column(String(50), default="")
    # ",CODE1,CODE2," so one reason filters with a LIKE that cannot match a code's prefix.
    reasons: Mapped[str] = mapped_column(Text, default=",")
    received_at: Mapped[datetime] = mapped_column()
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    awaiting_second_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the assignee last claimed or acted: a claim lapses after the claim timeout.
    claimed_at: Mapped[datetime | None] = mapped_column(nullable=True)


Index("ix_review_queue_received", QueueEntryRow.received_at, QueueEntryRow.document_id)
Index("ix_review_queue_total", QueueEntryRow.total_key, QueueEntryRow.document_id)
Index("ix_review_queue_vendor", QueueEntryRow.vendor_name, QueueEntryRow.document_id)
Index(
    "ix_review_queue_reason",
    QueueEntryRow.primary_reason,
    QueueEntryRow.received_at,
    QueueEntryRow.document_id,
)
Index(
    "ix_review_queue_assignee", QueueEntryRow.assignee, QueueEntryRow.received_at, QueueEntryRow.document_id
)


class SyncMarkRow(Base):
    """How far the queue has read the audit trail (the highest audit event id applied)."""

    __tablename__ = "review_sync"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class CorrectionRow(Base):
    """A labelled example: what the pipeline read, what a person says is right."""

    __tablename__ = "review_corrections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    vendor_id: Mapped[str | None] = mapped_column(String(50), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(20))  # field | line | doc_type | po_link
    target: Mapped[str] = mapped_column(String(100))  # field name, "line 3", "doc_type"
    old_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(JSON, nullable=True)
    # The page region the value was read from, when the extraction knew it; templates need it.
    box: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    extraction_id: Mapped[int] = mapped_column(ForeignKey("extractions.id"))
    username: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ApprovalRow(Base):
    __tablename__ = "review_approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    username: Mapped[str] = mapped_column(String(100))
    # The extraction the approver looked at: an approval never carries over to later edits.
    extraction_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)


class CommentRow(Base):
    """A note a person leaves on a document for the next person (not part of any decision)."""

    __tablename__ = "review_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), index=True)
    username: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(default=utcnow)
