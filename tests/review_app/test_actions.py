"""Review actions against the store on SQLite and PostgreSQL: four eyes, audit, queue upkeep."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ledgerbot.core.store import FileStore, Store
from ledgerbot.core.store.models import AuditEventRow, DocumentRow
from ledgerbot.core.store.review import ApprovalRow, QueueEntryRow, UserRow
from review_app import actions, queue
from review_app.actions import Correction
from review_app.security import SignedIn
from tests.review_app import factory

THRESHOLD = Decimal("10000")


def _user(store: Store, name: str) -> SignedIn:
    with store.session() as session:
        row = session.scalar(select(UserRow).where(UserRow.username == name))
        assert row is not None
        return SignedIn(user_id=row.id, username=row.username, role=row.role, csrf_token="-")


def _document(store: Store, files: FileStore, spec: factory.InvoiceSpec) -> int:
    with store.session() as session:
        if session.scalar(select(UserRow.id).limit(1)) is None:
            factory.users(session)
        return factory.exception_document(session, files, spec).id


def _approve(store: Store, user: SignedIn, document_id: int) -> actions.Result:
    with store.session() as session:
        return actions.approve(session, user, document_id, fallback_threshold=THRESHOLD)


def _state(store: Store, document_id: int) -> str:
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None
        return document.state


BIG = factory.InvoiceSpec(unit_price=Decimal("1000.00"))  # 11,900.00 EUR: above the policy's 10,000
SMALL = factory.InvoiceSpec(unit_price=Decimal("20.00"))  # 238.00 EUR


def test_small_invoice_needs_one_approver(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    result = _approve(store, _user(store, "alice"), document_id)
    assert result.message.endswith("approved")
    assert _state(store, document_id) == "approved"


def test_big_invoice_needs_two_distinct_approvers(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    alice, bob = _user(store, "alice"), _user(store, "bob")
    first = _approve(store, alice, document_id)
    assert "needs a second approver" in first.message
    assert _state(store, document_id) == "exception"
    with store.session() as session:
        entry = session.get(QueueEntryRow, document_id)
        assert entry is not None and entry.awaiting_second_approval
    with pytest.raises(actions.Conflict):
        _approve(store, alice, document_id)
    _approve(store, bob, document_id)
    assert _state(store, document_id) == "approved"
    with store.session() as session:
        events = session.scalars(
            select(AuditEventRow).where(
                AuditEventRow.document_id == document_id, AuditEventRow.stage == "review"
            )
        ).all()
        assert [(e.actor, e.detail["action"], e.to_state) for e in events] == [
            ("user:alice", "first_approval", "exception"),
            ("user:bob", "approve", "approved"),
        ]
        assert events[1].detail["approvers"] == ["alice", "bob"]
        assert session.get(QueueEntryRow, document_id) is None


def test_bank_details_changed_needs_two_people_whatever_the_amount(store: Store, files: FileStore) -> None:
    spec = factory.InvoiceSpec(
        unit_price=Decimal("20.00"),
        exceptions=[("BANK_DETAILS_CHANGED", "IBAN differs from the vendor master", {"vendor_id": "V001"})],
    )
    document_id = _document(store, files, spec)
    _approve(store, _user(store, "alice"), document_id)
    assert _state(store, document_id) == "exception"
    _approve(store, _user(store, "bob"), document_id)
    assert _state(store, document_id) == "approved"


def test_the_editor_cannot_approve_a_four_eyes_invoice(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    alice, bob = _user(store, "alice"), _user(store, "bob")
    with store.session() as session:
        actions.correct(session, alice, document_id, Correction(fields={"invoice_date": "2026-03-15"}))
    with pytest.raises(actions.NotAllowed, match="you edited"):
        _approve(store, alice, document_id)
    # The edit made alice one of the two people; bob, who did not edit, completes it alone.
    _approve(store, bob, document_id)
    assert _state(store, document_id) == "approved"


def test_an_approval_does_not_survive_a_later_edit(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, BIG)
    alice, bob, carol = _user(store, "alice"), _user(store, "bob"), _user(store, "carol")
    _approve(store, alice, document_id)
    with store.session() as session:
        actions.correct(session, carol, document_id, Correction(fields={"due_date": "2026-04-30"}))
    # carol edited after alice approved: alice's approval was of another reading, so bob's is the one
    # that counts, next to carol's edit.
    with store.session() as session:
        assert (
            session.scalar(select(ApprovalRow.extraction_id).where(ApprovalRow.username == "alice"))
            is not None
        )
    _approve(store, bob, document_id)
    assert _state(store, document_id) == "approved"


def test_clerk_cannot_approve(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with pytest.raises(actions.NotAllowed):
        _approve(store, _user(store, "carol"), document_id)


def test_doc_type_correction_updates_the_document_and_is_labelled(store: Store, files: FileStore) -> None:
    document_id = _document(store, files, SMALL)
    with store.session() as session:
        result = actions.correct(
            session, _user(store, "carol"), document_id, Correction(doc_type="credit_note")
        )
    assert "1 change" in result.message
    with store.session() as session:
        document = session.get(DocumentRow, document_id)
        assert document is not None and document.doc_type == "credit_note"
    with store.session() as session, pytest.raises(actions.InvalidValue):
        actions.correct(session, _user(store, "carol"), document_id, Correction(doc_type="poem"))


def test_sync_rebuilds_the_queue_from_the_audit_trail(store: Store, files: FileStore) -> None:
    first = _document(store, files, SMALL)
    second = _document(store, files, factory.InvoiceSpec(invoice_number="RE-2"))
    with store.session() as session:
        assert queue.sync(session) >= 2
        assert queue.sync(session) == 0  # nothing new
        page = queue.list_queue(session, queue.QueueFilter(sort="amount"))
        assert [e.document_id for e in page.entries] == [first, second]
        assert page.entries[0].total == Decimal("238.00")
